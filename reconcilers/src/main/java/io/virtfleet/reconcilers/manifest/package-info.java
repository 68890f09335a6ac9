/**
 * Reading VirtualMachine manifests (multi-document YAML) into API objects, reporting every mapping problem as a field
 * error instead of failing on the first exception. Used by the CLI; the operator receives objects from the apiserver.
 */
package io.virtfleet.reconcilers.manifest;
