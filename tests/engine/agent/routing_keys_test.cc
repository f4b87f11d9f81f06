// Agent names and routing keys (WIRE.md §1.4).
#include "engine/agent/routing_keys.h"

#include <catch2/catch.hpp>

#include <string>

namespace mplane::agent {
namespace {

TEST_CASE("agent routing keys are the original's", "[engine][agent]") {
  CHECK(uplink_packet_key("agent_1") == "fromAgent.agent_1.ip.tun.packet.raw");
  CHECK(downlink_packet_key("agent_1") == "toAgent.agent_1.ip.tun.packet.raw");
  CHECK(tun_started_key("coap_client") == "fromAgent.coap_client.ip.tun.started");
  CHECK(tun_start_key("coap_client") == "toAgent.coap_client.ip.tun.start");
  CHECK(kComponentReadyKey == "testingtool.component.ready");
  CHECK(kLossyLinkStartKey == "routing.lossy.link.start");
}

TEST_CASE("agent names: '.', '*', '#' and empty names are refused", "[engine][agent]") {
  CHECK(validate_agent_name("agent_1"));
  CHECK(validate_agent_name("coap-client 2"));
  const auto [name, reason] = GENERATE(table<std::string, std::string>({
      {"", "agent name is empty"},
      {"a.b", "contains '.'"},
      {"agent*", "contains '*'"},
      {"#", "contains '#'"},
      {std::string(kMaxAgentNameBytes + 1, 'a'), "bytes long"},
  }));
  const Status<> s = validate_agent_name(name);
  REQUIRE_FALSE(s);
  CHECK_THAT(s.error(), Catch::Contains(reason));
  CHECK(validate_agent_name(std::string(kMaxAgentNameBytes, 'a')));
  CHECK(uplink_packet_key(std::string(kMaxAgentNameBytes, 'a')).size() == 255);
}

TEST_CASE("the agent of a key: uplink packets and tun-started only", "[engine][agent]") {
  CHECK(agent_of_uplink_packet_key("fromAgent.agent_2.ip.tun.packet.raw") == "agent_2");
  CHECK(agent_of_tun_started_key("fromAgent.agent_2.ip.tun.started") == "agent_2");
  CHECK_FALSE(agent_of_uplink_packet_key("toAgent.agent_2.ip.tun.packet.raw"));
  CHECK_FALSE(agent_of_uplink_packet_key("fromAgent..ip.tun.packet.raw"));
  CHECK_FALSE(agent_of_uplink_packet_key("fromAgent.a.b.ip.tun.packet.raw"));
  CHECK_FALSE(agent_of_uplink_packet_key("fromAgent.agent_2.ip.tun.started"));
  CHECK_FALSE(agent_of_tun_started_key("fromAgent.agent_2.ip.tun.packet.raw"));
  CHECK_FALSE(agent_of_uplink_packet_key(""));
}

}  // namespace
}  // namespace mplane::agent
