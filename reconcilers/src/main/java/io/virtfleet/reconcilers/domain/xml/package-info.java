/**
 * Jackson XML model of libvirt's domain XML: read back from libvirt's dumped (live or persistent) XML by the hot-plug
 * planner and the agent, and written by {@link io.virtfleet.reconcilers.domain.xml.DomainXmlWriter}. The renderer
 * writes its documents straight from the VirtualMachine with the same primitives
 * ({@link io.virtfleet.reconcilers.domain.xml.XmlBuffer}), so what it writes parses back into this model. Only what
 * virtfleet renders or needs to read back is modelled; parsing ignores every other element and attribute, so a newer
 * libvirt adding elements does not break the reader.
 *
 * <p>Field order is libvirt's own formatting order (virDomainDefFormat), so a rendered document reads like a dumped
 * one. Attributes that libvirt adds when it dumps (PCI {@code <address>}, generated {@code <alias>}, {@code id}) are
 * modelled so they can be read, and left null when rendering so libvirt allocates them.
 *
 * <p>A String, Integer or Long field is an XML attribute ({@link ModelAnnotations}, the convention every mapper of
 * the model uses); a scalar child element says so with {@code @JacksonXmlProperty(isAttribute = false)} (or a
 * {@code localName}), an element's text with {@code @JacksonXmlText}.
 */
package io.virtfleet.reconcilers.domain.xml;
