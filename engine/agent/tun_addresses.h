// The addresses an agent gives its tun (WIRE.md §1.2, §1.6): IPv4 A/24, IPv6 P::H/64 and the
// link-local fe80::H/64, from the three options --ipv4-address A, --ipv6-prefix P,
// --ipv6-host H, or from the original's defaults for agent_1..agent_6 (10.2.0.N, bbbb, N).
//
// Differences from the original: an option given alone overrides that default alone (the
// original ignores options unless all three are given), and a name without defaults gets an
// error naming the missing options (the original dies with KeyError). Pure; any thread.
#pragma once

#include <netinet/in.h>

#include <optional>
#include <string>
#include <string_view>

#include "parsers/base/result.h"

namespace mplane::agent {

inline constexpr int kIpv4PrefixLength = 24;  // the original's fixed /24
inline constexpr int kIpv6PrefixLength = 64;  // P::H/64 and fe80::H/64

// What the command line gave; nullopt = not given.
struct TunAddressOptions {
  std::optional<std::string> ipv4_address;
  std::optional<std::string> ipv6_prefix;
  std::optional<std::string> ipv6_host;
};

// The resolved addresses: the texts as the original publishes them in its tun-started message,
// and their binary forms for rtnetlink (network byte order).
struct TunAddresses {
  std::string ipv4_address;  // "10.2.0.1"
  std::string ipv6_prefix;   // "bbbb"
  std::string ipv6_host;     // "1"
  in_addr ipv4{};
  in6_addr ipv6_global{};      // P::H
  in6_addr ipv6_link_local{};  // fe80::H

  std::string ipv4_network() const;  // "10.2.0.0"
  static constexpr std::string_view kIpv4Netmask = "255.255.255.0";
  std::string ipv6_global_text() const;      // "bbbb::1"
  std::string ipv6_link_local_text() const;  // "fe80::1"
};

// The original's defaults, for agent_1..agent_6 only; nullopt for any other name.
std::optional<TunAddressOptions> default_tun_addresses(std::string_view agent_name);

// Resolves the options against the defaults of `agent_name`. Errors: a missing value for a name
// without defaults ("agent name 'coap_client' has no default addresses (only agent_1 to
// agent_6 have): give --ipv4-address, --ipv6-prefix, --ipv6-host"), an address that does not
// parse ("--ipv4-address '10.2.0': not an IPv4 address"; "--ipv6-prefix 'zz' with --ipv6-host
// '1': 'zz::1' is not an IPv6 address").
[[nodiscard]] Result<TunAddresses> resolve_tun_addresses(std::string_view agent_name,
                                                         const TunAddressOptions& options);

}  // namespace mplane::agent
