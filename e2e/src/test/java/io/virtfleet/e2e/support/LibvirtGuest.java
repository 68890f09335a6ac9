package io.virtfleet.e2e.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;

/**
 * One libvirt domain as the e2e tests see it from outside virtfleet: virsh for the live XML and QEMU's monitor, the
 * serial console log, and the test guest's command channel (scripts/guest-exec).
 *
 * @param name           the libvirt domain's name
 * @param runDir         where its console log and channel sockets are
 * @param uri            the libvirt URI this domain is looked at through
 * @param pidDir         where that libvirtd writes its QEMU pid files (null for a Xen guest)
 * @param consoleLogFile the console log when it is not {@code runDir/NAME.log} (a Xen guest's: xenconsoled names
 *                       it), else null
 */
public record LibvirtGuest(String name, Path runDir, String uri, Path pidDir, Path consoleLogFile) {
    private static final Path REPO = io.virtfleet.controlplane.RepoRoot.require();

    LibvirtGuest(String name, Path runDir) {
        this(name, runDir, "qemu:///system", Path.of("/run/libvirt/qemu"));
    }

    /** A domain of the machine's libvirtd (qemu:///system), looked at from outside whoever runs it. */
    public static LibvirtGuest onMachine(String name) {
        return new LibvirtGuest(name, Fleet.RUN_DIR);
    }

    LibvirtGuest(String name, Path runDir, String uri, Path pidDir) {
        this(name, runDir, uri, pidDir, null);
    }

    /** A guest of the Xen host {@code xen}: libvirt through its forwarded URI, the PV console in xenconsoled's log. */
    public static LibvirtGuest onXen(XenHost xen, String name) {
        return new LibvirtGuest(name, xen.share().resolve("console"), xen.uri(), null, xen.consoleLog(name));
    }

    public String liveXml() {
        return virsh("dumpxml", name).output();
    }

    public String persistentXml() {
        return virsh("dumpxml", "--inactive", name).output();
    }

    public boolean isDefined() {
        return virsh("domname", name).ok() || virsh("dominfo", name).ok();
    }

    public String state() {
        return virsh("domstate", name).output().trim();
    }

    /** The QEMU process of the running domain, from libvirt's pid file. */
    public long qemuPid() {
        try {
            return Long.parseLong(Files.readString(pidDir.resolve(name + ".pid")).trim());
        } catch (IOException | NumberFormatException e) {
            throw new IllegalStateException("no QEMU pid for " + name + ": " + e.getMessage(), e);
        }
    }

    /** The genid QEMU exposes to the guest right now (query-vm-generation-id over the monitor). */
    public String genidSeenByGuest() {
        Result r = virsh("qemu-monitor-command", name, "{\"execute\":\"query-vm-generation-id\"}");
        Matcher m = Pattern.compile("\"guid\"\\s*:\\s*\"([0-9a-fA-F-]{36})\"").matcher(r.output());
        if (!r.ok() || !m.find()) {
            throw new IllegalStateException("query-vm-generation-id on " + name + " failed: " + r.output());
        }
        return m.group(1).toLowerCase();
    }

    public Path consoleLog() {
        return consoleLogFile != null ? consoleLogFile : runDir.resolve(name + ".log");
    }

    public String console() {
        try {
            return Files.exists(consoleLog()) ? Files.readString(consoleLog(), StandardCharsets.ISO_8859_1) : "";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Waits until the console shows a line matching the pattern; returns the last such line. */
    public String awaitConsole(String regex, Duration timeout) {
        Pattern p = Pattern.compile(regex);
        String[] found = new String[1];
        await().alias(name + " console matches " + regex).atMost(timeout).pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    for (String line : console().split("\r?\n")) {
                        if (p.matcher(line).find()) {
                            found[0] = line;
                        }
                    }
                    return found[0] != null;
                });
        return found[0];
    }

    public Path channel() {
        return runDir.resolve(name + ".chan.sock");
    }

    /** Runs a shell command in the test guest (waits for the guest to answer) and returns its output. */
    public Result exec(String command) {
        return run(Duration.ofSeconds(90), "python3", REPO.resolve("scripts/guest-exec").toString(), "-t", "60", "-w",
                "60", channel().toString(), command);
    }

    /** One qemu-guest-agent command (JSON) through libvirt ({@code virsh qemu-agent-command}, 10 s timeout). */
    public Result agentCommand(String json) {
        return virsh("qemu-agent-command", "--timeout", "10", name, json);
    }

    /**
     * Runs {@code /bin/sh -c command} in a guest with qemu-guest-agent (guest-exec, then guest-exec-status until it
     * exited, at most 60 s) and returns its exit code and stdout.
     */
    public Result agentExec(String command) {
        String args = "{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"/bin/sh\",\"arg\":[\"-c\","
                + jsonString(command) + "],\"capture-output\":true}}";
        Result started = agentCommand(args);
        Matcher pid = Pattern.compile("\"pid\"\\s*:\\s*(\\d+)").matcher(started.output());
        if (!started.ok() || !pid.find()) {
            return new Result(started.ok() ? 1 : started.exitCode(), "guest-exec failed: " + started.output());
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            Result st = agentCommand("{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":" + pid.group(1)
                    + "}}");
            if (st.ok() && st.output().matches("(?s).*\"exited\"\\s*:\\s*true.*")) {
                Matcher code = Pattern.compile("\"exitcode\"\\s*:\\s*(-?\\d+)").matcher(st.output());
                Matcher out = Pattern.compile("\"out-data\"\\s*:\\s*\"([^\"]*)\"").matcher(st.output());
                String text = out.find() ? new String(java.util.Base64.getDecoder().decode(out.group(1)),
                        StandardCharsets.UTF_8) : "";
                return new Result(code.find() ? Integer.parseInt(code.group(1)) : 0, text);
            }
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return new Result(124, "guest-exec of '" + command + "' did not finish within 60 s");
    }

    private static String jsonString(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    public Result virsh(String... args) {
        List<String> cmd = new ArrayList<>(List.of("virsh", "-c", uri));
        cmd.addAll(List.of(args));
        return run(Duration.ofSeconds(60), cmd.toArray(String[]::new));
    }

    static void undefineAllWithPrefix(String prefix) {
        undefineAllWithPrefix("qemu:///system", prefix);
    }

    static void undefineAllWithPrefix(String uri, String prefix) {
        Result list = run(Duration.ofSeconds(30), "virsh", "-c", uri, "list", "--all", "--name");
        for (String d : list.output().split("\n")) {
            String n = d.trim();
            if (n.startsWith(prefix)) {
                run(Duration.ofSeconds(30), "virsh", "-c", uri, "destroy", n);
                if (uri.startsWith("xen")) {
                    run(Duration.ofSeconds(30), "virsh", "-c", uri, "undefine", n); // libxl keeps no snapshots
                } else {
                    run(Duration.ofSeconds(30), "virsh", "-c", uri, "undefine", n,
                            "--snapshots-metadata", "--managed-save");
                }
            }
        }
    }

    public record Result(int exitCode, String output) {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    static Result run(Duration timeout, String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                return new Result(124, new String(out, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Result(127, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(130, "interrupted");
        }
    }
}
