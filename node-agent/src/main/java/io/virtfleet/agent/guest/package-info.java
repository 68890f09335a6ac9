/**
 * The guest agent: what qemu-guest-agent inside a running VM reports through libvirt (interfaces and addresses, OS and
 * host name), the {@code GuestAgentConnected} condition, and filesystem freeze/thaw around disk copies.
 */
package io.virtfleet.agent.guest;
