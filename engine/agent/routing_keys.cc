#include "engine/agent/routing_keys.h"

namespace mplane::agent {
namespace {

constexpr std::string_view kFromAgent = "fromAgent.";
constexpr std::string_view kToAgent = "toAgent.";
constexpr std::string_view kPacketSuffix = ".ip.tun.packet.raw";
constexpr std::string_view kStartedSuffix = ".ip.tun.started";
constexpr std::string_view kStartSuffix = ".ip.tun.start";

std::string join(std::string_view head, std::string_view name, std::string_view tail) {
  std::string key;
  key.reserve(head.size() + name.size() + tail.size());
  key.append(head).append(name).append(tail);
  return key;
}

std::optional<std::string_view> name_between(std::string_view key, std::string_view head,
                                             std::string_view tail) {
  if (key.size() <= head.size() + tail.size() || !key.starts_with(head) || !key.ends_with(tail)) {
    return std::nullopt;
  }
  const std::string_view name = key.substr(head.size(), key.size() - head.size() - tail.size());
  if (!validate_agent_name(name)) return std::nullopt;
  return name;
}

}  // namespace

Status<> validate_agent_name(std::string_view name) {
  if (name.empty()) return fail("agent name is empty");
  if (name.size() > kMaxAgentNameBytes) {
    return fail("agent name is " + std::to_string(name.size()) + " bytes long (at most " +
                std::to_string(kMaxAgentNameBytes) + ": it goes into 255-byte routing keys)");
  }
  for (const char c : {'.', '*', '#'}) {
    if (name.find(c) != std::string_view::npos) {
      return fail("agent name '" + std::string(name) + "' contains '" + std::string(1, c) +
                  "' (a routing-key separator or wildcard): choose a name without '.', '*' or '#'");
    }
  }
  return Ok{};
}

std::string uplink_packet_key(std::string_view name) {
  return join(kFromAgent, name, kPacketSuffix);
}
std::string downlink_packet_key(std::string_view name) {
  return join(kToAgent, name, kPacketSuffix);
}
std::string tun_started_key(std::string_view name) {
  return join(kFromAgent, name, kStartedSuffix);
}
std::string tun_start_key(std::string_view name) { return join(kToAgent, name, kStartSuffix); }

std::optional<std::string_view> agent_of_uplink_packet_key(std::string_view key) {
  return name_between(key, kFromAgent, kPacketSuffix);
}

std::optional<std::string_view> agent_of_tun_started_key(std::string_view key) {
  return name_between(key, kFromAgent, kStartedSuffix);
}

}  // namespace mplane::agent
