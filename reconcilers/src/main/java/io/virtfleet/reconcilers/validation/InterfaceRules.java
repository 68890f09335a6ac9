package io.virtfleet.reconcilers.validation;

import io.virtfleet.api.v1alpha1.VirtualMachineSpec.NetworkInterface;
import io.virtfleet.reconcilers.platform.Platform;

import java.util.HashMap;
import java.util.Map;

/**
 * Rules for spec.interfaces. A target, when given, is the host-side device name: the tap for kvm/qemu, the vifname
 * for Xen, the veth for OpenVZ. Any valid interface name is accepted except those starting with a prefix
 * libvirt reserves for names it generates (vnet, macvtap, macvlan; on Xen also vif): libvirt drops such a name when
 * the domain is defined, and a Xen vifN.M embeds the domain id, which changes on every start.
 */
final class InterfaceRules extends ItemRules<NetworkInterface> {
    private final Map<String, String> macs = new HashMap<>();
    private final Map<String, String> targets = new HashMap<>();

    InterfaceRules(Platform platform, Errors errors) {
        super(platform, errors);
    }

    @Override
    String name(NetworkInterface n) {
        return n.name;
    }

    @Override
    void checkNamed(String p, NetworkInterface n) {
        source(p, n);
        model(p, n);
        mac(p, n);
        target(p, n);
    }

    private void source(String p, NetworkInterface n) {
        if ((n.network == null) == (n.bridge == null)) {
            errors.add(p, "set exactly one of network or bridge");
            return;
        }
        if (n.network != null && Checks.text(errors, p + ".network", n.network)) {
            if (!Names.isNetworkName(n.network)) {
                errors.add(p + ".network", Text.quote(n.network) + " is not a libvirt network name (letters, digits, "
                        + "'_', '.', '-', at most 64 characters)");
            } else if (platform != null && platform.family() == Platform.Family.OPENVZ) {
                errors.add(p + ".network", "openvz attaches containers to host bridges only; use bridge");
            }
        }
        if (n.bridge != null && Checks.text(errors, p + ".bridge", n.bridge) && !Names.isInterfaceName(n.bridge)) {
            errors.add(p + ".bridge", Text.quote(n.bridge) + " is not a bridge name (letters, digits, '_', '.', '-', "
                    + "at most 15 characters)");
        }
    }

    private void model(String p, NetworkInterface n) {
        if (n.model == null || platform == null || !Checks.text(errors, p + ".model", n.model)) {
            return;
        }
        if (platform.nicModels().isEmpty()) {
            errors.add(p + ".model", "openvz container interfaces have no NIC model");
        } else if (!platform.nicModels().contains(n.model)) {
            errors.add(p + ".model", "unsupported model " + Text.quote(n.model) + " for " + platform.hypervisor()
                    + " (expected one of " + String.join(", ", platform.nicModels()) + ")");
        }
    }

    private void mac(String p, NetworkInterface n) {
        if (n.macAddress == null || !Checks.text(errors, p + ".macAddress", n.macAddress)) {
            return;
        }
        String problem = Macs.problem(n.macAddress);
        if (problem != null) {
            errors.add(p + ".macAddress", problem);
            return;
        }
        String other = macs.putIfAbsent(Macs.normalize(n.macAddress), p);
        if (other != null) {
            errors.add(p + ".macAddress", "duplicate MAC address " + Text.quote(n.macAddress) + " (also " + other
                    + ".macAddress)");
        }
    }

    private void target(String p, NetworkInterface n) {
        if (n.target == null || !Checks.text(errors, p + ".target", n.target)) {
            return;
        }
        if (!Names.isInterfaceName(n.target)) {
            errors.add(p + ".target", Text.quote(n.target) + " is not a network interface name (letters, digits, "
                    + "'_', '.', '-', at most 15 characters)");
            return;
        }
        if (platform != null) {
            for (String prefix : platform.reservedInterfacePrefixes()) {
                if (n.target.startsWith(prefix)) {
                    errors.add(p + ".target", Text.quote(n.target) + " starts with " + Text.quote(prefix)
                            + ", which libvirt reserves for names it generates; leave target empty to get one, "
                            + "or pick another name");
                    return;
                }
            }
        }
        String other = targets.putIfAbsent(n.target, p);
        if (other != null) {
            errors.add(p + ".target", "duplicate target " + Text.quote(n.target) + " (also " + other + ".target)");
        }
    }
}
