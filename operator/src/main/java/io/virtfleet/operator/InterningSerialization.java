package io.virtfleet.operator;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.std.StringDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import java.io.IOException;

/**
 * The operator client's JSON mapping, with every short string value it reads interned ({@link String#intern}): the
 * informer caches hold one copy of each namespace, host name, condition type, status, reason and message, timestamp,
 * label and annotation value, instead of one per object. A watched VM and its Domain carry ~120 strings, most of them
 * the same text as in every other VM's (55 % of the operator's live heap at 2,000 VMs was strings); field names and
 * map keys Jackson interns already. Long text (domain XML, which the Domain cache drops anyway) is left alone.
 * Interned strings are collected like any other once nothing refers to them.
 */
final class InterningSerialization {
    /** Longer strings are rarely shared (XML, certificates, fingerprints): not worth a string-table entry. */
    static final int MAX_LENGTH = 256;

    private InterningSerialization() {
    }

    static KubernetesSerialization create() {
        ObjectMapper mapper = new ObjectMapper();
        mapper.registerModule(new SimpleModule("virtfleet-interning").addDeserializer(String.class, new Interning()));
        return new KubernetesSerialization(mapper, true);
    }

    static final class Interning extends StringDeserializer {
        @Override
        public String deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            String s = super.deserialize(p, ctxt);
            return s != null && s.length() <= MAX_LENGTH ? s.intern() : s;
        }
    }
}
