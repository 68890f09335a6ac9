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

    @Test
    void everyKindValidPasses() throws Exception {
        Path f = file("all-kinds.yaml", """
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachine
                metadata: {name: web-1}
                spec: {hypervisor: qemu, memory: 256Mi, disks: [{name: root, volume: {path: /var/lib/virtfleet/images/web-1.qcow2}}]}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachineSnapshot
                metadata: {name: snap-1}
                spec: {vmName: web-1}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachineRestore
                metadata: {name: restore-1}
                spec: {vmName: web-1, snapshotName: snap-1}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachineRestore
                metadata: {name: restore-2}
                spec: {backupName: backup-1}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachineClone
                metadata: {name: clone-1}
                spec: {source: web-1, target: web-2}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachineBackup
                metadata: {name: backup-1}
                spec: {vmName: web-1, destination: /var/lib/virtfleet/backups}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachineFailover
                metadata: {name: fo-1}
                spec: {vmName: web-1, targetHost: node-b}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: Host
                metadata: {name: node-a}
                spec: {allowedDiskRoots: [/var/lib/virtfleet]}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: Domain
                metadata: {name: web-1}
                spec: {host: node-a, powerState: Running}
                """);
        Result r = virtfleet("validate", f.toString());
        assertThat(r.exitCode()).as(r.all()).isZero();
        assertThat(r.out()).as(r.all()).containsExactly("9 virtfleet object(s) valid");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void theApiserversAndTheOperatorsRulesForEveryRequestKind() throws Exception {
        Path f = file("bad.yaml", """
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachineSnapshot
                metadata: {name: Bad_Name}
                spec: {vmName: ""}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachineRestore
                metadata: {name: restore-both}
                spec: {vmName: web-1, snapshotName: s1, backupName: b1}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachineRestore
                metadata: {name: restore-nothing}
                spec: {snapshotName: s1}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachineClone
                metadata: {name: clone-bad}
                spec: {source: web-1, target: Bad_Name}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachineClone
                metadata: {name: clone-self}
                spec: {source: web-1, target: web-1}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachineBackup
                metadata: {name: backup.v1}
                spec: {vmName: web-1, destination: /etc/backups}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachineFailover
                metadata: {name: fo-1}
                spec: {targetHost: "node a"}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachineSnapshot
                metadata: {name: snap-nospec}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachineSnapshot
                metadata: {name: snap-unknown}
                spec: {vmName: web-1, vm: web-1}
                """);
        Result r = virtfleet("validate", f.toString());
        assertThat(r.exitCode()).as(r.all()).isEqualTo(ExitCodes.INVALID);
        String p = f + ":doc ";
        assertThat(r.out()).as(r.all()).containsExactly(
                p + "1: metadata.name: \"Bad_Name\" is not a DNS subdomain (lower-case letters, digits, '-' and '.', "
                        + "at most 253 characters)",
                p + "1: spec.vmName: \"\" is not an object name (a DNS subdomain: lower-case letters, digits, '-' and "
                        + "'.', starting and ending with a letter or digit)",
                p + "2: spec: set exactly one of snapshotName (revert a VM) and backupName (recreate a VM from a "
                        + "backup)",
                p + "3: spec.vmName: vmName is required to restore a snapshot",
                p + "4: spec.target: Bad_Name is not a valid VirtualMachine name (a DNS subdomain: lower-case "
                        + "letters, digits, '-' and '.', at most 253 characters)",
                p + "5: spec.target: must differ from spec.source",
                p + "6: spec.destination: \"/etc/backups\" is not under an allowed disk root (/var/lib/virtfleet)",
                p + "6: metadata.name: backup.v1 must be a DNS label (it names the backup's directory)",
                p + "7: spec.vmName: required",
                p + "7: spec.targetHost: \"node a\" is not an object name (a DNS subdomain: lower-case letters, "
                        + "digits, '-' and '.', starting and ending with a letter or digit)",
                p + "8: spec.vmName: required",
                p + "9: spec.vm: unknown field",
                "12 error(s) in 8 virtfleet object(s)");
        assertThat(r.all()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void otherApisAreReportedSkippedAndNearMissesAreErrors() throws Exception {
        Path f = file("mixed.yaml", """
                apiVersion: v1
                kind: Namespace
                metadata: {name: vms}
                ---
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: settings}
                data: {a: b}
                ---
                apiVersion: kubevirt.io/v1
                kind: VirtualMachine
                metadata: {name: kubevirt-vm}
                spec: {running: true}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachin
                metadata: {name: typo-1}
                spec: {hypervisor: qemu, memory: 256Mi}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachineSnapshots
                metadata: {name: typo-2}
                spec: {vmName: web-1}
                ---
                apiVersion: virtfleet.i0/v1alpha1
                kind: VirtualMachine
                metadata: {name: typo-3}
                spec: {hypervisor: qemu, memory: 256Mi}
                ---
                kind: virtualmachine
                metadata: {name: typo-4}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: Gadget
                metadata: {name: typo-5}
                """);
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
        Path good = file("good.yaml", """
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachineSnapshot
                metadata: {name: snap-1}
                spec: {vmName: web-1}
                """);

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
