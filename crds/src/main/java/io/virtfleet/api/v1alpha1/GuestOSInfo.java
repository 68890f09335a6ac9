package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import java.util.Objects;

/** The guest's operating system as its guest agent reports it (guest-get-osinfo, guest-get-host-name). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class GuestOSInfo {
    @JsonPropertyDescription("os-release ID, e.g. debian.")
    public String id;
    @JsonPropertyDescription("os-release NAME, e.g. Debian GNU/Linux.")
    public String name;
    @JsonPropertyDescription("os-release VERSION_ID, e.g. 12.")
    public String versionId;
    @JsonPropertyDescription("The running kernel's release (uname -r).")
    public String kernelRelease;
    @JsonPropertyDescription("The guest's host name.")
    public String hostname;

    @Override
    public boolean equals(Object o) {
        return o instanceof GuestOSInfo x && Objects.equals(id, x.id) && Objects.equals(name, x.name)
                && Objects.equals(versionId, x.versionId) && Objects.equals(kernelRelease, x.kernelRelease)
                && Objects.equals(hostname, x.hostname);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, name, versionId, kernelRelease, hostname);
    }

    @Override
    public String toString() {
        return id + " " + versionId + " " + kernelRelease + " " + hostname;
    }
}
