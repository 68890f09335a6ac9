/** What a VirtualMachine spec means on its hypervisor: machine family, buses, displays, NIC models. */
package io.virtfleet.reconcilers.platform;
