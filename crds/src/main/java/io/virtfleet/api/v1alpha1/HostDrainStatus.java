package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import java.util.ArrayList;
import java.util.List;

/**
 * Progress of a host's drain ({@code Host.spec.drain}), written by the operator only (the agent's status writes never
 * include it); absent when the host is not draining.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class HostDrainStatus {
    public static final String DRAINING = "Draining";
    public static final String DRAINED = "Drained";
    public static final String INCOMPLETE = "Incomplete";

    @JsonPropertyDescription("Draining (VMs are being moved or stopped), Drained (no VM runs here any more) or "
            + "Incomplete (nothing more is in progress, but VMs listed as NotMoved still run here).")
    public String phase;

    @JsonPropertyDescription("Identifies this drain: its VirtualMachineMigrations carry it as label virtfleet.io/drain-id.")
    public String id;

    @JsonPropertyDescription("When the drain started.")
    public String startTime;

    @JsonPropertyDescription("When the drain reached Drained.")
    public String completionTime;

    @JsonPropertyDescription("A one-line summary, e.g. '3 VMs: 2 migrated, 1 not moved'.")
    public String message;

    @JsonPropertyDescription("Each VM the drain concerns: the ones still here and the ones it moved.")
    public List<Vm> vms = new ArrayList<>();

    /** One VM of the drain. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Vm {
        public static final String MIGRATING = "Migrating";
        public static final String MIGRATED = "Migrated";
        public static final String STOPPING = "Stopping";
        public static final String STOPPED = "Stopped";
        public static final String NOT_MOVED = "NotMoved";

        public String namespace;
        public String name;

        @JsonPropertyDescription("The VM's spec.evictionStrategy as the drain applied it (LiveMigrate when absent).")
        public String evictionStrategy;

        @JsonPropertyDescription("Migrating, Migrated, Stopping, Stopped (not running: it stays assigned to this host) "
                + "or NotMoved (still runs here; message says why).")
        public String state;

        @JsonPropertyDescription("The VirtualMachineMigration (in the VM's namespace) of the latest attempt.")
        public String migration;

        @JsonPropertyDescription("Where it went (Migrated).")
        public String targetHost;

        @JsonPropertyDescription("Why the VM was not moved, or what happens to it.")
        public String message;

        @JsonPropertyDescription("NotMoved after a failed or refused migration: when the drain tries again.")
        public String retryTime;

        public Vm() {
        }

        public Vm(String namespace, String name, String evictionStrategy, String state, String migration,
                  String targetHost, String message) {
            this.namespace = namespace;
            this.name = name;
            this.evictionStrategy = evictionStrategy;
            this.state = state;
            this.migration = migration;
            this.targetHost = targetHost;
            this.message = message;
        }
    }
}
