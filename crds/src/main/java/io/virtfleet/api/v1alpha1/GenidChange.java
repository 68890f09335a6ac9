package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One entry of a VM's generation-ID history. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class GenidChange {
    @JsonPropertyDescription("The new generation ID.")
    public String genid;
    @JsonPropertyDescription("Why it changed: Created, SnapshotRestored, BackupRestored, Cloned, Failover.")
    public String reason;
    @JsonPropertyDescription("When it changed (RFC 3339).")
    public String time;

    public GenidChange() {
    }

    public GenidChange(String genid, String reason, String time) {
        this.genid = genid;
        this.reason = reason;
        this.time = time;
    }
}
