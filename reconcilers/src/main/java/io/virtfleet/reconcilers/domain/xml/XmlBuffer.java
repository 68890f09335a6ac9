package io.virtfleet.reconcilers.domain.xml;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * An indented domain XML document being written into a character buffer: the primitives both domain writers use —
 * {@link DomainXmlWriter} (a {@link DomainDef} model to text) and the renderer's streaming writer (a VirtualMachine
 * straight to text). The format is the one libvirt has been fed since the first renderer (Jackson XML over Woodstox
 * with {@code INDENT_OUTPUT}): two-space indentation, {@code "} around attribute values, empty elements as
 * {@code <x/>}, text content on the element's line, no XML declaration, a final newline.
 *
 * <p>Escaping: {@code & < >} in text, {@code & < "} in attribute values, and carriage returns (everywhere), tabs and
 * newlines (in attribute values) as character references, which attribute-value normalization would otherwise turn
 * into spaces when libvirt reads the document back. Characters XML 1.0 cannot represent at all (other C0 controls,
 * unpaired surrogates, U+FFFE/U+FFFF) are refused with an {@link IllegalArgumentException} naming the element or
 * attribute.
 *
 * <p>Not thread-safe; {@link #start()} hands each thread its own reused buffer, which {@link #close()} hands back.
 */
public final class XmlBuffer implements AutoCloseable {
    /** "\n" and the indentation of each depth, appended in one go. */
    private static final String[] NEWLINE_INDENT = new String[16];

    static {
        for (int i = 0; i < NEWLINE_INDENT.length; i++) {
            NEWLINE_INDENT[i] = "\n" + "  ".repeat(i);
        }
    }

    /**
     * One buffer per rendering thread, reused: a fresh 8 KiB array per document (allocated and zeroed) was a
     * measurable part of a render. Only the finished String escapes.
     */
    private static final ThreadLocal<XmlBuffer> BUFFER = ThreadLocal.withInitial(() -> new XmlBuffer(8192));
    private static final int MAX_KEPT_BUFFER = 64 * 1024;

    private byte[] buf;
    private int len;
    private int depth;
    /** This thread's reused buffer is between {@link #start()} and {@link #close()}. */
    private boolean inUse;

    private XmlBuffer(int capacity) {
        buf = new byte[capacity];
    }

    /** An empty document: this thread's reused buffer, or a new one while that one is being written. */
    public static XmlBuffer start() {
        XmlBuffer b = BUFFER.get();
        if (b.inUse) {
            return new XmlBuffer(8192);
        }
        b.inUse = true;
        b.len = 0;
        b.depth = 0;
        return b;
    }

    /** The document with its final newline. */
    public String finish() {
        append('\n');
        return new String(buf, 0, len, StandardCharsets.UTF_8);
    }

    /** Hands the buffer back to the thread (also after a writer failed half-way). */
    @Override
    public void close() {
        inUse = false;
        if (buf.length > MAX_KEPT_BUFFER && BUFFER.get() == this) {
            BUFFER.remove(); // an unusually large domain: do not keep its buffer for the thread's lifetime
        }
    }

    /**
     * Constant markup at a given depth, written once (by the same element functions, into its own buffer) and
     * copied into every document that has it.
     */
    public static final class Fragment {
        private final int depth;
        private final byte[] bytes;

        private Fragment(int depth, byte[] bytes) {
            this.depth = depth;
            this.bytes = bytes;
        }

        @Override
        public String toString() {
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    /**
     * The markup {@code body} writes at {@code depth}, each element starting on its own line as it would inside a
     * document.
     */
    public static Fragment fragment(int depth, Consumer<XmlBuffer> body) {
        XmlBuffer b = new XmlBuffer(1024);
        b.depth = depth;
        b.append('\0'); // not at the start of a document: the first element gets its newline and indentation
        body.accept(b);
        if (b.depth != depth) {
            throw new IllegalStateException("a fragment must close every element it opens");
        }
        return new Fragment(depth, Arrays.copyOfRange(b.buf, 1, b.len));
    }

    /** Appends a fragment; it must have been written for the current depth. */
    public void fragment(Fragment f) {
        if (f.depth != depth) {
            throw new IllegalStateException("fragment written for depth " + f.depth + " used at depth " + depth);
        }
        append(f.bytes);
    }

    // ---------------------------------------------------------------------------------------------- structure

    /** Newline and indentation (none before the root), then {@code <tag}. */
    public void open(String tag) {
        if (len > 0) {
            newline();
        }
        append('<').append(tag);
    }

    private void newline() {
        if (depth < NEWLINE_INDENT.length) {
            append(NEWLINE_INDENT[depth]);
        } else {
            append('\n');
            for (int i = 0; i < depth; i++) {
                append("  ");
            }
        }
    }

    /** Ends the start tag of an element that has child elements. */
    public void endStart() {
        append('>');
        depth++;
    }

    /** Ends the start tag of an element without content: {@code />}. */
    public void closeEmpty() {
        append("/>");
    }

    /** The end tag of an element with child elements, on its own line. */
    public void close(String tag) {
        depth--;
        newline();
        append("</").append(tag).append('>');
    }

    /** Ends the open start tag of {@code tag} with text content and the end tag on the same line. */
    public void content(String tag, String value) {
        if (value == null) {
            closeEmpty();
            return;
        }
        append('>');
        escape(value, false, tag);
        append("</").append(tag).append('>');
    }

    /** {@code <tag>value</tag>} when the value is set. */
    public void text(String tag, String value) {
        if (value != null) {
            textElement(tag, null, null, value);
        }
    }

    /** {@code <tag attr="a">value</tag>}, {@code <tag attr="a"/>} without a value. */
    public void textElement(String tag, String attrName, String attrValue, String value) {
        open(tag);
        if (attrName != null) {
            attr(attrName, attrValue);
        }
        content(tag, value);
    }

    /** {@code <tag attr="a">number</tag>}. */
    public void number(String tag, String attrName, String attrValue, long value) {
        open(tag);
        attr(attrName, attrValue);
        append('>').append(value).append("</").append(tag).append('>');
    }

    /** {@code <tag/>}. */
    public void empty(String tag) {
        open(tag);
        closeEmpty();
    }

    /** {@code <tag name="value"/>}: the usual one-attribute element. */
    public void emptyWith(String tag, String name, String value) {
        open(tag);
        attr(name, value);
        closeEmpty();
    }

    /** {@code <tag name="value" name2="value2"/>}; an attribute whose value is null is left out. */
    public void emptyWith(String tag, String name, String value, String name2, String value2) {
        open(tag);
        attr(name, value);
        attr(name2, value2);
        closeEmpty();
    }

    public void namespace(String prefix, String uri) {
        append(" xmlns:").append(prefix).append("=\"");
        escape(uri, true, "xmlns:" + prefix);
        append('"');
    }

    /** An attribute, when the value is set. */
    public void attr(String name, String value) {
        if (value != null) {
            append(' ').append(name).append("=\"");
            escape(value, true, name);
            append('"');
        }
    }

    /** An attribute, when the value is set. */
    public void attr(String name, Integer value) {
        if (value != null) {
            attr(name, value.intValue());
        }
    }

    public void attr(String name, int value) {
        append(' ').append(name).append("=\"").append(value).append('"');
    }

    // ---------------------------------------------------------------------------------------------- escaping

    /**
     * Appends {@code s} escaped, in UTF-8. The usual value is plain ASCII with nothing to escape: one pass that
     * stores each character as a byte; from the first character that is not, the rest goes through
     * {@link #escapeFrom}.
     */
    private void escape(String s, boolean attribute, String where) {
        int n = s.length();
        room(n);
        byte[] b = buf;
        int p = len;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            // Ordered for the usual character (a letter, digit, '/', '-' or '.'), not a table lookup.
            boolean plain;
            if (c > '>') {
                plain = c < 0x80;
            } else if (c >= 0x20) {
                plain = c != '&' && c != '<' && (attribute ? c != '"' : c != '>');
            } else {
                plain = !attribute && (c == '\n' || c == '\t');
            }
            if (!plain) {
                len = p;
                escapeFrom(s, i, attribute, where);
                return;
            }
            b[p++] = (byte) c;
        }
        len = p;
    }

    private void escapeFrom(String s, int from, boolean attribute, String where) {
        int n = s.length();
        for (int i = from; i < n; i++) {
            char c = s.charAt(i);
            if (c == '&') {
                append("&amp;");
            } else if (c == '<') {
                append("&lt;");
            } else if (c == '>' && !attribute) {
                append("&gt;");
            } else if (c == '"' && attribute) {
                append("&quot;");
            } else if (c == '\r') {
                append("&#xd;");
            } else if (c == '\n' && attribute) {
                append("&#xa;");
            } else if (c == '\t' && attribute) {
                append("&#x9;");
            } else if (c < 0x20 && c != '\n' && c != '\t') {
                throw illegal(c, where);
            } else if (c < 0x80) {
                append(c);
            } else if (c < 0x800) {
                room(2);
                buf[len++] = (byte) (0xC0 | c >> 6);
                buf[len++] = (byte) (0x80 | c & 0x3F);
            } else if (c < 0xD800) {
                utf8(c);
            } else if (!legalAbove(s, i, where)) {
                throw illegal(c, where);
            } else if (Character.isHighSurrogate(c)) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                room(4);
                buf[len++] = (byte) (0xF0 | cp >> 18);
                buf[len++] = (byte) (0x80 | cp >> 12 & 0x3F);
                buf[len++] = (byte) (0x80 | cp >> 6 & 0x3F);
                buf[len++] = (byte) (0x80 | cp & 0x3F);
            } else {
                utf8(c);
            }
        }
    }

    private void utf8(char c) {
        room(3);
        buf[len++] = (byte) (0xE0 | c >> 12);
        buf[len++] = (byte) (0x80 | c >> 6 & 0x3F);
        buf[len++] = (byte) (0x80 | c & 0x3F);
    }

    /** A character at or above U+D800 is legal: a complete surrogate pair, or a BMP character other than FFFE/FFFF. */
    private static boolean legalAbove(String s, int i, String where) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        if (Character.isLowSurrogate(c)) {
            return false;
        }
        return c != 0xFFFE && c != 0xFFFF;
    }

    private static IllegalArgumentException illegal(char c, String where) {
        return new IllegalArgumentException(String.format("%s: character U+%04X cannot be written in XML 1.0",
                where, (int) c));
    }

    // ------------------------------------------------------------------------------------------------ buffer
    // UTF-8 in a growable byte[]: a document is a few hundred small appends and a few constant fragments, and the
    // String is made once at the end — for the usual all-ASCII document a plain copy of the bytes (the JDK's UTF-8
    // decoder checks for non-ASCII bytes and copies), where a char[] had to be compacted.

    private void room(int n) {
        if (len + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
        }
    }

    private XmlBuffer append(char c) {
        room(1);
        buf[len++] = (byte) c;
        return this;
    }

    /**
     * Markup: tag and attribute names and the writer's own punctuation, all ASCII (never user text, which goes
     * through {@link #escape}). {@code String.getBytes(int, int, byte[], int)} copies the low byte of each char,
     * which for ASCII is its UTF-8 encoding, and for the JDK's one-byte strings is a plain array copy: a loop over
     * charAt was a sixth of a render.
     */
    @SuppressWarnings("deprecation")
    private XmlBuffer append(String ascii) {
        int n = ascii.length();
        room(n);
        ascii.getBytes(0, n, buf, len);
        len += n;
        return this;
    }

    private void append(byte[] bytes) {
        room(bytes.length);
        System.arraycopy(bytes, 0, buf, len, bytes.length);
        len += bytes.length;
    }

    /** Decimal digits straight into the buffer: Long.toString would build a String only to copy it. */
    private XmlBuffer append(long v) {
        if (v >= 0 && v < 10) {
            return append((char) ('0' + v));
        }
        if (v < 0) {
            return append(Long.toString(v));
        }
        int digits = 1;
        for (long x = v / 10; x != 0; x /= 10) {
            digits++;
        }
        room(digits);
        for (int p = len + digits - 1; p >= len; p--, v /= 10) {
            buf[p] = (byte) ('0' + v % 10);
        }
        len += digits;
        return this;
    }
}
