package io.virtfleet.agent.guest;

import io.virtfleet.api.v1alpha1.DomainStatus;
import io.virtfleet.api.v1alpha1.GuestInterface;
import io.virtfleet.api.v1alpha1.GuestOSInfo;
import io.virtfleet.reconcilers.lifecycle.Conditions;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What a Domain's status says about its guest agent: the {@code GuestAgentConnected} condition's status, reason and
 * message, the interfaces and OS info (null: none to report), and when to look again (null: not before something
 * else changes).
 */
public record GuestView(String status, String reason, String message, List<GuestInterface> interfaces,
                        GuestOSInfo osInfo, Duration pollAgain) {

    /** The last answer of a domain's guest agent, or its failure. */
    public record Reading(Instant at, List<GuestReplies.RawInterface> interfaces, String osinfoReply,
                          String hostnameReply, String error) {
        public boolean failed() {
            return error != null;
        }
    }

    /** How often a connected guest agent is asked again (addresses change with DHCP, host names with cloud-init). */
    public static final Duration POLL_INTERVAL = Duration.ofSeconds(15);

    /** Pure: the view of a domain that is {@code active} with this channel state and this last reading. */
    public static GuestView of(boolean active, GuestReplies.Channel channel, Reading last,
                               List<io.virtfleet.api.v1alpha1.DeviceStatus> devices, Instant now) {
        if (!active) {
            return new GuestView(Conditions.FALSE, DomainStatus.GUEST_AGENT_NOT_RUNNING, "the domain is not running",
                    null, null, null);
        }
        return switch (channel) {
            case NONE -> new GuestView(Conditions.FALSE, DomainStatus.GUEST_AGENT_NO_CHANNEL,
                    "the domain has no " + GuestReplies.CHANNEL + " channel", null, null, null);
            // No polling: libvirt's agent lifecycle event (LibvirtConnection) re-syncs the domain when the guest opens
            // the port, and the periodic resync is the safety net.
            case DISCONNECTED -> new GuestView(Conditions.FALSE, DomainStatus.GUEST_AGENT_CHANNEL_DISCONNECTED,
                    "no guest agent has the " + GuestReplies.CHANNEL + " channel open (install and start "
                            + "qemu-guest-agent in the guest)", null, null, null);
            case CONNECTED -> {
                if (last == null) {
                    yield new GuestView(Conditions.UNKNOWN, DomainStatus.GUEST_AGENT_QUERYING,
                            "the guest agent channel is connected; asking the agent", null, null, Duration.ofSeconds(2));
                }
                Duration age = Duration.between(last.at(), now);
                Duration again = age.compareTo(POLL_INTERVAL) >= 0 ? Duration.ofSeconds(1) : POLL_INTERVAL.minus(age);
                if (last.failed()) {
                    yield new GuestView(Conditions.FALSE, DomainStatus.GUEST_AGENT_UNRESPONSIVE,
                            "the guest agent channel is connected but the agent did not answer: " + last.error(),
                            null, null, again);
                }
                GuestOSInfo os = GuestReplies.osInfo(last.osinfoReply(), last.hostnameReply());
                String what = (os.name != null ? os.name + (os.versionId != null ? " " + os.versionId : "") : "guest")
                        + (os.hostname != null ? ", host name " + os.hostname : "");
                yield new GuestView(Conditions.TRUE, DomainStatus.GUEST_AGENT_CONNECTED,
                        "the guest agent answers: " + what,
                        GuestReplies.interfaces(last.interfaces(), devices), os, again);
            }
        };
    }

    /** True when a reading taken at {@code at} is due for renewal. */
    public static boolean due(Reading last, Instant now) {
        return last == null || Duration.between(last.at(), now).compareTo(POLL_INTERVAL) >= 0;
    }
}
