// Agent names and the AMQP routing keys of the ioppytest agent protocol (WIRE.md §1.4).
//
// An agent NAME is one word of a topic routing key: it may not be empty or contain `.` (which
// would split it into several words), `*` or `#` (wildcards in bindings). The original agent
// accepts any name and then binds queues to keys it did not mean; we refuse them up front.
// Pure functions, no I/O; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "parsers/base/result.h"

namespace mplane::agent {

// AMQP short strings (routing keys) hold at most 255 bytes; the longest key built from a name is
// "fromAgent.NAME.ip.tun.packet.raw", so a name is at most 255 - 28 bytes.
inline constexpr std::size_t kMaxAgentNameBytes = 227;

// Ok, or why `name` cannot be an agent name ("agent name 'a.b' contains '.' ...").
[[nodiscard]] Status<> validate_agent_name(std::string_view name);

// Keys of one agent. `name` must have passed validate_agent_name().
std::string uplink_packet_key(std::string_view name);    // fromAgent.NAME.ip.tun.packet.raw
std::string downlink_packet_key(std::string_view name);  // toAgent.NAME.ip.tun.packet.raw
std::string tun_started_key(std::string_view name);      // fromAgent.NAME.ip.tun.started
std::string tun_start_key(std::string_view name);        // toAgent.NAME.ip.tun.start

// Keys shared by all (WIRE.md §1.4).
inline constexpr std::string_view kComponentReadyKey = "testingtool.component.ready";
inline constexpr std::string_view kLossyLinkStartKey = "routing.lossy.link.start";
// Bindings the router uses to hear every agent (topic patterns, not keys).
inline constexpr std::string_view kAllUplinkPacketsPattern = "fromAgent.*.ip.tun.packet.raw";
inline constexpr std::string_view kAllTunStartedPattern = "fromAgent.*.ip.tun.started";

// The agent name of an uplink packet key or a tun-started key; nullopt for any other key or
// when the name in it is not valid. The view points into `key`.
std::optional<std::string_view> agent_of_uplink_packet_key(std::string_view key);
std::optional<std::string_view> agent_of_tun_started_key(std::string_view key);

}  // namespace mplane::agent
