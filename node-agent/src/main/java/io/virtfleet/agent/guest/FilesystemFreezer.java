package io.virtfleet.agent.guest;

import io.virtfleet.agent.libvirt.LibvirtCallException;
import io.virtfleet.agent.libvirt.LibvirtConnection;
import io.virtfleet.api.v1alpha1.FilesystemFreeze;
import io.virtfleet.reconcilers.domain.xml.DomainDocument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Freezes a running guest's filesystems through its guest agent around the step that fixes a copy's point in time
 * (an internal snapshot; the start of a libvirt backup job, which copies the disks as they were when it began), and
 * thaws them afterwards — always, in a finally, also when the step failed. Chosen over libvirt's snapshot flag
 * VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE, which libvirt accepts only with DISK_ONLY (external) snapshots, while
 * virtfleet's snapshots are internal with memory state, and which does nothing for backups and clones: one mechanism
 * for all three.
 *
 * <p>Outcomes ({@link FilesystemFreeze}): Frozen; NoGuestAgent (channel not connected: crash-consistent, as
 * before); FreezeFailed (the step still runs, crash-consistent, and the failure is recorded — a freeze failure never
 * costs the user the copy, nor is it silent); ThawFailed (a second try after 1 s failed too; the guest may stay
 * frozen, which the status says). Each libvirt call is bounded by libvirt's guest agent timeout.
 */
public final class FilesystemFreezer {
    private static final Logger LOG = LoggerFactory.getLogger(FilesystemFreezer.class);

    private final LibvirtConnection libvirt;

    public FilesystemFreezer(LibvirtConnection libvirt) {
        this.libvirt = libvirt;
    }

    /** The step that fixes the copy's point in time. */
    @FunctionalInterface
    public interface Step<T, E extends Exception> {
        T run() throws E, LibvirtConnection.UnavailableException, LibvirtCallException;
    }

    /** The step's result and the freeze record (null: the domain was not running, nothing to freeze). */
    public record Frozen<T>(T value, FilesystemFreeze freeze) {
    }

    public <T, E extends Exception> Frozen<T> around(String uuid, Step<T, E> step)
            throws E, LibvirtConnection.UnavailableException, LibvirtCallException {
        String live = libvirt.call("inspect", c -> {
            org.libvirt.Domain d = c.domainLookupByUUIDString(uuid);
            return d.isActive() == 1 ? d.getXMLDesc(0) : null;
        });
        if (live == null) {
            return new Frozen<>(step.run(), null);
        }
        if (GuestReplies.channel(parse(live)) != GuestReplies.Channel.CONNECTED) {
            return new Frozen<>(step.run(), new FilesystemFreeze(FilesystemFreeze.NO_GUEST_AGENT, null,
                    "no guest agent connected: the copy is crash-consistent"));
        }
        int frozen;
        try {
            frozen = libvirt.fsFreeze(uuid);
        } catch (LibvirtCallException e) {
            LOG.warn("{}: freezing the guest's filesystems failed, copying crash-consistent: {}", uuid,
                    e.getMessage());
            thawQuietly(uuid); // qemu-guest-agent thaws what it froze on error; this makes sure
            return new Frozen<>(step.run(), new FilesystemFreeze(FilesystemFreeze.FREEZE_FAILED, null,
                    e.getMessage()));
        }
        T value;
        String thawError = null;
        try {
            value = step.run();
        } finally {
            thawError = thaw(uuid);
        }
        return new Frozen<>(value, thawError == null ? new FilesystemFreeze(FilesystemFreeze.FROZEN, frozen, null)
                : new FilesystemFreeze(FilesystemFreeze.THAW_FAILED, frozen, thawError));
    }

    /** Thaws, with one more try after a second; null when thawed, else the error. */
    public String thaw(String uuid) {
        String error = null;
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                libvirt.fsThaw(uuid);
                return null;
            } catch (LibvirtCallException | LibvirtConnection.UnavailableException e) {
                error = e.getMessage();
                LOG.warn("{}: thawing the guest's filesystems failed (attempt {}): {}", uuid, attempt + 1, error);
            }
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return error;
    }

    private void thawQuietly(String uuid) {
        try {
            libvirt.fsThaw(uuid);
        } catch (LibvirtCallException | LibvirtConnection.UnavailableException e) {
            LOG.debug("{}: thaw after a failed freeze: {}", uuid, e.getMessage());
        }
    }

    private static DomainDocument parse(String xml) {
        try {
            return DomainDocument.parse(xml);
        } catch (DomainDocument.InvalidXmlException e) {
            return null;
        }
    }
}
