// The tun's addresses: the original's defaults for agent_1..agent_6, options, clear errors.
#include "engine/agent/tun_addresses.h"

#include <catch2/catch.hpp>

namespace mplane::agent {
namespace {

TEST_CASE("tun addresses: agent_1..agent_6 have the original's defaults", "[engine][agent]") {
  for (int n = 1; n <= 6; ++n) {
    const std::string name = "agent_" + std::to_string(n);
    const auto a = resolve_tun_addresses(name, {});
    REQUIRE(a);
    CHECK(a->ipv4_address == "10.2.0." + std::to_string(n));
    CHECK(a->ipv4_network() == "10.2.0.0");
    CHECK(a->ipv6_prefix == "bbbb");
    CHECK(a->ipv6_host == std::to_string(n));
    CHECK(a->ipv6_global_text() == "bbbb::" + std::to_string(n));
    CHECK(a->ipv6_link_local_text() == "fe80::" + std::to_string(n));
  }
  CHECK_FALSE(default_tun_addresses("agent_7"));
  CHECK_FALSE(default_tun_addresses("agent_0"));
  CHECK_FALSE(default_tun_addresses("agent_10"));
}

TEST_CASE("tun addresses: options override the defaults one by one", "[engine][agent]") {
  const auto a = resolve_tun_addresses("agent_2", {"10.9.8.7", std::nullopt, "a"});
  REQUIRE(a);
  CHECK(a->ipv4_address == "10.9.8.7");
  CHECK(a->ipv4_network() == "10.9.8.0");
  CHECK(a->ipv6_global_text() == "bbbb::a");
  const auto b = resolve_tun_addresses("coap_client", {"10.2.0.9", "2001:db8", "9"});
  REQUIRE(b);
  CHECK(b->ipv6_global_text() == "2001:db8::9");
  CHECK(b->ipv6_link_local_text() == "fe80::9");
}

TEST_CASE("tun addresses: a name without defaults needs them all, bad ones are named",
          "[engine][agent]") {
  const auto missing = resolve_tun_addresses("coap_client", {std::nullopt, "bbbb", std::nullopt});
  REQUIRE_FALSE(missing);
  CHECK(missing.error() ==
        "agent name 'coap_client' has no default addresses (only agent_1 to agent_6 have): give "
        "--ipv4-address, --ipv6-host");
  const auto bad4 = resolve_tun_addresses("agent_1", {"10.2.0", std::nullopt, std::nullopt});
  REQUIRE_FALSE(bad4);
  CHECK(bad4.error() == "--ipv4-address '10.2.0': not an IPv4 address");
  const auto bad6 = resolve_tun_addresses("agent_1", {std::nullopt, "zz", std::nullopt});
  REQUIRE_FALSE(bad6);
  CHECK(bad6.error() == "--ipv6-prefix 'zz' with --ipv6-host '1': 'zz::1' is not an IPv6 address");
}

}  // namespace
}  // namespace mplane::agent
