// Address text (PROTOCOL.md §2.2): Python ipaddress parsing, RFC 5952 output, prefixes.
#include <arpa/inet.h>

#include <cstring>
#include <random>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "parsers/mplane/primitive.h"

namespace mplane::model {
namespace {

std::string format(const Address& a) {
  char buf[kMaxScalarChars];
  return std::string(buf, format_address(buf, a));
}

TEST_CASE("addresses parse and come out canonical", "[parsers][address]") {
  auto [text, canonical] = GENERATE(table<std::string_view, std::string_view>({
      {"192.0.2.19", "192.0.2.19"},
      {"0.0.0.0", "0.0.0.0"},
      {"255.255.255.255", "255.255.255.255"},
      {"10.0.0.1", "10.0.0.1"},
      {"2001:0DB8:0:0::2", "2001:db8::2"},
      {"2001:db8::2", "2001:db8::2"},
      {"2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
      {"::", "::"},
      {"::1", "::1"},
      {"1::", "1::"},
      {"0:0:1::", "0:0:1::"},
      {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},  // a single zero group is not compressed
      {"::1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7"},
      {"1:0:0:1:0:0:0:1", "1:0:0:1::1"},  // the longest run
      {"1:0:0:0:1:0:0:1", "1::1:0:0:1"},  // the first run on ties
      {"1:0:0:2:0:0:3:4", "1::2:0:0:3:4"},
      {"0001:0002:000a:00Bc:0def:ABCD:0:0", "1:2:a:bc:def:abcd::"},
      {"fe80::1", "fe80::1"},
      {"::ffff:1.2.3.4", "::ffff:1.2.3.4"},  // IPv4-mapped: dotted, as glibc prints it
      {"::FFFF:102:304", "::ffff:1.2.3.4"},
      {"::1.2.3.4", "::102:304"},  // IPv4-compatible: hex, as Python prints it
      {"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"},
      {"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},
  }));
  INFO(text);
  auto a = parse_address(text);
  REQUIRE(a.ok());
  CHECK(format(*a) == canonical);
  CHECK_FALSE(a->has_prefix());
  auto again = parse_address(canonical);
  REQUIRE(again.ok());
  CHECK(*again == *a);
}

TEST_CASE("invalid addresses are rejected like Python's ip_address does", "[parsers][address]") {
  auto text =
      GENERATE(as<std::string_view>{}, "", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.-4",
               "010.0.0.1", "1.2.3.04", "00.0.0.0", "1..2.3", "1.2.3.4.", " 1.2.3.4", "1.2.3.4 ",
               "0x1.2.3.4", "1.2.3.1000", "198.51.100.0/24", ":", ":1", "1:", ":1::2",
               "1::2:", "1:::2", "1::2::3", "::00001", "1:2:3:4:5:6:7:8:9", "1::2:3:4:5:6:7:8",
               "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:1.2.3.4", "::ffff:01.2.3.4", "::1.2.3", "::g",
               "fe80::1%eth0", "2001:db8::/32", "[::1]", "::1 ", "1.2.3.4::");
  INFO(text);
  auto a = parse_address(text);
  REQUIRE_FALSE(a.ok());
  CHECK(a.error() == "'" + std::string(text) + "' does not appear to be an IPv4 or IPv6 address");
}

TEST_CASE("prefixes parse with allow_prefix", "[parsers][address]") {
  auto [text, canonical, length] = GENERATE(table<std::string_view, std::string_view, int>({
      {"198.51.100.0/24", "198.51.100.0/24", 24},
      {"0.0.0.0/0", "0.0.0.0/0", 0},
      {"10.0.0.0/8", "10.0.0.0/8", 8},
      {"10.128.0.0/9", "10.128.0.0/9", 9},
      {"192.0.2.1/32", "192.0.2.1", 32},  // full length: a plain address
      {"2001:0db8::/32", "2001:db8::/32", 32},
      {"::/0", "::/0", 0},
      {"2001:db8::1/128", "2001:db8::1", 128},
      {"2001:db8:0:1::/64", "2001:db8:0:1::/64", 64},
      {"fe80::/10", "fe80::/10", 10},
      {"fe80::/9", "fe80::/9", 9},
      {"10.0.0.0/7", "10.0.0.0/7", 7},
      {"192.0.2.7", "192.0.2.7", 32},
  }));
  INFO(text);
  auto a = parse_address(text, /*allow_prefix=*/true);
  REQUIRE(a.ok());
  CHECK(a->prefix == length);
  CHECK(format(*a) == canonical);
}

TEST_CASE("bad prefixes are rejected", "[parsers][address]") {
  auto [text, error] = GENERATE(table<std::string_view, std::string_view>({
      {"192.0.2.1/24", "has host bits set"},
      {"11.0.0.0/7", "has host bits set"},
      {"2001:db8::1/64", "has host bits set"},
      {"fe80::/8", "has host bits set"},
      {"192.0.2.0/33", "does not appear to be an IPv4 or IPv6 network"},
      {"2001:db8::/129", "does not appear to be an IPv4 or IPv6 network"},
      {"192.0.2.0/", "does not appear to be an IPv4 or IPv6 network"},
      {"192.0.2.0/-1", "does not appear to be an IPv4 or IPv6 network"},
      {"192.0.2.0/ 24", "does not appear to be an IPv4 or IPv6 network"},
      {"192.0.2.0/0024", "does not appear to be an IPv4 or IPv6 network"},
      {"192.0.2.0/255.255.255.0", "does not appear to be an IPv4 or IPv6 network"},
      {"192.0.2.0/24/24", "does not appear to be an IPv4 or IPv6 network"},
      {"/24", "does not appear to be an IPv4 or IPv6 network"},
      {"010.0.0.0/8", "does not appear to be an IPv4 or IPv6 network"},
  }));
  INFO(text);
  auto a = parse_address(text, /*allow_prefix=*/true);
  REQUIRE_FALSE(a.ok());
  CHECK(a.error() == "'" + std::string(text) + "' " + std::string(error));
}

TEST_CASE("a network contains the addresses under its prefix", "[parsers][address]") {
  auto [network, address, inside] = GENERATE(table<std::string_view, std::string_view, bool>({
      {"198.51.100.0/24", "198.51.100.7", true},
      {"198.51.100.0/24", "198.51.100.255", true},
      {"198.51.100.0/24", "198.51.101.0", false},
      {"198.51.100.0/24", "198.51.99.255", false},
      {"10.128.0.0/9", "10.200.1.1", true},
      {"10.128.0.0/9", "10.127.255.255", false},
      {"0.0.0.0/0", "203.0.113.9", true},
      {"192.0.2.1", "192.0.2.1", true},
      {"192.0.2.1", "192.0.2.2", false},
      {"198.51.100.0/24", "198.51.100.0/25", true},  // a smaller network lies inside
      {"198.51.100.0/25", "198.51.100.0/24", false},
      {"2001:db8::/32", "2001:db8:ffff::1", true},
      {"2001:db8::/32", "2001:db9::1", false},
      {"fe80::/10", "febf::1", true},
      {"fe80::/10", "fec0::1", false},
      {"::/0", "::1", true},
      {"::/0", "1.2.3.4", false},  // families never mix
      {"0.0.0.0/0", "::ffff:1.2.3.4", false},
  }));
  INFO(network);
  auto net = parse_address(network, true);
  auto a = parse_address(address, true);
  REQUIRE(net.ok());
  REQUIRE(a.ok());
  CHECK(net->contains(*a) == inside);
}

TEST_CASE("address equality compares family, prefix and the family's bytes", "[parsers][address]") {
  auto v4 = parse_address("10.0.0.0");
  auto v4net = parse_address("10.0.0.0/8", true);
  auto v6 = parse_address("::a00:0");
  REQUIRE(v4.ok());
  REQUIRE(v4net.ok());
  REQUIRE(v6.ok());
  CHECK(*v4 == *parse_address("10.0.0.0"));
  CHECK_FALSE(*v4 == *v4net);
  CHECK_FALSE(*v4 == *v6);
  Address dirty = *v4;
  dirty.bytes[15] = 1;  // bytes past an IPv4 address mean nothing
  CHECK(dirty == *v4);
}

TEST_CASE("IPv4 round-trips and matches inet_ntop", "[parsers][address]") {
  std::mt19937 rng(4);
  for (int i = 0; i < 20000; ++i) {
    Address a;
    auto bits = static_cast<std::uint32_t>(rng());
    std::memcpy(a.bytes, &bits, 4);
    char expected[INET_ADDRSTRLEN];
    REQUIRE(inet_ntop(AF_INET, a.bytes, expected, sizeof expected) != nullptr);
    std::string text = format(a);
    if (text != expected) FAIL(text << " != " << expected);
    auto back = parse_address(text);
    if (!back.ok() || !(*back == a)) FAIL("no round trip: " << text);
  }
  SUCCEED("20000 addresses");
}

// Random words, biased towards zero so that every compression case comes up.
Address random_ipv6(std::mt19937& rng) {
  Address a;
  a.family = 6;
  a.prefix = 128;
  for (int w = 0; w < 8; ++w) {
    auto r = static_cast<std::uint32_t>(rng());
    std::uint32_t word = r % 3 == 0 ? r >> 16 : r % 3 == 1 ? 0 : (r >> 28);
    a.bytes[2 * w] = static_cast<std::uint8_t>(word >> 8);
    a.bytes[2 * w + 1] = static_cast<std::uint8_t>(word);
  }
  if (rng() % 16 == 0) {  // IPv4-mapped
    std::memset(a.bytes, 0, 10);
    a.bytes[10] = a.bytes[11] = 0xff;
  }
  return a;
}

// glibc prints an IPv4-compatible address (`::a.b.c.d`, deprecated) in dotted form; the RI
// (Python) and we print it in hex.
bool glibc_dotted_compat(const Address& a) {
  static const std::uint8_t kZero[12] = {};
  return std::memcmp(a.bytes, kZero, 12) == 0 && (a.bytes[12] | a.bytes[13]) != 0;
}

TEST_CASE("IPv6 round-trips and matches inet_ntop", "[parsers][address]") {
  std::mt19937 rng(6);
  int compared = 0;
  for (int i = 0; i < 100000; ++i) {
    Address a = random_ipv6(rng);
    std::string text = format(a);
    auto back = parse_address(text);
    if (!back.ok() || !(*back == a)) FAIL("no round trip: " << text);
    if (glibc_dotted_compat(a)) continue;
    char expected[INET6_ADDRSTRLEN];
    REQUIRE(inet_ntop(AF_INET6, a.bytes, expected, sizeof expected) != nullptr);
    if (text != expected) FAIL(text << " != " << expected);
    ++compared;
  }
  CHECK(compared > 90000);
}

TEST_CASE("IPv6 with a prefix formats within kMaxScalarChars", "[parsers][address]") {
  auto a = parse_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127", true);
  REQUIRE(a.ok());
  std::string text = format(*a);
  CHECK(text == "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127");
  CHECK(text.size() <= kMaxScalarChars);
}

}  // namespace
}  // namespace mplane::model
