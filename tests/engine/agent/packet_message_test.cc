// The packet body of the original agent (WIRE.md §1.5): its golden messages parse, ours are the
// same bytes, round trips in both formats, and hostile bodies get clear errors.
#include "engine/agent/packet_message.h"

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "tests/test_support.h"

namespace mplane::agent {
namespace {

std::string golden(const std::string& name) {
  return test::read_file(test::data_dir() / "agent" / name);
}

std::vector<std::uint8_t> bytes_of(const PacketFields& f) { return {f.data.begin(), f.data.end()}; }

std::string write_json(const PacketFields& f) {
  json::OutBuffer out;
  write_packet_json(out, f);
  return out.str();
}

// An IPv4 or IPv6 header (version nibble right) followed by random bytes.
std::vector<std::uint8_t> random_packet(std::size_t size, int version, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> p(size);
  for (auto& b : p) b = static_cast<std::uint8_t>(rng());
  if (!p.empty()) p[0] = static_cast<std::uint8_t>((version << 4) | (p[0] & 0x0f));
  return p;
}

TEST_CASE("packet message: the original's golden messages parse", "[engine][agent]") {
  PacketMessageReader reader;
  const std::string up = golden("uplink_agent_1.json");
  REQUIRE(up.size() == 259);
  const auto uplink = reader.parse_json(up);
  REQUIRE(uplink);
  CHECK(uplink->data.size() == 48);
  CHECK(uplink->data[0] == 96);    // IPv6
  CHECK(uplink->data[40] == 133);  // ICMPv6 router solicitation
  CHECK(uplink->interface_name == "tun0");
  CHECK(uplink->timestamp == 1795319734);
  const std::string down = golden("downlink_router_agent_1.json");
  REQUIRE(down.size() == 215);
  const auto downlink = reader.parse(PacketFormat::kJson, down);
  REQUIRE(downlink);
  CHECK(downlink->data.size() == 36);
  CHECK(downlink->data[0] == 69);  // IPv4, 20-byte header
  CHECK(downlink->data[9] == 1);   // ICMP
  CHECK(downlink->timestamp == 1795319978);
}

TEST_CASE("packet message: ours are the golden messages byte for byte", "[engine][agent]") {
  for (const char* name : {"uplink_agent_1.json", "downlink_router_agent_1.json"}) {
    INFO(name);
    const std::string body = golden(name);
    PacketMessageReader reader;
    const auto fields = reader.parse_json(body);
    REQUIRE(fields);
    CHECK(write_json(*fields) == body);
  }
}

TEST_CASE("packet message: IPv4 and IPv6 packets round trip, JSON and raw", "[engine][agent]") {
  PacketMessageReader reader;
  const auto [size, version] = GENERATE(table<std::size_t, int>(
      {{0, 4}, {1, 4}, {20, 4}, {40, 6}, {1400, 4}, {1500, 6}, {9000, 6}, {kMaxPacketBytes, 4}}));
  INFO("size " << size << " IPv" << version);
  const auto packet = random_packet(size, version, static_cast<std::uint32_t>(size));
  const PacketFields in{packet, "tun7", 1795319734};
  const std::string body = write_json(in);
  const auto out = reader.parse_json(body);
  REQUIRE(out);
  CHECK(bytes_of(*out) == packet);
  CHECK(out->interface_name == "tun7");
  CHECK(out->timestamp == 1795319734);
  if (size == 0) CHECK(body.find("\"data\": []") != std::string::npos);
  if (size == 0) return;  // a raw body is never empty
  json::OutBuffer raw;
  write_packet_body(raw, PacketFormat::kRaw, in);
  CHECK(raw.size() == size);
  const auto raw_out = reader.parse(PacketFormat::kRaw, raw.view());
  REQUIRE(raw_out);
  CHECK(bytes_of(*raw_out) == packet);
}

TEST_CASE("packet message: any key order, unknown keys, float timestamps, escapes",
          "[engine][agent]") {
  PacketMessageReader reader;
  const auto f = reader.parse_json(
      R"({"timestamp": 1488586183.45, "x": {"y": [1, "z"]}, "interface_name": "t\"un\u00e9",)"
      R"( "data": [ 1 ,2,255 ], "_api_version": "9"})");
  REQUIRE(f);
  CHECK(bytes_of(*f) == std::vector<std::uint8_t>{1, 2, 255});
  CHECK(f->timestamp == 1488586183);
  CHECK(f->interface_name == "t\"un\xc3\xa9");
  // Written as Python's json.dumps (ensure_ascii) writes it.
  CHECK_THAT(write_json(*f), Catch::Contains(R"("interface_name": "t\"un\u00e9")"));
  const auto minimal = reader.parse_json(R"({"data": [4]})");
  REQUIRE(minimal);
  CHECK(minimal->interface_name.empty());
  CHECK(minimal->timestamp == 0);
}

TEST_CASE("packet message: hostile bodies get a clear error", "[engine][agent]") {
  PacketMessageReader reader;
  const std::string small_list = R"({"data": [0, 0]})";
  std::string too_many = "{\"data\": [";
  for (std::size_t i = 0; i <= kMaxPacketBytes; ++i) too_many += i == 0 ? "0" : ",0";
  too_many += "]}";
  const auto [body, reason] = GENERATE_COPY(table<std::string, std::string>({
      {"", "invalid JSON"},
      {"not json", "not a JSON object"},
      {"[1, 2]", "not a JSON object"},
      {R"({"data": [1, 2)", "invalid JSON"},
      {R"({"data": [256]})", "\"data\"[0] is 256, not an integer from 0 to 255"},
      {R"({"data": [1, -1]})", "\"data\"[1] is -1, not an integer from 0 to 255"},
      {R"({"data": [1.5]})", "\"data\"[0] is 1.5, not an integer"},
      {R"({"data": ["1"]})", "\"data\"[0] is \"1\", not an integer"},
      {R"({"data": [true]})", "\"data\"[0] is true"},
      {R"({"data": [[1]]})", "\"data\"[0] is a list"},
      {R"({"data": [99999999999999999999999]})", "not an integer from 0 to 255"},
      {R"({"data": "YWJj"})", "\"data\" is not a list"},
      {R"({"interface_name": "tun0"})", "no \"data\""},
      {R"({"data": [1], "timestamp": "now"})", "\"timestamp\" is not a number"},
      {R"({"data": [1], "interface_name": 5})", "\"interface_name\" is not a string"},
      {R"({"data": [1]} {})", "text after the object"},
      {too_many, "more than 65535 items"},
      {std::string(kMaxJsonBodyBytes + 1, ' '), "JSON body of 1048577 bytes"},
  }));
  INFO(body.substr(0, 60));
  const auto r = reader.parse_json(body);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error(), Catch::StartsWith("packet message: "));
  CHECK_THAT(r.error(), Catch::Contains(reason));
  // The reader is still usable after an error.
  const auto ok = reader.parse_json(small_list);
  REQUIRE(ok);
  CHECK(ok->data.size() == 2);
}

TEST_CASE("packet message: raw bodies, formats and content types", "[engine][agent]") {
  PacketMessageReader reader;
  const auto empty = reader.parse(PacketFormat::kRaw, "");
  REQUIRE_FALSE(empty);
  CHECK(empty.error() == "packet message: empty raw body");
  const auto big = reader.parse(PacketFormat::kRaw, std::string(kMaxPacketBytes + 1, 'E'));
  REQUIRE_FALSE(big);
  CHECK_THAT(big.error(), Catch::Contains("65536 bytes"));
  CHECK(content_type(PacketFormat::kJson) == "application/json");
  CHECK(content_type(PacketFormat::kRaw) == "application/octet-stream");
  CHECK(parse_packet_format("raw").value() == PacketFormat::kRaw);
  CHECK(parse_packet_format("json").value() == PacketFormat::kJson);
  CHECK_FALSE(parse_packet_format("base64"));
  CHECK(to_string(PacketFormat::kRaw) == "raw");
}

}  // namespace
}  // namespace mplane::agent
