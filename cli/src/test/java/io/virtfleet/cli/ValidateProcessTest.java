package io.virtfleet.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code virtfleet validate} as a user runs it: a separate JVM ({@code java -cp ... io.virtfleet.cli.Virtfleet}), its
 * exit code and its output, for every kind virtfleet defines.
 */
class ValidateProcessTest {
    @TempDir
    Path dir;

    record Result(int exitCode, List<String> out, List<String> err) {
        String all() {
            return String.join("\n", out) + "\n" + String.join("\n", err);
        }
    }

    static Result virtfleet(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp", System.getProperty("java.class.path"),
                Virtfleet.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("virtfleet exits").isTrue();
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8).lines().toList(),
                new String(err, StandardCharsets.UTF_8).lines().toList());
    }

    private Path file(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    static final String API = "virtfleet.io/v1alpha1";

    /** A YAML document: apiVersion (null: none), kind, metadata.name and the rest (null: nothing), one line each. */
    static String yaml(String apiVersion, String kind, String name, String rest) {
        return (apiVersion == null ? "" : "apiVersion: " + apiVersion + "\n") + "kind: " + kind + "\nmetadata: {name: "
                + name + "}\n" + (rest == null ? "" : rest + "\n");
    }

    /** A multi-document YAML file of these documents. */
    static String stream(List<String> documents) {
        return String.join("---\n", documents);
    }

    /** A virtfleet.io/v1alpha1 object with its spec (flow style; null: none) and what validate reports on it. */
    record Doc(String kind, String name, String spec, List<String> errors) {
        Doc(String kind, String name, String spec, String... errors) {
            this(kind, name, spec, List.of(errors));
        }

        String yaml() {
            return ValidateProcessTest.yaml(API, kind, name, spec == null ? null : "spec: " + spec);
        }
    }

    /** A valid object of every kind virtfleet defines. */
    static final List<Doc> EVERY_KIND = List.of(
            new Doc("VirtualMachine", "web-1",
                    "{hypervisor: qemu, memory: 256Mi, disks: [{name: root, volume: {path: /var/lib/virtfleet/images/web-1.qcow2}}]}"),
            new Doc("VirtualMachineSnapshot", "snap-1", "{vmName: web-1}"),
            new Doc("VirtualMachineRestore", "restore-1", "{vmName: web-1, snapshotName: snap-1}"),
            new Doc("VirtualMachineRestore", "restore-2", "{backupName: backup-1}"),
            new Doc("VirtualMachineClone", "clone-1", "{source: web-1, target: web-2}"),
            new Doc("VirtualMachineBackup", "backup-1", "{vmName: web-1, destination: /var/lib/virtfleet/backups}"),
            new Doc("VirtualMachineFailover", "fo-1", "{vmName: web-1, targetHost: node-b}"),
            new Doc("Host", "node-a", "{allowedDiskRoots: [/var/lib/virtfleet]}"),
            new Doc("Domain", "web-1", "{host: node-a, powerState: Running}"));

    /** Request objects the apiserver (schema, names) or the operator refuses, with every error validate reports. */
    static final List<Doc> BAD_REQUESTS = List.of(
            new Doc("VirtualMachineSnapshot", "Bad_Name", "{vmName: \"\"}",
                    "metadata.name: \"Bad_Name\" is not a DNS subdomain (lower-case letters, digits, '-' and '.', "
                            + "at most 253 characters)",
                    "spec.vmName: \"\" is not an object name (a DNS subdomain: lower-case letters, digits, '-' and "
                            + "'.', starting and ending with a letter or digit)"),
            new Doc("VirtualMachineRestore", "restore-both", "{vmName: web-1, snapshotName: s1, backupName: b1}",
                    "spec: set exactly one of snapshotName (revert a VM) and backupName (recreate a VM from a backup)"),
            new Doc("VirtualMachineRestore", "restore-nothing", "{snapshotName: s1}",
                    "spec.vmName: vmName is required to restore a snapshot"),
            new Doc("VirtualMachineClone", "clone-bad", "{source: web-1, target: Bad_Name}",
                    "spec.target: Bad_Name is not a valid VirtualMachine name (a DNS subdomain: lower-case "
                            + "letters, digits, '-' and '.', at most 253 characters)"),
            new Doc("VirtualMachineClone", "clone-self", "{source: web-1, target: web-1}",
                    "spec.target: must differ from spec.source"),
            new Doc("VirtualMachineBackup", "backup.v1", "{vmName: web-1, destination: /etc/backups}",
                    "spec.destination: \"/etc/backups\" is not under an allowed disk root (/var/lib/virtfleet)",
                    "metadata.name: backup.v1 must be a DNS label (it names the backup's directory)"),
            new Doc("VirtualMachineFailover", "fo-1", "{targetHost: \"node a\"}",
                    "spec.vmName: required",
                    "spec.targetHost: \"node a\" is not an object name (a DNS subdomain: lower-case letters, "
                            + "digits, '-' and '.', starting and ending with a letter or digit)"),
            new Doc("VirtualMachineSnapshot", "snap-nospec", null, "spec.vmName: required"),
            new Doc("VirtualMachineSnapshot", "snap-unknown", "{vmName: web-1, vm: web-1}", "spec.vm: unknown field"));

    private Path file(String name, List<Doc> docs) throws IOException {
        return file(name, stream(docs.stream().map(Doc::yaml).toList()));
    }

    @Test
    void everyKindValidPasses() throws Exception {
        Path f = file("all-kinds.yaml", EVERY_KIND);
        Result r = virtfleet("validate", f.toString());
        assertThat(r.exitCode()).as(r.all()).isZero();
        assertThat(r.out()).as(r.all()).containsExactly("9 virtfleet object(s) valid");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void theApiserversAndTheOperatorsRulesForEveryRequestKind() throws Exception {
        Path f = file("bad.yaml", BAD_REQUESTS);
        Result r = virtfleet("validate", f.toString());
        assertThat(r.exitCode()).as(r.all()).isEqualTo(ExitCodes.INVALID);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < BAD_REQUESTS.size(); i++) {
            for (String error : BAD_REQUESTS.get(i).errors()) {
                expected.add(f + ":doc " + (i + 1) + ": " + error);
            }
        }
        expected.add("12 error(s) in 8 virtfleet object(s)");
        assertThat(r.out()).as(r.all()).containsExactlyElementsOf(expected);
        assertThat(r.all()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void otherApisAreReportedSkippedAndNearMissesAreErrors() throws Exception {
        Path f = file("mixed.yaml", stream(List.of(
                yaml("v1", "Namespace", "vms", null),
                yaml("v1", "ConfigMap", "settings", "data: {a: b}"),
                yaml("kubevirt.io/v1", "VirtualMachine", "kubevirt-vm", "spec: {running: true}"),
                yaml(API, "VirtualMachin", "typo-1", "spec: {hypervisor: qemu, memory: 256Mi}"),
                yaml(API, "VirtualMachineSnapshots", "typo-2", "spec: {vmName: web-1}"),
                yaml("virtfleet.i0/v1alpha1", "VirtualMachine", "typo-3", "spec: {hypervisor: qemu, memory: 256Mi}"),
                yaml(null, "virtualmachine", "typo-4", null),
                yaml(API, "Gadget", "typo-5", null))));
        Result r = virtfleet("validate", f.toString());
        assertThat(r.exitCode()).as(r.all()).isEqualTo(ExitCodes.INVALID);
        String p = f + ":doc ";
        assertThat(r.out()).as(r.all()).containsExactly(
                p + "1: kind Namespace: not a virtfleet object, skipped (name vms)",
                p + "2: kind ConfigMap: not a virtfleet object, skipped (name settings)",
                p + "3: kind VirtualMachine: kubevirt.io/v1 is not virtfleet.io/v1alpha1, not a virtfleet object, "
                        + "skipped (name kubevirt-vm)",
                p + "4: kind: unknown kind \"VirtualMachin\" in virtfleet.io (did you mean VirtualMachine?)",
                p + "5: kind: unknown kind \"VirtualMachineSnapshots\" in virtfleet.io (did you mean "
                        + "VirtualMachineSnapshot?)",
                p + "6: apiVersion: unknown API group \"virtfleet.i0\" (did you mean virtfleet.io/v1alpha1?)",
                p + "7: kind: unknown kind \"virtualmachine\" (did you mean VirtualMachine?)",
                p + "8: kind: unknown kind \"Gadget\" in virtfleet.io (virtfleet's kinds: "
                        + String.join(", ", io.virtfleet.reconcilers.manifest.Manifests.KINDS.keySet()) + ")",
                "5 error(s) in 0 virtfleet object(s), 3 document(s) skipped");

        Result quiet = virtfleet("validate", "--quiet", f.toString());
        assertThat(quiet.out()).as("--quiet prints errors only").hasSize(5).noneMatch(l -> l.contains("skipped"));
    }

    @Test
    void aFileThatIsNotUtf8IsOneLineNamingTheByte() throws Exception {
        Path latin1 = dir.resolve("latin1.yaml");
        // "é" in ISO-8859-1 (0xE9) at byte 41: a lone lead byte of a 3-byte sequence
        byte[] head = "apiVersion: virtfleet.io/v1alpha1\nkind: ".getBytes(StandardCharsets.US_ASCII);
        byte[] tail = "VM\n".getBytes(StandardCharsets.US_ASCII);
        byte[] bytes = new byte[head.length + 1 + tail.length];
        System.arraycopy(head, 0, bytes, 0, head.length);
        bytes[head.length] = (byte) 0xE9;
        System.arraycopy(tail, 0, bytes, head.length + 1, tail.length);
        Files.write(latin1, bytes);
        Path good = file("good.yaml", yaml(API, "VirtualMachineSnapshot", "snap-1", "spec: {vmName: web-1}"));

        Result r = virtfleet("validate", latin1.toString(), good.toString());
        assertThat(r.exitCode()).as(r.all()).isEqualTo(ExitCodes.INVALID);
        assertThat(r.out()).as(r.all()).containsExactly(latin1 + ": byte " + (head.length + 1) + ": not UTF-8",
                "1 error(s) in 1 virtfleet object(s)");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void aMissingFileIsAFailureNotInvalid() throws Exception {
        Result r = virtfleet("validate", dir.resolve("nope.yaml").toString());
        assertThat(r.exitCode()).isEqualTo(ExitCodes.FAILURE);
        assertThat(r.err()).singleElement().asString().contains("no such file: " + dir.resolve("nope.yaml"));
    }
}
