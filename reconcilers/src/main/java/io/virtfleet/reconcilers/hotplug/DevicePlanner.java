package io.virtfleet.reconcilers.hotplug;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.xml.XmlMapper;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.reconcilers.domain.xml.DeviceDef;
import io.virtfleet.reconcilers.domain.xml.DiskDef;
import io.virtfleet.reconcilers.domain.xml.DomainDef;
import io.virtfleet.reconcilers.domain.xml.DomainXmlCodec;
import io.virtfleet.reconcilers.domain.xml.InterfaceDef;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Pure: what to attach, detach or change so that a running domain's disks and interfaces match the desired XML
 * (virDomainAttachDeviceFlags/DetachDeviceFlags/UpdateDeviceFlags), and what cannot change live.
 *
 * <p>Matching, per kind: by alias ({@code ua-<name>}); a device without a virtfleet alias on either side falls back to
 * its target dev, then (interfaces) its MAC. A live device that matches nothing is detached only when it carries a
 * {@code ua-} alias: devices virtfleet did not put there are never touched. A desired device that matches nothing is
 * attached.
 *
 * <p>A Xen domain whose live XML carries no {@code ua-} alias on any disk or interface (a libxl driver that drops user
 * aliases; libvirt 9.0's keeps them in the persistent XML) is matched by target and MAC only, and a live device of
 * it that matches nothing is detached by its XML (libxl has no detach by alias): every disk and NIC of a domain
 * virtfleet owns came from virtfleet's definition or its hot-plug.
 *
 * <p>Not live: a disk's bus, target, device kind (disk/cdrom), image format, read-only flag, and the source of a
 * non-cdrom disk; an interface's type, model, MAC and source. Those yield {@link DeviceAction.RestartRequired}.
 * A cdrom's source (insert, eject, swap) is {@link DeviceAction.UpdateMedia}.
 *
 * <p>Order: detaches, then media changes, then attaches (a detached target may be reused), then the restart reasons.
 */
public final class DevicePlanner {
    private static final XmlMapper WRITER = XmlMapper.builder()
            .annotationIntrospector(new io.virtfleet.reconcilers.domain.xml.ModelAnnotations())
            .defaultPropertyInclusion(JsonInclude.Value.construct(JsonInclude.Include.NON_NULL,
                    JsonInclude.Include.NON_NULL))
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .build();

    private DevicePlanner() {
    }

    /** Plans from the two documents (parsed with {@link DomainXmlCodec}). */
    public static List<DeviceAction> plan(String desiredXml, String liveXml) {
        return plan(DomainXmlCodec.parse(desiredXml), DomainXmlCodec.parse(liveXml));
    }

    public static List<DeviceAction> plan(DomainDef desired, DomainDef actualLive) {
        List<DeviceAction> detach = new ArrayList<>();
        List<DeviceAction> update = new ArrayList<>();
        List<DeviceAction> attach = new ArrayList<>();
        List<DeviceAction> restart = new ArrayList<>();

        boolean noAliases = keepsNoAliases(actualLive);
        List<DiskDef> wantDisks = desired.devices == null ? List.of() : desired.devices.disks;
        List<DiskDef> haveDisks = actualLive.devices == null ? List.of() : actualLive.devices.disks;
        Map<DiskDef, DiskDef> disks = match(wantDisks, haveDisks, d -> alias(d.alias == null ? null : d.alias.name),
                d -> d.target == null ? null : d.target.dev, d -> null);
        for (DiskDef live : haveDisks) {
            String liveAlias = live.alias == null ? null : live.alias.name;
            if (!disks.containsValue(live) && (isOurs(liveAlias) || (noAliases && liveAlias == null))) {
                detach.add(new DeviceAction.DetachDisk(diskKey(live), liveAlias, target(live), write("disk",
                        live)));
            }
        }
        for (DiskDef want : wantDisks) {
            DiskDef live = disks.get(want);
            if (live == null) {
                attach.add(new DeviceAction.AttachDisk(diskKey(want), want.alias == null ? null : want.alias.name,
                        target(want), write("disk", withoutAddress(want))));
                continue;
            }
            String key = diskKey(want);
            String wantDevice = want.device == null ? "disk" : want.device;
            String liveDevice = live.device == null ? "disk" : live.device;
            if (!wantDevice.equals(liveDevice)) {
                restart.add(new DeviceAction.RestartRequired("disk " + key + ": device " + liveDevice + " -> "
                        + wantDevice));
                continue;
            }
            differs(restart, "disk " + key, "bus", bus(live), bus(want));
            differs(restart, "disk " + key, "target", target(live), target(want));
            differs(restart, "disk " + key, "format", live.driver == null ? null : live.driver.type,
                    want.driver == null ? null : want.driver.type);
            differs(restart, "disk " + key, "readonly", String.valueOf(live.readonly != null),
                    String.valueOf(want.readonly != null));
            String wantSource = source(want);
            String liveSource = source(live);
            if (!Objects.equals(wantSource, liveSource)) {
                if ("cdrom".equals(wantDevice)) {
                    DiskDef media = copyDisk(want);
                    media.target = new DiskDef.Target(target(live), bus(live));
                    media.address = null;
                    update.add(new DeviceAction.UpdateMedia(key, want.alias == null ? null : want.alias.name,
                            target(live), wantSource, write("disk", media)));
                } else {
                    restart.add(new DeviceAction.RestartRequired("disk " + key + ": source " + liveSource + " -> "
                            + wantSource + " (only a cdrom's media changes live)"));
                }
            }
        }

        List<InterfaceDef> wantNics = desired.devices == null ? List.of() : desired.devices.interfaces;
        List<InterfaceDef> haveNics = actualLive.devices == null ? List.of() : actualLive.devices.interfaces;
        Map<InterfaceDef, InterfaceDef> nics = match(wantNics, haveNics,
                i -> alias(i.alias == null ? null : i.alias.name), i -> i.target == null ? null : i.target.dev,
                DevicePlanner::mac);
        for (InterfaceDef live : haveNics) {
            String liveAlias = live.alias == null ? null : live.alias.name;
            if (!nics.containsValue(live) && (isOurs(liveAlias) || (noAliases && liveAlias == null))) {
                detach.add(new DeviceAction.DetachInterface(nicKey(live), liveAlias, mac(live),
                        live.target == null ? null : live.target.dev, write("interface", live)));
            }
        }
        for (InterfaceDef want : wantNics) {
            InterfaceDef live = nics.get(want);
            if (live == null) {
                InterfaceDef w = DeviceDef.copyOf(want);
                w.address = null;
                attach.add(new DeviceAction.AttachInterface(nicKey(want), want.alias == null ? null
                        : want.alias.name, mac(want), write("interface", w)));
                continue;
            }
            String what = "interface " + nicKey(want);
            differs(restart, what, "type", live.type, want.type);
            differs(restart, what, "model", live.model == null ? null : live.model.type,
                    want.model == null ? null : want.model.type);
            if (mac(want) != null) {
                differs(restart, what, "mac", mac(live), mac(want));
            }
            String wantSrc = want.source == null ? null : want.source.network != null ? "network "
                    + want.source.network : "bridge " + want.source.bridge;
            String liveSrc = live.source == null ? null : live.source.network != null ? "network "
                    + live.source.network : "bridge " + live.source.bridge;
            if (want.source != null) {
                differs(restart, what, "source", liveSrc, wantSrc);
            }
        }

        List<DeviceAction> out = new ArrayList<>(detach);
        out.addAll(update);
        out.addAll(attach);
        out.addAll(restart);
        return out;
    }

    /** True when any action in {@code plan} needs a restart. */
    public static boolean needsRestart(List<DeviceAction> plan) {
        return plan.stream().anyMatch(a -> !a.live());
    }

    // ------------------------------------------------------------------------------------------------- matching

    /**
     * desired → live. Pass 1 by virtfleet alias; pass 2 for devices where either side has no virtfleet alias: by
     * target, then by the third key (MAC).
     */
    private static <T> Map<T, T> match(List<T> want, List<T> have, Function<T, String> alias,
                                       Function<T, String> target, Function<T, String> third) {
        Map<T, T> out = new IdentityHashMap<>();
        Map<T, Boolean> taken = new IdentityHashMap<>();
        for (T w : want) {
            String a = alias.apply(w);
            if (a == null) {
                continue;
            }
            for (T h : have) {
                if (!taken.containsKey(h) && a.equals(alias.apply(h))) {
                    out.put(w, h);
                    taken.put(h, true);
                    break;
                }
            }
        }
        for (Function<T, String> key : List.of(target, third)) {
            for (T w : want) {
                if (out.containsKey(w) || key.apply(w) == null) {
                    continue;
                }
                for (T h : have) {
                    if (taken.containsKey(h) || (alias.apply(w) != null && alias.apply(h) != null)) {
                        continue; // two virtfleet devices with different names are different devices
                    }
                    if (key.apply(w).equalsIgnoreCase(Objects.requireNonNullElse(key.apply(h), ""))) {
                        out.put(w, h);
                        taken.put(h, true);
                        break;
                    }
                }
            }
        }
        return out;
    }

    /** A Xen domain whose live devices carry no virtfleet alias at all (see the class comment). */
    public static boolean keepsNoAliases(DomainDef live) {
        if (!"xen".equals(live.type) || live.devices == null) {
            return false;
        }
        return live.devices.disks.stream().noneMatch(d -> d.alias != null && isOurs(d.alias.name))
                && live.devices.interfaces.stream().noneMatch(i -> i.alias != null && isOurs(i.alias.name));
    }

    /** The alias when it is virtfleet's ({@code ua-}), else null. */
    private static String alias(String name) {
        return isOurs(name) ? name : null;
    }

    private static boolean isOurs(String alias) {
        return alias != null && alias.startsWith(ApiGroup.DEVICE_ALIAS_PREFIX);
    }

    private static void differs(List<DeviceAction> restart, String what, String field, String live, String want) {
        if (!Objects.equals(live, want)) {
            restart.add(new DeviceAction.RestartRequired(what + ": " + field + " " + live + " -> " + want));
        }
    }

    // ---------------------------------------------------------------------------------------------------- fields

    private static String diskKey(DiskDef d) {
        String a = d.alias == null ? null : d.alias.name;
        return a != null ? a : "target:" + target(d);
    }

    private static String nicKey(InterfaceDef i) {
        String a = i.alias == null ? null : i.alias.name;
        if (a != null) {
            return a;
        }
        return i.target != null && i.target.dev != null ? "target:" + i.target.dev : "mac:" + mac(i);
    }

    private static String target(DiskDef d) {
        return d.target == null ? null : d.target.dev;
    }

    private static String bus(DiskDef d) {
        return d.target == null ? null : d.target.bus;
    }

    private static String source(DiskDef d) {
        return d.source == null ? null : d.source.file != null ? d.source.file : d.source.dev;
    }

    private static String mac(InterfaceDef i) {
        return i.mac == null || i.mac.address == null ? null : i.mac.address.toLowerCase(Locale.ROOT);
    }

    // ------------------------------------------------------------------------------------------------------- xml

    /** One device as its own XML document ({@code <disk>…</disk>}), as virDomainAttachDeviceFlags takes it. */
    public static String write(String root, Object device) {
        try {
            return WRITER.writer().withRootName(root).writeValueAsString(device);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write device XML", e);
        }
    }

    private static DiskDef withoutAddress(DiskDef d) {
        if (d.address == null) {
            return d;
        }
        DiskDef c = copyDisk(d);
        c.address = null;
        return c;
    }

    private static DiskDef copyDisk(DiskDef d) {
        DiskDef c = DeviceDef.copyOf(d);
        c.source = d.source == null ? null : sourceWithoutIndex(d.source);
        return c;
    }

    private static DiskDef.Source sourceWithoutIndex(DiskDef.Source s) {
        DiskDef.Source c = new DiskDef.Source();
        c.file = s.file;
        c.dev = s.dev;
        return c;
    }
}
