package io.virtfleet.agent.domain;

import io.virtfleet.agent.libvirt.InspectedDomain;
import io.virtfleet.reconcilers.domain.xml.DomainDocument;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks a Domain before the agent defines anything from it: the spec is complete, the XML carries virtfleet's
 * ownership mark for this host, its UUID is the spec's, and every host path it references is allowed. Pure apart from
 * resolving symlinks in {@link PathPolicy}.
 */
public final class DomainValidator {
    static final Pattern UUID_RE =
            Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    /** Where firmware ({@code <loader>}) may come from besides the allowed roots: the distributions' firmware dirs. */
    public static final List<String> FIRMWARE_ROOTS = List.of("/usr/share/OVMF", "/usr/share/AAVMF",
            "/usr/share/edk2", "/usr/share/qemu", "/usr/share/seabios", "/usr/share/ovmf", "/usr/lib/ipxe/qemu");
    /** Where {@code <nvram>} may live besides the allowed roots: libvirt's own NVRAM dir. */
    public static final List<String> NVRAM_ROOTS = List.of("/var/lib/libvirt/qemu/nvram");
    /** The only {@code <bootloader>} programs allowed (Xen PV). */
    public static final List<String> BOOTLOADERS = List.of("pygrub", "/usr/bin/pygrub", "/usr/lib/xen/bin/pygrub",
            "/usr/libexec/xen/bin/pygrub");

    private final String host;
    private final String domainPrefix;
    private final PathPolicy paths;
    private final PathPolicy firmware;
    private final PathPolicy nvram;

    public DomainValidator(String host, String domainPrefix, PathPolicy paths) {
        this.host = host;
        this.domainPrefix = domainPrefix == null ? "" : domainPrefix;
        this.paths = paths;
        List<String> fw = new ArrayList<>(paths.roots().stream().map(Object::toString).toList());
        fw.addAll(FIRMWARE_ROOTS);
        this.firmware = new PathPolicy(fw);
        List<String> nv = new ArrayList<>(paths.roots().stream().map(Object::toString).toList());
        nv.addAll(NVRAM_ROOTS);
        this.nvram = new PathPolicy(nv);
    }

    /** The outcome: the parsed XML (null when it does not parse) and what is wrong (empty when valid). */
    public record Result(DomainDocument xml, List<String> problems, String specHash) {
        public boolean valid() {
            return problems.isEmpty();
        }

        public String summary() {
            return String.join("; ", problems);
        }
    }

    public static boolean isUuid(String s) {
        return s != null && UUID_RE.matcher(s).matches();
    }

    /**
     * Validates {@code d}; {@code emulators} are the emulator binaries libvirt's capabilities list (empty: not
     * checked).
     */
    public Result validate(Domain d, Set<String> emulators) {
        List<String> problems = new ArrayList<>();
        DomainSpec spec = d.getSpec();
        if (spec == null) {
            return new Result(null, List.of("spec is missing"), null);
        }
        if (!isUuid(spec.uuid)) {
            problems.add("spec.uuid " + (spec.uuid == null ? "is missing" : "'" + spec.uuid + "' is not a UUID"));
        } else if (InspectedDomain.CONTROL_DOMAIN_UUID.equals(spec.uuid.toLowerCase(Locale.ROOT))) {
            problems.add("spec.uuid " + spec.uuid + " is the nil UUID, which libvirt's Xen driver gives the host's "
                    + "control domain (Domain-0): never a guest");
        }
        if (spec.powerState != null && !List.of(DomainSpec.POWER_RUNNING, DomainSpec.POWER_STOPPED,
                DomainSpec.POWER_PAUSED).contains(spec.powerState)) {
            problems.add("spec.powerState '" + spec.powerState + "' is not Running, Stopped or Paused");
        }
        if (spec.genid != null && !spec.genid.isBlank() && !isUuid(spec.genid)) {
            problems.add("spec.genid '" + spec.genid + "' is not a GUID");
        }
        if (spec.shutdownTimeoutSeconds != null && spec.shutdownTimeoutSeconds < 0) {
            problems.add("spec.shutdownTimeoutSeconds must not be negative");
        }
        DomainDocument xml;
        try {
            xml = DomainDocument.parse(spec.domainXml);
        } catch (DomainDocument.InvalidXmlException e) {
            problems.add("spec.domainXml: " + e.getMessage());
            return new Result(null, List.copyOf(problems), null);
        }
        String name = xml.name();
        if (name == null) {
            problems.add("domain XML has no <name>");
        } else if (!name.startsWith(domainPrefix)) {
            problems.add("domain name '" + name + "' does not start with this host's domain prefix '" + domainPrefix
                    + "'");
        }
        String xmlUuid = xml.uuid();
        if (xmlUuid == null) {
            problems.add("domain XML has no <uuid> (it must be spec.uuid " + spec.uuid + ")");
        } else if (spec.uuid != null && !xmlUuid.equalsIgnoreCase(spec.uuid)) {
            problems.add("domain XML <uuid> " + xmlUuid + " differs from spec.uuid " + spec.uuid);
        }
        String genid = xml.genid();
        if (genid != null && !genid.isEmpty() && !isUuid(genid)) {
            problems.add("domain XML <genid> '" + genid + "' is not a GUID");
        }
        Optional<DomainDocument.OwnershipMark> mark = xml.ownershipMark();
        if (mark.isEmpty()) {
            problems.add("domain XML <metadata> lacks virtfleet's ownership mark <virtfleet:vm xmlns:virtfleet=\""
                    + io.virtfleet.api.v1alpha1.ApiGroup.LIBVIRT_METADATA_NS + "\" .../>");
        } else {
            DomainDocument.OwnershipMark m = mark.get();
            if (!host.equals(m.host())) {
                problems.add("ownership mark names host '" + m.host() + "', not this host '" + host + "'");
            }
            String ns = d.getMetadata() == null ? null : d.getMetadata().getNamespace();
            if (m.namespace() != null && ns != null && !ns.equals(m.namespace())) {
                problems.add("ownership mark names namespace '" + m.namespace() + "', not the Domain's '" + ns + "'");
            }
        }
        for (DomainDocument.PathRef ref : xml.hostPaths()) {
            paths.check(ref.path()).ifPresent(why -> problems.add(ref.where() + ": " + why));
        }
        for (DomainDocument.PathRef ref : xml.firmwarePaths()) {
            PathPolicy policy = ref.where().contains("nvram") ? nvram : firmware;
            policy.check(ref.path()).ifPresent(why -> problems.add(ref.where() + ": " + why));
        }
        String bootloader = xml.bootloader();
        if (bootloader != null && !BOOTLOADERS.contains(bootloader)) {
            problems.add("<bootloader> " + bootloader + " is not one of " + BOOTLOADERS);
        }
        for (DomainDocument.PathRef ref : xml.interfaceScripts()) {
            problems.add(ref.where() + " " + ref.path() + ": interface scripts (host programs run as root) are not "
                    + "allowed");
        }
        problems.addAll(xml.uncheckableDisks());
        problems.addAll(xml.routableDisplays());
        for (String el : xml.qemuPassthroughElements()) {
            problems.add(el + ": QEMU pass-through elements are not allowed");
        }
        String emulator = xml.emulator();
        if (emulator != null && !emulators.isEmpty() && !emulators.contains(emulator)) {
            problems.add("<emulator> " + emulator + " is not one of libvirt's emulators " + emulators);
        }
        return new Result(xml, List.copyOf(problems), specHash(spec));
    }

    /** A digest of what the agent defines from the spec: the XML and the genid it must carry. */
    public static String specHash(DomainSpec spec) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(String.valueOf(spec.domainXml).getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            String genid = spec.genid == null ? "" : spec.genid.strip().toLowerCase(Locale.ROOT);
            md.update(genid.getBytes(StandardCharsets.UTF_8));
            if (spec.genidGeneration != null && spec.genidGeneration > 0) {
                md.update((byte) 0);
                md.update(Long.toString(spec.genidGeneration).getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(md.digest(), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
