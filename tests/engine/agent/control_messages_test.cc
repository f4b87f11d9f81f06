// The original agent's control messages: tun started (golden) and component ready.
#include "engine/agent/control_messages.h"

#include <catch2/catch.hpp>

#include "tests/test_support.h"

namespace mplane::agent {
namespace {

TEST_CASE("tun started: ours is the original's golden message byte for byte", "[engine][agent]") {
  const auto addresses = resolve_tun_addresses("agent_1", {});
  REQUIRE(addresses);
  json::OutBuffer out;
  write_tun_started(out, "agent_1", *addresses);
  CHECK(out.view() == test::read_file(test::data_dir() / "agent" / "tun_started_agent_1.json"));
}

TEST_CASE("tun started: the golden message parses, bad ones are refused", "[engine][agent]") {
  const auto info =
      parse_tun_started(test::read_file(test::data_dir() / "agent" / "tun_started_agent_1.json"));
  REQUIRE(info);
  CHECK(info->name == "agent_1");
  CHECK(info->ipv4_address == "10.2.0.1");
  CHECK(info->ipv6_prefix == "bbbb");
  CHECK(info->ipv6_host == "1");
  const auto nulls = parse_tun_started(R"({"name": "n", "ipv4_address": null})");
  REQUIRE(nulls);
  CHECK(nulls->ipv4_address.empty());
  CHECK_THAT(parse_tun_started("{}").error(), Catch::Contains("no \"name\""));
  CHECK_THAT(parse_tun_started("[").error(), Catch::Contains("not a JSON object"));
  CHECK_THAT(parse_tun_started(R"({"name": 1})").error(),
             Catch::Contains("\"name\" is neither a string nor null"));
  CHECK_THAT(parse_tun_started(R"({"name": "a"} x)").error(), Catch::Contains("invalid JSON"));
  CHECK_THAT(parse_tun_started(R"({"name": "a"} {})").error(), Catch::Contains("invalid JSON"));
}

TEST_CASE("component ready: the original's body", "[engine][agent]") {
  json::OutBuffer out;
  write_component_ready(out, "agent_1");
  CHECK(out.view() == R"({"_api_version": "1.2.15", "component": "agent_1", )"
                      R"("description": "Component READY to start test suite."})");
}

}  // namespace
}  // namespace mplane::agent
