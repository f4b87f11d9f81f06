// The packet decoder on hand-built frames (every link type, encapsulation, IP option and
// extension header, TCP option, every Malformed kind it reports), on every prefix of valid frames
// (no out-of-bounds read, no transport invented), and on the shared captures.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "capture/packet/decoder.h"
#include "tests/test_support.h"

namespace mplane::capture {
namespace {

using Frame = std::vector<std::uint8_t>;

// ---- Builders ---------------------------------------------------------------------------------

Frame cat(std::initializer_list<Frame> parts) {
  Frame out;
  for (const Frame& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

void put16(Frame& f, std::uint32_t v) {
  f.push_back(static_cast<std::uint8_t>(v >> 8));
  f.push_back(static_cast<std::uint8_t>(v));
}

void put32(Frame& f, std::uint32_t v) {
  put16(f, v >> 16);
  put16(f, v & 0xffff);
}

void set16(Frame& f, std::size_t at, std::uint32_t v) {
  f[at] = static_cast<std::uint8_t>(v >> 8);
  f[at + 1] = static_cast<std::uint8_t>(v);
}

Frame bytes(std::size_t n, std::uint8_t value = 0) { return Frame(n, value); }

Frame ethernet(std::uint16_t ethertype) {
  Frame f = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};
  put16(f, ethertype);
  return f;
}

Frame vlan_tag(std::uint16_t tci, std::uint16_t next_ethertype) {
  Frame f;
  put16(f, tci);
  put16(f, next_ethertype);
  return f;
}

Frame mpls_label(std::uint32_t label, bool bottom) {
  Frame f;
  put32(f, label << 12 | (bottom ? 0x100u : 0u) | 64u);
  return f;
}

Frame linux_sll(std::uint16_t protocol) {
  Frame f = {0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 1, 2, 3, 4, 5, 6, 0, 0};
  put16(f, protocol);
  return f;
}

Frame linux_sll2(std::uint16_t protocol) {
  Frame f;
  put16(f, protocol);
  Frame rest = {0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0};
  return cat({f, rest});
}

Frame loopback_family(std::uint32_t family, bool big_endian) {
  Frame f;
  put32(f, family);
  if (!big_endian) std::reverse(f.begin(), f.end());
  return f;
}

struct Ipv4 {
  std::uint8_t proto = 6;
  std::uint8_t ttl = 64;
  std::uint16_t id = 0x1234;
  bool more_fragments = false;
  std::uint16_t fragment_offset = 0;  // in 8-byte units
  Frame options;                      // a multiple of 4 bytes
};

Ipv4 with_proto(std::uint8_t proto) {
  Ipv4 h;
  h.proto = proto;
  return h;
}

Ipv4 fragment(bool more, std::uint16_t offset, std::uint16_t id = 0x1234) {
  Ipv4 h;
  h.more_fragments = more;
  h.fragment_offset = offset;
  h.id = id;
  return h;
}

const Frame kSrc4 = {10, 0, 0, 1};
const Frame kDst4 = {192, 168, 1, 2};

Frame ipv4(const Ipv4& h, const Frame& payload) {
  const std::size_t header_len = 20 + h.options.size();
  Frame f;
  f.push_back(static_cast<std::uint8_t>(0x40 | header_len / 4));
  f.push_back(0);
  put16(f, static_cast<std::uint32_t>(header_len + payload.size()));
  put16(f, h.id);
  put16(f, (h.more_fragments ? 0x2000u : 0u) | h.fragment_offset);
  f.push_back(h.ttl);
  f.push_back(h.proto);
  put16(f, 0);  // checksum: not checked
  return cat({f, kSrc4, kDst4, h.options, payload});
}

Frame src6() {
  Frame a = bytes(16);
  a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8, a[15] = 1;
  return a;
}

Frame dst6() {
  Frame a = src6();
  a[15] = 2;
  return a;
}

// `rest`: the extension headers and the upper-layer packet.
Frame ipv6(std::uint8_t next, const Frame& rest, std::uint8_t hop_limit = 63) {
  Frame f = {0x60, 0, 0, 0};
  put16(f, static_cast<std::uint32_t>(rest.size()));
  f.push_back(next);
  f.push_back(hop_limit);
  return cat({f, src6(), dst6(), rest});
}

// Hop-by-hop, routing, destination options: (units + 1) * 8 bytes.
Frame ipv6_extension(std::uint8_t next, std::uint8_t units) {
  Frame f = bytes((units + 1u) * 8u);
  f[0] = next;
  f[1] = units;
  return f;
}

Frame ipv6_fragment(std::uint8_t next, std::uint16_t offset, bool more) {
  Frame f = {next, 0};
  put16(f, static_cast<std::uint32_t>(offset) << 3 | (more ? 1u : 0u));
  put32(f, 0xabcdef01);
  return f;
}

Frame ipv6_ah(std::uint8_t next) {  // 12 bytes of ICV: length (24 / 4) - 2 = 4
  Frame f = bytes(24);
  f[0] = next;
  f[1] = 4;
  return f;
}

struct Tcp {
  std::uint16_t sport = 40000, dport = 80;
  std::uint32_t seq = 1000, ack = 2000;
  std::uint8_t flags = kSyn;
  std::uint16_t window = 65535;
  Frame options;  // padded with EOL to a multiple of 4
};

Tcp with_flags(int flags) {
  Tcp h;
  h.flags = static_cast<std::uint8_t>(flags);
  return h;
}

Frame tcp(Tcp h, const Frame& payload = {}) {
  while (h.options.size() % 4 != 0) h.options.push_back(0);
  Frame f;
  put16(f, h.sport);
  put16(f, h.dport);
  put32(f, h.seq);
  put32(f, h.ack);
  f.push_back(static_cast<std::uint8_t>((20 + h.options.size()) / 4 << 4));
  f.push_back(h.flags);
  put16(f, h.window);
  put32(f, 0);  // checksum, urgent pointer
  return cat({f, h.options, payload});
}

Frame mss(std::uint16_t v) {
  Frame f = {2, 4};
  put16(f, v);
  return f;
}
Frame wscale(std::uint8_t v) { return {3, 3, v}; }
Frame sack_permitted() { return {4, 2}; }
Frame sack(std::uint32_t left, std::uint32_t right) {
  Frame f = {5, 10};
  put32(f, left);
  put32(f, right);
  return f;
}
Frame timestamps(std::uint32_t val, std::uint32_t ecr) {
  Frame f = {8, 10};
  put32(f, val);
  put32(f, ecr);
  return f;
}
Frame nop() { return {1}; }

Frame udp(std::uint16_t sport, std::uint16_t dport, const Frame& payload) {
  Frame f;
  put16(f, sport);
  put16(f, dport);
  put16(f, static_cast<std::uint32_t>(8 + payload.size()));
  put16(f, 0);
  return cat({f, payload});
}

Frame icmp(std::uint8_t type, std::uint8_t code, const Frame& payload) {
  Frame f = {type, code, 0, 0, 0x12, 0x34, 0x00, 0x01};
  return cat({f, payload});
}

const Frame kPayload = {'h', 'e', 'l', 'l', 'o'};

// A SYN with every option, as an IPv4 packet.
Frame syn_ipv4() {
  Tcp h;
  h.options = cat({mss(1460), sack_permitted(), timestamps(111, 0), nop(), wscale(7)});
  return ipv4({}, tcp(h));
}

Frame data_ipv4() { return ipv4({}, tcp(with_flags(kAck | kPsh), kPayload)); }

// ---- Decoding helpers -------------------------------------------------------------------------

// Owns its frame: the payload points into it (a moved vector keeps its buffer).
struct Decoded {
  Frame frame;
  DecodeStatus status;
  DecodedPacket p;
};

// wire_len 0: the frame's size (nothing cut by the snaplen).
Decoded decode(LinkType link, Frame f, std::uint32_t wire_len = 0) {
  Decoded d{std::move(f), DecodeStatus::kMalformed, {}};
  const auto wire = wire_len ? wire_len : static_cast<std::uint32_t>(d.frame.size());
  d.status = decode_packet(link, d.frame, wire, d.p);
  return d;
}

Malformed malformed_of(LinkType link, const Frame& f, std::uint32_t wire_len = 0) {
  const Decoded d = decode(link, f, wire_len);
  REQUIRE(d.status == DecodeStatus::kMalformed);
  return d.p.malformed;
}

std::string payload_text(const DecodedPacket& p) {
  return std::string(p.payload.begin(), p.payload.end());
}

void check_ipv4_addresses(const DecodedPacket& p) {
  CHECK(p.ip_version == 4);
  CHECK(p.src.family == 4);
  CHECK(Frame(p.src.bytes.begin(), p.src.bytes.begin() + 4) == kSrc4);
  CHECK(Frame(p.dst.bytes.begin(), p.dst.bytes.begin() + 4) == kDst4);
  CHECK(p.src.bytes[4] == 0);
}

// ---- Link types -------------------------------------------------------------------------------

TEST_CASE("link types come from libpcap DLT values", "[capture][decoder]") {
  LinkType t{};
  const std::pair<int, LinkType> known[] = {{1, LinkType::kEthernet},    {113, LinkType::kLinuxSll},
                                            {276, LinkType::kLinuxSll2}, {12, LinkType::kRawIp},
                                            {14, LinkType::kRawIp},      {101, LinkType::kRawIp},
                                            {228, LinkType::kRawIp},     {229, LinkType::kRawIp},
                                            {0, LinkType::kNull},        {108, LinkType::kLoop}};
  for (const auto& [dlt, expected] : known) {
    CAPTURE(dlt);
    REQUIRE(link_type_from_dlt(dlt, t));
    CHECK(t == expected);
  }
  for (int dlt : {9, 105, 127, 147, 192, -1}) CHECK_FALSE(link_type_from_dlt(dlt, t));
  CHECK(link_type_name(LinkType::kEthernet) == "ethernet");
  CHECK(link_type_name(LinkType::kLinuxSll2) == "linux_sll2");
  CHECK(link_type_name(LinkType::kRawIp) == "raw_ip");
  CHECK(malformed_name(Malformed::kTruncatedLink) == "truncated_link");
  CHECK(malformed_name(Malformed::kBadIpLength) == "bad_ip_length");
  CHECK(malformed_name(Malformed::kBadIpv6Extension) == "bad_ipv6_extension");
}

TEST_CASE("an Ethernet IPv4 SYN decodes with every TCP option", "[capture][decoder]") {
  const Decoded d = decode(LinkType::kEthernet, cat({ethernet(0x0800), syn_ipv4()}));
  REQUIRE(d.status == DecodeStatus::kOk);
  const DecodedPacket& p = d.p;
  check_ipv4_addresses(p);
  CHECK(p.vlan_count == 0);
  CHECK(p.mpls_labels == 0);
  CHECK(p.proto == 6);
  CHECK(p.ip_len == 20 + 40);
  CHECK(p.ip_id == 0x1234);
  CHECK(p.ttl == 64);
  CHECK_FALSE(p.fragmented);
  REQUIRE(p.has_transport);
  CHECK(p.sport == 40000);
  CHECK(p.dport == 80);
  CHECK(p.tcp.seq == 1000);
  CHECK(p.tcp.ack == 2000);
  CHECK(p.tcp.flags == kSyn);
  CHECK(p.tcp.window == 65535);
  CHECK(p.tcp.header_len == 40);
  CHECK(p.tcp.has_mss);
  CHECK(p.tcp.mss == 1460);
  CHECK(p.tcp.sack_permitted);
  CHECK(p.tcp.has_timestamps);
  CHECK(p.tcp.ts_val == 111);
  CHECK(p.tcp.ts_ecr == 0);
  CHECK(p.tcp.has_wscale);
  CHECK(p.tcp.wscale == 7);
  CHECK_FALSE(p.tcp.has_sack);
  CHECK(p.payload_len == 0);
  CHECK(p.payload.empty());
  CHECK(p.malformed == Malformed::kCount);
}

TEST_CASE("SACK blocks and unknown TCP options", "[capture][decoder]") {
  Tcp h = with_flags(kAck);
  const Frame unknown = {30, 6, 1, 2, 3, 4};  // MPTCP-like, skipped by its length
  h.options = cat({nop(), nop(), timestamps(5, 6), unknown, sack(100, 200)});
  const Decoded d = decode(LinkType::kRawIp, ipv4({}, tcp(h, kPayload)));
  REQUIRE(d.status == DecodeStatus::kOk);
  CHECK(d.p.tcp.has_sack);
  CHECK(d.p.tcp.has_timestamps);
  CHECK(d.p.tcp.ts_val == 5);
  CHECK(d.p.tcp.ts_ecr == 6);
  CHECK_FALSE(d.p.tcp.has_mss);
  CHECK(d.p.payload_len == 5);
  CHECK(payload_text(d.p) == "hello");
}

TEST_CASE("a bad TCP option length ends the option parsing but keeps the packet",
          "[capture][decoder]") {
  for (const Frame& bad : {Frame{2, 1}, Frame{3, 0}, Frame{8, 40, 0, 0}}) {
    Tcp h = with_flags(kAck);
    h.options = cat({mss(1400), bad, wscale(3)});
    const Decoded d = decode(LinkType::kRawIp, ipv4({}, tcp(h, kPayload)));
    REQUIRE(d.status == DecodeStatus::kOk);
    CHECK(d.p.tcp.has_mss);           // before the bad option
    CHECK_FALSE(d.p.tcp.has_wscale);  // after it
    CHECK(d.p.payload_len == 5);
  }
  Tcp h = with_flags(kAck);
  h.options = cat({Frame{0}, mss(1400)});  // after EOL: padding, not options
  const Decoded d = decode(LinkType::kRawIp, ipv4({}, tcp(h)));
  REQUIRE(d.status == DecodeStatus::kOk);
  CHECK_FALSE(d.p.tcp.has_mss);
}

TEST_CASE("VLAN tags: one and stacked QinQ", "[capture][decoder]") {
  SECTION("802.1Q") {
    const Decoded d = decode(LinkType::kEthernet,
                             cat({ethernet(0x8100), vlan_tag(0x2000 | 42, 0x0800), data_ipv4()}));
    REQUIRE(d.status == DecodeStatus::kOk);
    CHECK(d.p.vlan_count == 1);
    CHECK(d.p.vlan[0] == 42);  // priority bits dropped
    CHECK(payload_text(d.p) == "hello");
  }
  SECTION("QinQ 802.1ad and the older 0x9100") {
    for (std::uint16_t outer : {std::uint16_t{0x88a8}, std::uint16_t{0x9100}}) {
      const Decoded d =
          decode(LinkType::kEthernet,
                 cat({ethernet(outer), vlan_tag(10, 0x8100), vlan_tag(20, 0x0800), data_ipv4()}));
      REQUIRE(d.status == DecodeStatus::kOk);
      CHECK(d.p.vlan_count == 2);
      CHECK(d.p.vlan[0] == 10);
      CHECK(d.p.vlan[1] == 20);
      CHECK(d.p.has_transport);
    }
  }
  SECTION("three tags: the first two are kept") {
    const Decoded d =
        decode(LinkType::kEthernet, cat({ethernet(0x88a8), vlan_tag(1, 0x8100), vlan_tag(2, 0x8100),
                                         vlan_tag(3, 0x0800), data_ipv4()}));
    REQUIRE(d.status == DecodeStatus::kOk);
    CHECK(d.p.vlan_count == 2);
    CHECK(d.p.vlan[0] == 1);
    CHECK(d.p.vlan[1] == 2);
  }
}

TEST_CASE("MPLS labels are popped and the payload guessed by its version", "[capture][decoder]") {
  SECTION("two labels then IPv4") {
    const Decoded d =
        decode(LinkType::kEthernet,
               cat({ethernet(0x8847), mpls_label(16, false), mpls_label(17, true), data_ipv4()}));
    REQUIRE(d.status == DecodeStatus::kOk);
    CHECK(d.p.mpls_labels == 2);
    CHECK(d.p.ip_version == 4);
    CHECK(payload_text(d.p) == "hello");
  }
  SECTION("multicast MPLS behind a VLAN tag, IPv6") {
    const Decoded d = decode(LinkType::kEthernet,
                             cat({ethernet(0x8100), vlan_tag(7, 0x8848), mpls_label(100, true),
                                  ipv6(17, udp(53, 5353, kPayload))}));
    REQUIRE(d.status == DecodeStatus::kOk);
    CHECK(d.p.vlan_count == 1);
    CHECK(d.p.mpls_labels == 1);
    CHECK(d.p.ip_version == 6);
    CHECK(d.p.sport == 53);
  }
  SECTION("a pseudowire control word is not IP") {
    const Decoded d = decode(LinkType::kEthernet, cat({ethernet(0x8847), mpls_label(16, true),
                                                       bytes(4), ethernet(0x0800), data_ipv4()}));
    CHECK(d.status == DecodeStatus::kNotIp);
    CHECK(d.p.mpls_labels == 1);
  }
  SECTION("a stack without bottom is a truncated link header") {
    CHECK(malformed_of(LinkType::kEthernet, cat({ethernet(0x8847), mpls_label(16, false)})) ==
          Malformed::kTruncatedLink);
  }
  SECTION("nothing after the stack is a truncated IP packet") {
    CHECK(malformed_of(LinkType::kEthernet, cat({ethernet(0x8847), mpls_label(16, true)})) ==
          Malformed::kTruncatedIp);
  }
}

TEST_CASE("Linux cooked headers v1 and v2 with and without VLAN", "[capture][decoder]") {
  const Decoded v1 = decode(LinkType::kLinuxSll, cat({linux_sll(0x0800), data_ipv4()}));
  REQUIRE(v1.status == DecodeStatus::kOk);
  CHECK(payload_text(v1.p) == "hello");
  const Decoded v2 = decode(LinkType::kLinuxSll2, cat({linux_sll2(0x86dd), ipv6(6, tcp({}))}));
  REQUIRE(v2.status == DecodeStatus::kOk);
  CHECK(v2.p.ip_version == 6);
  CHECK(v2.p.has_transport);
  const Decoded tagged =
      decode(LinkType::kLinuxSll2, cat({linux_sll2(0x8100), vlan_tag(99, 0x0800), data_ipv4()}));
  REQUIRE(tagged.status == DecodeStatus::kOk);
  CHECK(tagged.p.vlan_count == 1);
  CHECK(tagged.p.vlan[0] == 99);
  CHECK(decode(LinkType::kLinuxSll, cat({linux_sll(0x0806), bytes(28)})).status ==
        DecodeStatus::kNotIp);
  CHECK(malformed_of(LinkType::kLinuxSll, bytes(15)) == Malformed::kTruncatedLink);
  CHECK(malformed_of(LinkType::kLinuxSll2, linux_sll2(0x0800)) == Malformed::kTruncatedIp);
}

TEST_CASE("BSD loopback families in either byte order", "[capture][decoder]") {
  for (bool big_endian : {false, true}) {
    CAPTURE(big_endian);
    const Decoded v4 = decode(LinkType::kNull, cat({loopback_family(2, big_endian), data_ipv4()}));
    REQUIRE(v4.status == DecodeStatus::kOk);
    CHECK(v4.p.ip_version == 4);
    for (std::uint32_t af6 : {24u, 28u, 30u}) {
      const Decoded v6 =
          decode(LinkType::kNull, cat({loopback_family(af6, big_endian), ipv6(6, tcp({}))}));
      REQUIRE(v6.status == DecodeStatus::kOk);
      CHECK(v6.p.ip_version == 6);
    }
    CHECK(decode(LinkType::kNull, cat({loopback_family(7, big_endian), data_ipv4()})).status ==
          DecodeStatus::kNotIp);
  }
  const Decoded loop = decode(LinkType::kLoop, cat({loopback_family(2, true), data_ipv4()}));
  CHECK(loop.status == DecodeStatus::kOk);
  // DLT_LOOP is network order only.
  CHECK(decode(LinkType::kLoop, cat({loopback_family(2, false), data_ipv4()})).status ==
        DecodeStatus::kNotIp);
  CHECK(malformed_of(LinkType::kNull, {2, 0, 0}) == Malformed::kTruncatedLink);
}

TEST_CASE("raw IP goes by the version nibble", "[capture][decoder]") {
  CHECK(decode(LinkType::kRawIp, data_ipv4()).p.ip_version == 4);
  CHECK(decode(LinkType::kRawIp, ipv6(17, udp(1, 2, {}))).p.ip_version == 6);
  Frame bad = data_ipv4();
  bad[0] = 0x55;
  CHECK(malformed_of(LinkType::kRawIp, bad) == Malformed::kBadIpHeader);
  CHECK(malformed_of(LinkType::kRawIp, {}) == Malformed::kTruncatedIp);
}

TEST_CASE("non-IP ethertypes are reported apart", "[capture][decoder]") {
  for (std::uint16_t type : {std::uint16_t{0x0806}, std::uint16_t{0x88cc}, std::uint16_t{0x0030}}) {
    const Decoded d = decode(LinkType::kEthernet, cat({ethernet(type), bytes(46)}));
    CHECK(d.status == DecodeStatus::kNotIp);
  }
}

// ---- IPv4 -------------------------------------------------------------------------------------

TEST_CASE("IPv4 options are skipped", "[capture][decoder]") {
  Ipv4 h;
  h.options = {0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00};  // router alert, NOP, NOP, EOL
  const Decoded d = decode(LinkType::kRawIp, ipv4(h, tcp(with_flags(kAck), kPayload)));
  REQUIRE(d.status == DecodeStatus::kOk);
  CHECK(d.p.ip_len == 28 + 20 + 5);
  CHECK(d.p.sport == 40000);
  CHECK(payload_text(d.p) == "hello");
}

TEST_CASE("an Ethernet trailer after a short IPv4 packet is not payload", "[capture][decoder]") {
  Frame f = cat({ethernet(0x0800), data_ipv4()});
  const std::size_t ip_end = f.size();
  f.resize(60, 0xee);                           // minimum frame: padded
  f.insert(f.end(), {0xf5, 0xf5, 0xf5, 0xf5});  // and a vendor trailer
  REQUIRE(f.size() > ip_end);
  const Decoded d = decode(LinkType::kEthernet, f);
  REQUIRE(d.status == DecodeStatus::kOk);
  CHECK(d.p.ip_len == 45);
  CHECK(d.p.payload_len == 5);
  CHECK(payload_text(d.p) == "hello");

  // The same with a UDP packet with no payload: nothing of the trailer shows.
  Frame u = cat({ethernet(0x0800), ipv4(with_proto(17), udp(1000, 53, {}))});
  u.resize(60, 0xee);
  const Decoded du = decode(LinkType::kEthernet, u);
  REQUIRE(du.status == DecodeStatus::kOk);
  CHECK(du.p.payload_len == 0);
  CHECK(du.p.payload.empty());
}

TEST_CASE("IPv4 fragments: the first is decoded the others only counted", "[capture][decoder]") {
  const Frame data = tcp(with_flags(kAck), bytes(40, 'x'));
  SECTION("first fragment") {
    const Decoded d = decode(LinkType::kRawIp, ipv4(fragment(true, 0), data));
    REQUIRE(d.status == DecodeStatus::kOk);
    CHECK(d.p.fragmented);
    REQUIRE(d.p.has_transport);
    CHECK(d.p.sport == 40000);
    CHECK(d.p.payload_len == 40);  // by this fragment's IP length
  }
  SECTION("later fragments") {
    for (bool more : {true, false}) {
      const Decoded d = decode(LinkType::kRawIp, ipv4(fragment(more, 6, 77), bytes(24, 'y')));
      REQUIRE(d.status == DecodeStatus::kFragment);
      CHECK(d.p.fragmented);
      CHECK_FALSE(d.p.has_transport);
      CHECK(d.p.ip_id == 77);
      CHECK(d.p.proto == 6);
      CHECK(d.p.ip_len == 44);
      check_ipv4_addresses(d.p);
    }
  }
  SECTION("a first fragment too short for the TCP header counts as a fragment") {
    const Decoded d = decode(LinkType::kRawIp, ipv4(fragment(true, 0), bytes(8, 1)));
    CHECK(d.status == DecodeStatus::kFragment);
    CHECK(d.p.fragmented);
    CHECK_FALSE(d.p.has_transport);
  }
}

TEST_CASE("a 68-byte snaplen cuts the TCP options: kept with the IP length", "[capture][decoder]") {
  Tcp h = with_flags(kAck);
  h.options = cat({nop(), nop(), timestamps(1, 2)});  // header 32 bytes
  const Frame full = cat({ethernet(0x0800), ipv4({}, tcp(h, bytes(1000, 'z')))});
  const Frame cut(full.begin(), full.begin() + 68);  // 14 + 20 + 32 = 66: 2 payload bytes
  const Decoded d = decode(LinkType::kEthernet, cut, static_cast<std::uint32_t>(full.size()));
  REQUIRE(d.status == DecodeStatus::kOk);
  CHECK(d.p.has_transport);
  CHECK(d.p.tcp.has_timestamps);
  CHECK(d.p.payload_len == 1000);
  CHECK(d.p.payload.size() == 2);

  h.options = cat({mss(1460), sack_permitted(), timestamps(1, 2), nop(), wscale(7)});  // 40 bytes
  const Frame syn = cat({ethernet(0x0800), ipv4({}, tcp(h, bytes(100, 'z')))});
  const Frame syn_cut(syn.begin(), syn.begin() + 68);  // 14 + 20 + 34 of 40: options cut
  const Decoded s = decode(LinkType::kEthernet, syn_cut, static_cast<std::uint32_t>(syn.size()));
  REQUIRE(s.status == DecodeStatus::kOk);
  CHECK(s.p.has_transport);
  CHECK(s.p.tcp.header_len == 40);
  CHECK_FALSE(s.p.tcp.has_mss);
  CHECK_FALSE(s.p.tcp.sack_permitted);
  CHECK_FALSE(s.p.tcp.has_timestamps);
  CHECK_FALSE(s.p.tcp.has_wscale);
  CHECK(s.p.payload_len == 100);
  CHECK(s.p.payload.empty());
}

// ---- IPv6 -------------------------------------------------------------------------------------

TEST_CASE("IPv6 extension headers are walked to the transport", "[capture][decoder]") {
  const Frame seg = tcp(with_flags(kAck), kPayload);
  const Frame chain = cat({ipv6_extension(60, 0), ipv6_extension(43, 1),
                           ipv6_fragment(51, 0, false), ipv6_ah(135), ipv6_extension(6, 0), seg});
  const Decoded d = decode(LinkType::kEthernet, cat({ethernet(0x86dd), ipv6(0, chain)}));
  REQUIRE(d.status == DecodeStatus::kOk);
  CHECK(d.p.ip_version == 6);
  CHECK(d.p.proto == 6);
  CHECK(d.p.ip_len == 40 + chain.size());
  CHECK(d.p.ttl == 63);
  CHECK(d.p.ip_id == 0);
  CHECK_FALSE(d.p.fragmented);  // an atomic fragment is not a fragment
  REQUIRE(d.p.has_transport);
  CHECK(d.p.sport == 40000);
  CHECK(payload_text(d.p) == "hello");
  CHECK(d.p.src.family == 6);
  CHECK(Frame(d.p.src.bytes.begin(), d.p.src.bytes.end()) == src6());
  CHECK(Frame(d.p.dst.bytes.begin(), d.p.dst.bytes.end()) == dst6());
}

TEST_CASE("IPv6 fragments", "[capture][decoder]") {
  SECTION("the first fragment is decoded") {
    const Decoded d = decode(
        LinkType::kRawIp, ipv6(44, cat({ipv6_fragment(17, 0, true), udp(5000, 6000, bytes(64))})));
    REQUIRE(d.status == DecodeStatus::kOk);
    CHECK(d.p.fragmented);
    CHECK(d.p.has_transport);
    CHECK(d.p.dport == 6000);
    CHECK(d.p.payload_len == 64);
  }
  SECTION("later fragments are counted") {
    const Decoded d =
        decode(LinkType::kRawIp,
               ipv6(0, cat({ipv6_extension(44, 0), ipv6_fragment(17, 100, false), bytes(32)})));
    REQUIRE(d.status == DecodeStatus::kFragment);
    CHECK(d.p.fragmented);
    CHECK(d.p.proto == 17);
    CHECK_FALSE(d.p.has_transport);
    CHECK(d.p.payload_len == 32);
  }
}

TEST_CASE("IPv6 no next header and undecoded protocols", "[capture][decoder]") {
  const Decoded none = decode(LinkType::kRawIp, ipv6(59, {}));
  REQUIRE(none.status == DecodeStatus::kOk);
  CHECK(none.p.proto == 59);
  CHECK_FALSE(none.p.has_transport);
  const Decoded gre = decode(LinkType::kRawIp, ipv4(with_proto(47), bytes(12, 3)));
  REQUIRE(gre.status == DecodeStatus::kOk);
  CHECK(gre.p.proto == 47);
  CHECK_FALSE(gre.p.has_transport);
  CHECK(gre.p.payload_len == 12);
}

// ---- UDP and ICMP -----------------------------------------------------------------------------

TEST_CASE("UDP ICMP and ICMPv6 headers", "[capture][decoder]") {
  const Decoded u = decode(LinkType::kRawIp, ipv4(with_proto(17), udp(1234, 53, kPayload)));
  REQUIRE(u.status == DecodeStatus::kOk);
  CHECK(u.p.sport == 1234);
  CHECK(u.p.dport == 53);
  CHECK(u.p.payload_len == 5);
  CHECK(payload_text(u.p) == "hello");

  const Decoded i = decode(LinkType::kRawIp, ipv4(with_proto(1), icmp(8, 0, kPayload)));
  REQUIRE(i.status == DecodeStatus::kOk);
  CHECK(i.p.has_transport);
  CHECK(i.p.sport == 8);
  CHECK(i.p.dport == 0);
  CHECK(i.p.payload_len == 5);

  const Decoded i6 = decode(LinkType::kRawIp, ipv6(58, icmp(1, 4, bytes(48))));
  REQUIRE(i6.status == DecodeStatus::kOk);
  CHECK(i6.p.sport == 1);
  CHECK(i6.p.dport == 4);
  CHECK(i6.p.payload_len == 48);

  // Four bytes are enough for type and code.
  const Decoded short_icmp = decode(LinkType::kRawIp, ipv4(with_proto(1), bytes(4, 3)));
  REQUIRE(short_icmp.status == DecodeStatus::kOk);
  CHECK(short_icmp.p.payload_len == 0);
}

// ---- Malformed --------------------------------------------------------------------------------

TEST_CASE("every malformed kind the decoder reports", "[capture][decoder]") {
  const Frame eth4 = ethernet(0x0800);
  SECTION("truncated link") {
    CHECK(malformed_of(LinkType::kEthernet, bytes(13)) == Malformed::kTruncatedLink);
    CHECK(malformed_of(LinkType::kEthernet, cat({ethernet(0x8100), Frame{0, 1, 8}})) ==
          Malformed::kTruncatedLink);
  }
  SECTION("truncated IP") {
    const Frame f = cat({eth4, data_ipv4()});
    CHECK(malformed_of(LinkType::kEthernet, Frame(f.begin(), f.begin() + 14 + 19), 200) ==
          Malformed::kTruncatedIp);
    Ipv4 h;
    h.options = bytes(20, 1);
    const Frame opt = cat({eth4, ipv4(h, tcp({}))});
    CHECK(malformed_of(LinkType::kEthernet, Frame(opt.begin(), opt.begin() + 14 + 30), 200) ==
          Malformed::kTruncatedIp);
    const Frame v6 = ipv6(59, {});
    CHECK(malformed_of(LinkType::kRawIp, Frame(v6.begin(), v6.begin() + 39), 100) ==
          Malformed::kTruncatedIp);
  }
  SECTION("bad IP header") {
    Frame f = data_ipv4();
    f[0] = 0x44;  // IHL 4
    CHECK(malformed_of(LinkType::kRawIp, f) == Malformed::kBadIpHeader);
    f = data_ipv4();
    set16(f, 2, 19);  // total length below the header
    CHECK(malformed_of(LinkType::kRawIp, f) == Malformed::kBadIpHeader);
    f = cat({eth4, ipv6(59, {})});  // IPv6 behind an IPv4 ethertype
    CHECK(malformed_of(LinkType::kEthernet, f) == Malformed::kBadIpHeader);
    f = cat({ethernet(0x86dd), data_ipv4()});
    CHECK(malformed_of(LinkType::kEthernet, f) == Malformed::kBadIpHeader);
  }
  SECTION("bad IP length") {
    Frame f = data_ipv4();
    set16(f, 2, f.size() + 1);
    CHECK(malformed_of(LinkType::kRawIp, f) == Malformed::kBadIpLength);
    // The wire length, not the captured length, is the limit.
    CHECK(decode(LinkType::kRawIp, f, static_cast<std::uint32_t>(f.size() + 1)).status ==
          DecodeStatus::kOk);
    Frame v6 = ipv6(6, tcp({}));
    set16(v6, 4, 100);
    CHECK(malformed_of(LinkType::kRawIp, v6) == Malformed::kBadIpLength);
    // With an intact header checksum the IPv4 header is believed over the frame's recorded
    // length (a capture tool's error): the packet counts as its header says.
    Frame believed = data_ipv4();
    const std::size_t header = static_cast<std::size_t>(believed[0] & 0x0f) * 4;
    set16(believed, 2, believed.size() + 20);
    set16(believed, 10, 0);
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < header; i += 2) sum += (believed[i] << 8) | believed[i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    set16(believed, 10, ~sum & 0xffff);
    const Decoded ok = decode(LinkType::kRawIp, believed);
    REQUIRE(ok.status == DecodeStatus::kOk);
    CHECK(ok.p.ip_len == believed.size() + 20);
    CHECK(ok.p.payload.size() < ok.p.payload_len);  // what was captured, no more
    // A jumbogram (payload length 0, hop-by-hop first) is not supported.
    Frame jumbo = ipv6(0, cat({ipv6_extension(6, 0), tcp({})}));
    set16(jumbo, 4, 0);
    CHECK(malformed_of(LinkType::kRawIp, jumbo) == Malformed::kBadIpLength);
  }
  SECTION("bad IPv6 extension chain") {
    // Runs past the payload length (captured bytes follow: a trailer).
    Frame f = ipv6(0, ipv6_extension(6, 0));
    f.resize(f.size() + 64, 0);
    set16(f, 4, 4);
    CHECK(malformed_of(LinkType::kRawIp, f) == Malformed::kBadIpv6Extension);
    // Runs past the captured bytes.
    const Frame full = ipv6(0, cat({ipv6_extension(6, 4), tcp({})}));
    CHECK(malformed_of(LinkType::kRawIp, Frame(full.begin(), full.begin() + 60),
                       static_cast<std::uint32_t>(full.size())) == Malformed::kBadIpv6Extension);
    // A header announcing more than the packet holds.
    Frame longer = ipv6(60, ipv6_extension(6, 0));
    longer[41] = 9;
    CHECK(malformed_of(LinkType::kRawIp, longer) == Malformed::kBadIpv6Extension);
  }
  SECTION("truncated transport") {
    const Frame f = cat({eth4, data_ipv4()});
    CHECK(malformed_of(LinkType::kEthernet, Frame(f.begin(), f.begin() + 14 + 20 + 19), 200) ==
          Malformed::kTruncatedTransport);
    const Frame u = ipv4(with_proto(17), udp(1, 2, kPayload));
    CHECK(malformed_of(LinkType::kRawIp, Frame(u.begin(), u.begin() + 27), 200) ==
          Malformed::kTruncatedTransport);
    const Frame i = ipv6(58, icmp(128, 0, {}));
    CHECK(malformed_of(LinkType::kRawIp, Frame(i.begin(), i.begin() + 43), 200) ==
          Malformed::kTruncatedTransport);
    // Not a fragment, and the IP length ends before the UDP header does.
    CHECK(malformed_of(LinkType::kRawIp, ipv4(with_proto(17), bytes(6))) ==
          Malformed::kTruncatedTransport);
  }
  SECTION("bad TCP header") {
    Frame f = data_ipv4();
    f[20 + 12] = 0x40;  // data offset 4
    CHECK(malformed_of(LinkType::kRawIp, f) == Malformed::kBadTcpHeader);
    f[20 + 12] = 0xf0;  // 60 bytes, past the 25-byte IP payload
    CHECK(malformed_of(LinkType::kRawIp, f) == Malformed::kBadTcpHeader);
  }
}

// ---- Every prefix -----------------------------------------------------------------------------

struct Sample {
  const char* name;
  LinkType link;
  Frame frame;
  std::size_t transport_at;   // offset of the transport header
  std::size_t transport_len;  // its minimum decoded length
};

std::vector<Sample> samples() {
  Tcp h = with_flags(kAck);
  h.options = cat({mss(1460), sack(1, 2), timestamps(3, 4)});
  const Frame seg = tcp(h, kPayload);
  const Frame eth = cat({ethernet(0x88a8), vlan_tag(1, 0x8100), vlan_tag(2, 0x0800)});
  const Frame mpls = cat({ethernet(0x8847), mpls_label(1, false), mpls_label(2, true)});
  const Frame chain =
      cat({ipv6_extension(60, 0), ipv6_extension(44, 1), ipv6_fragment(6, 0, true)});
  Ipv4 opts;
  opts.options = bytes(8, 1);
  return {
      {"qinq ipv4 tcp", LinkType::kEthernet, cat({eth, ipv4({}, seg)}), eth.size() + 20, 20},
      {"mpls ipv4 options tcp", LinkType::kEthernet, cat({mpls, ipv4(opts, seg)}), mpls.size() + 28,
       20},
      {"sll2 ipv6 extensions tcp", LinkType::kLinuxSll2,
       cat({linux_sll2(0x86dd), ipv6(0, cat({chain, seg}))}), 20 + 40 + chain.size(), 20},
      {"null ipv6 udp", LinkType::kNull,
       cat({loopback_family(30, false), ipv6(17, udp(1, 2, kPayload))}), 4 + 40, 8},
      {"sll ipv4 icmp", LinkType::kLinuxSll,
       cat({linux_sll(0x0800), ipv4(with_proto(1), icmp(0, 0, kPayload))}), 16 + 20, 4},
  };
}

void check_prefix(const Sample& s, std::size_t n, std::uint32_t wire_len) {
  const Frame prefix(s.frame.begin(), s.frame.begin() + static_cast<std::ptrdiff_t>(n));
  DecodedPacket p;
  const DecodeStatus status = decode_packet(s.link, prefix, wire_len, p);
  CHECK((status == DecodeStatus::kMalformed) == (p.malformed != Malformed::kCount));
  if (status == DecodeStatus::kOk && p.has_transport) CHECK(n >= s.transport_at + s.transport_len);
  if (!p.payload.empty()) {
    CHECK(p.payload.data() >= prefix.data());
    CHECK(p.payload.data() + p.payload.size() <= prefix.data() + prefix.size());
  }
  if (n == s.frame.size()) CHECK(status == DecodeStatus::kOk);
}

TEST_CASE("every prefix of a valid frame decodes without reading past it", "[capture][decoder]") {
  for (const Sample& s : samples()) {
    CAPTURE(s.name);
    for (std::size_t n = 0; n <= s.frame.size(); ++n) {
      CAPTURE(n);
      check_prefix(s, n, static_cast<std::uint32_t>(n));               // cut on the wire
      check_prefix(s, n, static_cast<std::uint32_t>(s.frame.size()));  // cut by the snaplen
    }
  }
}

// ---- Shared captures --------------------------------------------------------------------------

struct PcapRecord {
  std::uint32_t wire_len;
  Frame frame;
};

struct PcapFile {
  int link_type = -1;  // -1: not a classic pcap file
  std::vector<PcapRecord> records;
};

std::uint32_t read32(const Frame& b, std::size_t at, bool swapped) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const std::size_t k =
        swapped ? at + 3 - static_cast<std::size_t>(i) : at + static_cast<std::size_t>(i);
    v |= static_cast<std::uint32_t>(b[k]) << (8 * i);
  }
  return v;
}

// Classic pcap only (either byte order, micro or nanosecond magic); pcapng is skipped.
PcapFile read_pcap(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  const Frame b{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  PcapFile out;
  if (b.size() < 24) return out;
  const std::uint32_t magic = read32(b, 0, false);
  bool swapped = false;
  if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
    swapped = true;
  } else if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
    return out;
  }
  out.link_type = static_cast<int>(read32(b, 20, swapped) & 0x0fffffff);  // FCS bits above
  std::size_t at = 24;
  while (at + 16 <= b.size()) {
    const std::uint32_t caplen = read32(b, at + 8, swapped);
    const std::uint32_t wire_len = read32(b, at + 12, swapped);
    at += 16;
    if (caplen > b.size() - at) break;  // a cut file: the last record is dropped
    out.records.push_back({wire_len, Frame(b.begin() + static_cast<std::ptrdiff_t>(at),
                                           b.begin() + static_cast<std::ptrdiff_t>(at + caplen))});
    at += caplen;
  }
  return out;
}

TEST_CASE("mixed-vlan-mpls.pcap: untagged MPLS and VLAN frames", "[capture][decoder][pcap]") {
  const auto path = test::pcaps_dir() / "zeek__mixed-vlan-mpls.pcap";
  const PcapFile file = read_pcap(path);
  REQUIRE(file.link_type == 1);
  REQUIRE(file.records.size() == 47);
  int untagged = 0, mpls = 0, vlan = 0;
  for (const PcapRecord& r : file.records) {
    DecodedPacket p;
    REQUIRE(decode_packet(LinkType::kEthernet, r.frame, r.wire_len, p) == DecodeStatus::kOk);
    CHECK(p.has_transport);
    CHECK(p.proto == 6);
    if (p.mpls_labels > 0) ++mpls;
    if (p.vlan_count > 0) ++vlan;
    if (p.mpls_labels == 0 && p.vlan_count == 0) ++untagged;
  }
  CHECK(untagged == 22);
  CHECK(mpls == 11);
  CHECK(vlan == 14);
}

struct Tally {
  int ok = 0, not_ip = 0, fragment = 0, malformed = 0, with_transport = 0;
};

Tally tally(const std::string& name) {
  const PcapFile file = read_pcap(test::pcaps_dir() / name);
  LinkType link{};
  REQUIRE(link_type_from_dlt(file.link_type, link));
  Tally t;
  for (const PcapRecord& r : file.records) {
    DecodedPacket p;
    switch (decode_packet(link, r.frame, r.wire_len, p)) {
      case DecodeStatus::kOk:
        ++t.ok;
        break;
      case DecodeStatus::kNotIp:
        ++t.not_ip;
        break;
      case DecodeStatus::kFragment:
        ++t.fragment;
        break;
      case DecodeStatus::kMalformed:
        ++t.malformed;
        break;
    }
    if (p.has_transport) ++t.with_transport;
  }
  return t;
}

TEST_CASE("the shared captures decode", "[capture][decoder][pcap]") {
  // Every frame cut at 54-68 bytes still has its TCP header.
  const Tally truncated = tally("zeek__truncated-header.pcap");
  CHECK(truncated.ok == 24);
  CHECK(truncated.with_transport == 24);
  // QinQ, VLAN 42 and untagged copies of one connection.
  const Tally collisions = tally("zeek__vlan-collisions.pcap");
  CHECK(collisions.ok == 42);
  // Hop-by-hop, destination options, routing and atomic fragment headers.
  const Tally atomic = tally("zeek__ipv6-http-atomic-frag.pcap");
  CHECK(atomic.ok == 38);
  CHECK(atomic.with_transport == 38);
  // Raw IP and BSD loopback link types.
  CHECK(tally("ndpi__ocs.pcap").malformed == 0);
  CHECK(tally("suricata-verify__http-range-multiflows.pcap").ok == 614);
  // Every packet a fragment; the 4 first fragments hold 16 bytes of TCP header only (the rest
  // is in the next fragment): counted as fragments, not decoded.
  const Tally garbage = tally("ndpi__ip_fragmented_garbage.pcap");
  CHECK(garbage.fragment == 1252);
  CHECK(garbage.with_transport == 0);
  // 5 frames are shorter on the wire (1494, 1506 bytes) than their IP length says (1500 + 14);
  // their IPv4 header checksums are intact, so the headers are believed.
  const Tally reassembly = tally("zeek__reassembly.pcap");
  CHECK(reassembly.ok == 117);
  CHECK(reassembly.malformed == 0);
}

}  // namespace
}  // namespace mplane::capture
