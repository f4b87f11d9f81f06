#include "engine/agent/tun_addresses.h"

#include <arpa/inet.h>

#include <array>
#include <vector>

namespace mplane::agent {
namespace {

std::string ntop(int family, const void* addr) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (::inet_ntop(family, addr, text.data(), text.size()) == nullptr) return "?";
  return text.data();
}

Status<> parse_ipv6(const std::string& prefix, const std::string& host, in6_addr& out) {
  const std::string text = prefix + "::" + host;
  if (::inet_pton(AF_INET6, text.c_str(), &out) == 1) return Ok{};
  return fail("--ipv6-prefix '" + prefix + "' with --ipv6-host '" + host + "': '" + text +
              "' is not an IPv6 address");
}

Result<TunAddresses> parse_all(std::string ipv4, std::string prefix, std::string host) {
  TunAddresses a;
  if (::inet_pton(AF_INET, ipv4.c_str(), &a.ipv4) != 1) {
    return fail("--ipv4-address '" + ipv4 + "': not an IPv4 address");
  }
  if (auto s = parse_ipv6(prefix, host, a.ipv6_global); !s) return fail(s.error());
  if (auto s = parse_ipv6("fe80", host, a.ipv6_link_local); !s) return fail(s.error());
  a.ipv4_address = std::move(ipv4);
  a.ipv6_prefix = std::move(prefix);
  a.ipv6_host = std::move(host);
  return a;
}

}  // namespace

std::string TunAddresses::ipv4_network() const {
  in_addr net = ipv4;
  net.s_addr &= htonl(0xffffff00U);
  return ntop(AF_INET, &net);
}

std::string TunAddresses::ipv6_global_text() const { return ntop(AF_INET6, &ipv6_global); }
std::string TunAddresses::ipv6_link_local_text() const { return ntop(AF_INET6, &ipv6_link_local); }

std::optional<TunAddressOptions> default_tun_addresses(std::string_view agent_name) {
  constexpr std::string_view kPrefix = "agent_";
  if (agent_name.size() != kPrefix.size() + 1 || !agent_name.starts_with(kPrefix)) {
    return std::nullopt;
  }
  const char n = agent_name.back();
  if (n < '1' || n > '6') return std::nullopt;
  return TunAddressOptions{"10.2.0." + std::string(1, n), "bbbb", std::string(1, n)};
}

Result<TunAddresses> resolve_tun_addresses(std::string_view agent_name,
                                           const TunAddressOptions& options) {
  const std::optional<TunAddressOptions> defaults = default_tun_addresses(agent_name);
  TunAddressOptions merged = defaults.value_or(TunAddressOptions{});
  if (options.ipv4_address) merged.ipv4_address = options.ipv4_address;
  if (options.ipv6_prefix) merged.ipv6_prefix = options.ipv6_prefix;
  if (options.ipv6_host) merged.ipv6_host = options.ipv6_host;
  std::vector<std::string> missing;
  if (!merged.ipv4_address) missing.emplace_back("--ipv4-address");
  if (!merged.ipv6_prefix) missing.emplace_back("--ipv6-prefix");
  if (!merged.ipv6_host) missing.emplace_back("--ipv6-host");
  if (!missing.empty()) {
    std::string list;
    for (const std::string& m : missing) list += (list.empty() ? "" : ", ") + m;
    return fail("agent name '" + std::string(agent_name) +
                "' has no default addresses (only agent_1 to agent_6 have): give " + list);
  }
  return parse_all(*merged.ipv4_address, *merged.ipv6_prefix, *merged.ipv6_host);
}

}  // namespace mplane::agent
