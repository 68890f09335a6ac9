package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import java.util.Objects;

/**
 * Whether a copy of a running VM (snapshot, clone, backup) was taken with the guest's filesystems frozen through its
 * guest agent (virDomainFSFreeze before, virDomainFSThaw after).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class FilesystemFreeze {
    /** Frozen for the copy and thawed after it: the copy is filesystem-consistent. */
    public static final String FROZEN = "Frozen";
    /** The VM has no connected guest agent: the copy is crash-consistent, as after a power cut. */
    public static final String NO_GUEST_AGENT = "NoGuestAgent";
    /** The agent could not freeze (message): the copy was taken crash-consistent. */
    public static final String FREEZE_FAILED = "FreezeFailed";
    /** Frozen, but the thaw failed (message): the guest's filesystems may still be frozen. */
    public static final String THAW_FAILED = "ThawFailed";

    @JsonPropertyDescription("Frozen (filesystem-consistent copy, thawed after), NoGuestAgent (crash-consistent), "
            + "FreezeFailed (crash-consistent; see message) or ThawFailed (see message).")
    public String state;
    @JsonPropertyDescription("How many filesystems the guest agent froze.")
    public Integer filesystems;
    @JsonPropertyDescription("The guest agent's or libvirt's message when the freeze or thaw failed.")
    public String message;

    public FilesystemFreeze() {
    }

    public FilesystemFreeze(String state, Integer filesystems, String message) {
        this.state = state;
        this.filesystems = filesystems;
        this.message = message;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FilesystemFreeze x && Objects.equals(state, x.state)
                && Objects.equals(filesystems, x.filesystems) && Objects.equals(message, x.message);
    }

    @Override
    public int hashCode() {
        return Objects.hash(state, filesystems, message);
    }
}
