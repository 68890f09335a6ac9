package io.virtfleet.operator;

import io.virtfleet.api.v1alpha1.ApiGroup;

import io.virtfleet.reconcilers.requests.RequestDeadlines;

import io.virtfleet.observability.serving.Serving;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;

/**
 * How a {@link VirtfleetOperator} runs. Build with {@link #builder()}; the defaults suit a single replica.
 *
 * @param namespaces             namespaces whose VirtualMachines are reconciled; empty: all
 * @param leaderElection         elect a leader through a coordination.k8s.io Lease so several replicas are safe
 * @param leaseName              name of the leader-election Lease
 * @param leaseNamespace         its namespace ({@link ApiGroup#SYSTEM_NAMESPACE})
 * @param identity               this replica's identity in the Lease (default: $HOSTNAME or a random id)
 * @param leaseDuration          leader election timings (client-go defaults: 15 s / 10 s / 2 s)
 * @param exitOnLostLeadership   when leadership is lost: exit the JVM (true, for real deployments) or only stop this
 *                               operator (false, for tests and embedding)
 * @param shutdownTimeoutSeconds Domain spec.shutdownTimeoutSeconds: how long a graceful shutdown may take
 * @param pendingRetry           how often an unschedulable VM is looked at again even without Host/Lease events
 * @param maxReconcileInterval   every VM is reconciled at least this often
 * @param reconcileThreads       concurrent reconciliations
 * @param healthPort             port of /healthz and /readyz; negative: off, 0: any free port
 * @param metricsPort            port of /metrics (Prometheus text); negative: off, 0: any free port
 * @param serving                how both ports are served (default: plain HTTP on 127.0.0.1, for embedding and tests;
 *                               `virtfleet operator` serves HTTPS with bearer-token authentication)
 * @param clock                  time source (tests)
 * @param requestDeadlines       how long a snapshot, restore, clone or backup may stay unfinished (from its creation)
 * @param startGrace             after creating a VM's Domain, how long the status waits for the agent's first report
 *                               (one status write with host, Scheduled and Running instead of two); zero: write at once
 */
public record OperatorConfig(Set<String> namespaces, boolean leaderElection, String leaseName, String leaseNamespace,
                             String identity, Duration leaseDuration, Duration renewDeadline, Duration retryPeriod,
                             boolean exitOnLostLeadership, int shutdownTimeoutSeconds, Duration pendingRetry,
                             Duration maxReconcileInterval, int reconcileThreads, int healthPort,
                             int metricsPort, Serving serving, Clock clock, RequestDeadlines.Limits requestDeadlines,
                             Duration startGrace) {
    public static final String DEFAULT_LEASE_NAME = "virtfleet-operator";
    public static final int DEFAULT_SHUTDOWN_TIMEOUT_SECONDS = 120;
    /** The ports deploy/base's probes and metrics Service use (the command's defaults; off when embedded). */
    public static final int DEFAULT_HEALTH_PORT = 8080;
    public static final int DEFAULT_METRICS_PORT = 9090;
    public static final Duration DEFAULT_START_GRACE = Duration.ofSeconds(2);

    public OperatorConfig {
        namespaces = namespaces == null ? Set.of() : Set.copyOf(namespaces);
        Objects.requireNonNull(leaseName);
        Objects.requireNonNull(leaseNamespace);
        Objects.requireNonNull(identity);
        Objects.requireNonNull(clock);
        requestDeadlines = requestDeadlines == null ? RequestDeadlines.Limits.DEFAULT : requestDeadlines;
        serving = serving == null ? Serving.LOOPBACK_PLAIN : serving;
        startGrace = startGrace == null ? DEFAULT_START_GRACE : startGrace;
        if (startGrace.isNegative()) {
            throw new IllegalArgumentException("startGrace: must not be negative, got " + startGrace);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private Set<String> namespaces = Set.of();
        private RequestDeadlines.Limits requestDeadlines = RequestDeadlines.Limits.DEFAULT;
        private boolean leaderElection;
        private String leaseName = DEFAULT_LEASE_NAME;
        private String leaseNamespace = ApiGroup.SYSTEM_NAMESPACE;
        private String identity = defaultIdentity();
        private Duration leaseDuration = Duration.ofSeconds(15);
        private Duration renewDeadline = Duration.ofSeconds(10);
        private Duration retryPeriod = Duration.ofSeconds(2);
        private boolean exitOnLostLeadership = true;
        private int shutdownTimeoutSeconds = DEFAULT_SHUTDOWN_TIMEOUT_SECONDS;
        private Duration pendingRetry = Duration.ofSeconds(30);
        private Duration maxReconcileInterval = Duration.ofMinutes(5);
        private int reconcileThreads = 4;
        private int healthPort = -1;
        private int metricsPort = -1;
        private Serving serving = Serving.LOOPBACK_PLAIN;
        private Clock clock = Clock.systemUTC();
        private Duration startGrace = DEFAULT_START_GRACE;

        public Builder namespaces(Set<String> namespaces) {
            this.namespaces = namespaces;
            return this;
        }

        public Builder leaderElection(boolean on) {
            this.leaderElection = on;
            return this;
        }

        public Builder leaseName(String name) {
            this.leaseName = name;
            return this;
        }

        public Builder leaseNamespace(String namespace) {
            this.leaseNamespace = namespace;
            return this;
        }

        public Builder identity(String identity) {
            this.identity = identity;
            return this;
        }

        public Builder leaderElectionTimings(Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {
            this.leaseDuration = leaseDuration;
            this.renewDeadline = renewDeadline;
            this.retryPeriod = retryPeriod;
            return this;
        }

        public Builder exitOnLostLeadership(boolean exit) {
            this.exitOnLostLeadership = exit;
            return this;
        }

        public Builder shutdownTimeoutSeconds(int seconds) {
            this.shutdownTimeoutSeconds = seconds;
            return this;
        }

        public Builder pendingRetry(Duration d) {
            this.pendingRetry = d;
            return this;
        }

        public Builder maxReconcileInterval(Duration d) {
            this.maxReconcileInterval = d;
            return this;
        }

        public Builder reconcileThreads(int n) {
            this.reconcileThreads = n;
            return this;
        }

        /** Negative: off; 0: any free port. */
        public Builder healthPort(int port) {
            this.healthPort = port;
            return this;
        }

        /** Negative: off; 0: any free port. */
        public Builder metricsPort(int port) {
            this.metricsPort = port;
            return this;
        }

        /** How the health and metrics ports are served (HTTPS and authentication, or plain HTTP on loopback). */
        public Builder serving(Serving s) {
            this.serving = s;
            return this;
        }

        public Builder requestDeadlines(RequestDeadlines.Limits limits) {
            this.requestDeadlines = limits;
            return this;
        }

        /** How long a new VM's status waits for the agent's first report; zero: no wait. */
        public Builder startGrace(Duration d) {
            this.startGrace = d;
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        public OperatorConfig build() {
            return new OperatorConfig(namespaces, leaderElection, leaseName, leaseNamespace, identity, leaseDuration,
                    renewDeadline, retryPeriod, exitOnLostLeadership, shutdownTimeoutSeconds, pendingRetry,
                    maxReconcileInterval, reconcileThreads, healthPort, metricsPort, serving, clock,
                    requestDeadlines, startGrace);
        }
    }

    static String defaultIdentity() {
        String host = System.getenv("POD_NAME");
        if (host == null || host.isBlank()) {
            host = System.getenv("HOSTNAME");
        }
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        return (host == null || host.isBlank() ? "virtfleet-operator" : host) + "-" + suffix;
    }
}
