package io.virtfleet.reconcilers.render;

/** A rendered domain: the libvirt name and UUID it is defined under, and its XML. */
public record DomainXml(String name, String uuid, String xml) {
}
