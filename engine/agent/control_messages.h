// The original agent's control messages (WIRE.md §1.4, §1.5), written byte for byte as it does
// (keys sorted, Python json.dumps separators) and read leniently.
//
//  * fromAgent.NAME.ip.tun.started, after the tun is up (and after each tun.start received):
//    {"_api_version": "1.2.15", "ipv4_address": "10.2.0.1", "ipv4_host": null,
//     "ipv4_netmask": "255.255.255.0", "ipv4_network": "10.2.0.0", "ipv6_host": "1",
//     "ipv6_no_forwarding": false, "ipv6_prefix": "bbbb", "name": "agent_1",
//     "re_route_packets_host": null, "re_route_packets_if": null, "re_route_packets_prefix": null}
//    (observed on the wire). The router learns agents from it.
//  * testingtool.component.ready, on every (re)connection:
//    {"_api_version": "1.2.15", "component": "agent_1",
//     "description": "Component READY to start test suite."}
//    (from the original's code, agent/connectors/core.py and its messages library: not observed).
// Pure; any thread.
#pragma once

#include <string>
#include <string_view>

#include "engine/agent/tun_addresses.h"
#include "parsers/base/result.h"
#include "parsers/json/out_buffer.h"

namespace mplane::agent {

void write_tun_started(json::OutBuffer& out, std::string_view agent_name, const TunAddresses& a);
void write_component_ready(json::OutBuffer& out, std::string_view component);

// What a tun-started message says; a field absent or null is empty.
struct TunStartedInfo {
  std::string name;
  std::string ipv4_address;
  std::string ipv6_prefix;
  std::string ipv6_host;
};

// Reads a tun-started body. Errors: invalid JSON, not an object, no string "name", a field
// above that is neither a string nor null, a body over 64 KiB.
[[nodiscard]] Result<TunStartedInfo> parse_tun_started(std::string_view body);

}  // namespace mplane::agent
