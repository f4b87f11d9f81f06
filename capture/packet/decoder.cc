// Zero-copy frame decoder: one function per layer, each given the captured bytes from the start
// of its header on (a subspan of the frame) and the layer's length as the enclosing header says.
//
// Bounds: every read is preceded by a size check on the span it reads from, and the spans
// handed down are cut to what was captured *and* to the enclosing IP length, so an Ethernet
// trailer (padding after a short IP packet) is never read as transport header or payload.
#include "capture/packet/decoder.h"

#include <algorithm>
#include <cstddef>

namespace mplane::capture {
namespace {

using Bytes = std::span<const std::uint8_t>;

// libpcap DLT_* / LINKTYPE_* values (numeric: the decoder does not depend on libpcap).
constexpr int kDltNull = 0;
constexpr int kDltEn10Mb = 1;
constexpr int kDltRaw = 12;         // most systems
constexpr int kDltRawOpenBsd = 14;  // DLT_RAW on OpenBSD (elsewhere BSD/OS PPP, never seen)
constexpr int kLinktypeRaw = 101;   // the pcap file value libpcap maps to DLT_RAW
constexpr int kDltLoop = 108;
constexpr int kDltLinuxSll = 113;
constexpr int kDltIpv4 = 228;
constexpr int kDltIpv6 = 229;
constexpr int kDltLinuxSll2 = 276;

constexpr std::uint16_t kEthertypeIpv4 = 0x0800;
constexpr std::uint16_t kEthertypeIpv6 = 0x86dd;
constexpr std::uint16_t kEthertypeVlan = 0x8100;     // 802.1Q
constexpr std::uint16_t kEthertypeQinQ = 0x88a8;     // 802.1ad service tag
constexpr std::uint16_t kEthertypeQinQOld = 0x9100;  // pre-802.1ad QinQ
constexpr std::uint16_t kEthertypeMplsUnicast = 0x8847;
constexpr std::uint16_t kEthertypeMplsMulticast = 0x8848;

constexpr std::size_t kEthernetHeaderLen = 14;
constexpr std::size_t kSllHeaderLen = 16;
constexpr std::size_t kSllProtocolOffset = 14;
constexpr std::size_t kSll2HeaderLen = 20;
constexpr std::size_t kSll2ProtocolOffset = 0;
constexpr std::size_t kLoopbackHeaderLen = 4;
constexpr std::size_t kVlanTagLen = 4;
constexpr std::size_t kMplsLabelLen = 4;
constexpr std::uint8_t kMplsBottomOfStack = 0x01;  // in the label's third byte
constexpr std::uint16_t kVlanIdMask = 0x0fff;      // the TCI without priority and DEI bits

// BSD loopback address families: AF_INET is 2 everywhere; AF_INET6 differs per BSD.
constexpr std::uint32_t kAfInet = 2;
constexpr std::uint32_t kAfInet6NetBsdOpenBsd = 24;
constexpr std::uint32_t kAfInet6FreeBsd = 28;
constexpr std::uint32_t kAfInet6Darwin = 30;

constexpr std::size_t kIpv4MinHeaderLen = 20;
constexpr std::size_t kIpv6HeaderLen = 40;
constexpr std::uint16_t kIpv4MoreFragments = 0x2000;
constexpr std::uint16_t kIpv4FragmentOffsetMask = 0x1fff;

constexpr std::uint8_t kIpv6HopByHop = 0;
constexpr std::uint8_t kIpv6Routing = 43;
constexpr std::uint8_t kIpv6Fragment = 44;
constexpr std::uint8_t kIpv6Ah = 51;
constexpr std::uint8_t kIpv6DestinationOptions = 60;
constexpr std::uint8_t kIpv6Mobility = 135;
constexpr std::uint8_t kIpv6Hip = 139;
constexpr std::uint8_t kIpv6Shim6 = 140;
constexpr std::size_t kIpv6ExtensionMinLen = 8;  // every extension header is at least 8 bytes

constexpr std::uint8_t kProtoIcmp = 1;
constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::uint8_t kProtoIcmpv6 = 58;

constexpr std::size_t kTcpMinHeaderLen = 20;
constexpr std::size_t kUdpHeaderLen = 8;
constexpr std::size_t kIcmpMinHeaderLen = 4;  // type, code, checksum: all we read
constexpr std::size_t kIcmpHeaderLen = 8;     // what payload_len counts from

constexpr std::uint8_t kTcpOptEol = 0;
constexpr std::uint8_t kTcpOptNop = 1;
constexpr std::uint8_t kTcpOptMss = 2;
constexpr std::uint8_t kTcpOptWindowScale = 3;
constexpr std::uint8_t kTcpOptSackPermitted = 4;
constexpr std::uint8_t kTcpOptSack = 5;
constexpr std::uint8_t kTcpOptTimestamps = 8;
constexpr std::size_t kSackBlockLen = 8;

// Readers: callers have checked that the bytes are there.
std::uint16_t be16(Bytes b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]);
}
std::uint32_t be32(Bytes b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) << 24 | static_cast<std::uint32_t>(b[at + 1]) << 16 |
         static_cast<std::uint32_t>(b[at + 2]) << 8 | b[at + 3];
}
std::uint32_t le32(Bytes b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at + 3]) << 24 | static_cast<std::uint32_t>(b[at + 2]) << 16 |
         static_cast<std::uint32_t>(b[at + 1]) << 8 | b[at];
}

bool has(Bytes b, std::size_t at, std::size_t n) { return at <= b.size() && n <= b.size() - at; }

// The bytes from `at` on, empty when `at` is past the end.
Bytes tail(Bytes b, std::size_t at) { return at < b.size() ? b.subspan(at) : Bytes{}; }

DecodeStatus malformed(DecodedPacket& out, Malformed why) {
  out.malformed = why;
  return DecodeStatus::kMalformed;
}

// ---- Link layer -------------------------------------------------------------------------------

// What follows the link-layer header.
enum class Network : std::uint8_t { kIpv4, kIpv6, kByVersion, kNotIp, kMalformed };

struct Link {
  Network network = Network::kNotIp;
  std::size_t header_len = 0;               // link header, VLAN tags and MPLS labels included
  Malformed malformed = Malformed::kCount;  // when network is kMalformed
};

Link link_malformed(Malformed why) { return {Network::kMalformed, 0, why}; }

bool is_vlan_ethertype(std::uint16_t t) {
  return t == kEthertypeVlan || t == kEthertypeQinQ || t == kEthertypeQinQOld;
}

bool is_mpls_ethertype(std::uint16_t t) {
  return t == kEthertypeMplsUnicast || t == kEthertypeMplsMulticast;
}

// Pops MPLS labels from `at` to the bottom of the stack. MPLS does not say what it carries:
// the first nibble after the stack is taken as the IP version (4 or 6), anything else (an
// Ethernet pseudowire control word, …) is not IP.
Link pop_mpls(Bytes frame, std::size_t at, DecodedPacket& out) {
  bool bottom = false;
  while (!bottom) {
    if (!has(frame, at, kMplsLabelLen)) return link_malformed(Malformed::kTruncatedLink);
    bottom = (frame[at + 2] & kMplsBottomOfStack) != 0;
    if (out.mpls_labels != UINT8_MAX) ++out.mpls_labels;
    at += kMplsLabelLen;
  }
  if (!has(frame, at, 1)) return link_malformed(Malformed::kTruncatedIp);
  switch (frame[at] >> 4) {
    case 4:
      return {Network::kIpv4, at};
    case 6:
      return {Network::kIpv6, at};
    default:
      return {Network::kNotIp, at};
  }
}

// `ethertype` announces what starts at `at`: VLAN tags (TCI, then the next ethertype; any
// number, the first two IDs kept), then MPLS labels or IP.
Link follow_ethertype(Bytes frame, std::uint16_t ethertype, std::size_t at, DecodedPacket& out) {
  while (is_vlan_ethertype(ethertype)) {
    if (!has(frame, at, kVlanTagLen)) return link_malformed(Malformed::kTruncatedLink);
    if (out.vlan_count < 2) out.vlan[out.vlan_count++] = be16(frame, at) & kVlanIdMask;
    ethertype = be16(frame, at + 2);
    at += kVlanTagLen;
  }
  if (is_mpls_ethertype(ethertype)) return pop_mpls(frame, at, out);
  if (ethertype == kEthertypeIpv4) return {Network::kIpv4, at};
  if (ethertype == kEthertypeIpv6) return {Network::kIpv6, at};
  return {Network::kNotIp, at};
}

Link decode_ethernet(Bytes frame, DecodedPacket& out) {
  if (!has(frame, 0, kEthernetHeaderLen)) return link_malformed(Malformed::kTruncatedLink);
  return follow_ethertype(frame, be16(frame, 12), kEthernetHeaderLen, out);
}

Link decode_linux_sll(Bytes frame, std::size_t header_len, std::size_t protocol_offset,
                      DecodedPacket& out) {
  if (!has(frame, 0, header_len)) return link_malformed(Malformed::kTruncatedLink);
  return follow_ethertype(frame, be16(frame, protocol_offset), header_len, out);
}

Network network_of_family(std::uint32_t family) {
  if (family == kAfInet) return Network::kIpv4;
  if (family == kAfInet6NetBsdOpenBsd || family == kAfInet6FreeBsd || family == kAfInet6Darwin) {
    return Network::kIpv6;
  }
  return Network::kNotIp;
}

// DLT_NULL: the family is in the byte order of the host that captured, which the file does not
// say; both readings are tried (the IP values read the other way round are never IP values).
// DLT_LOOP: network byte order.
Link decode_loopback(Bytes frame, bool either_order) {
  if (!has(frame, 0, kLoopbackHeaderLen)) return link_malformed(Malformed::kTruncatedLink);
  Network network = network_of_family(be32(frame, 0));
  if (network == Network::kNotIp && either_order) network = network_of_family(le32(frame, 0));
  return {network, kLoopbackHeaderLen};
}

Link decode_link(LinkType link, Bytes frame, DecodedPacket& out) {
  switch (link) {
    case LinkType::kEthernet:
      return decode_ethernet(frame, out);
    case LinkType::kLinuxSll:
      return decode_linux_sll(frame, kSllHeaderLen, kSllProtocolOffset, out);
    case LinkType::kLinuxSll2:
      return decode_linux_sll(frame, kSll2HeaderLen, kSll2ProtocolOffset, out);
    case LinkType::kRawIp:
      return {Network::kByVersion, 0};
    case LinkType::kNull:
      return decode_loopback(frame, /*either_order=*/true);
    case LinkType::kLoop:
      return decode_loopback(frame, /*either_order=*/false);
  }
  return {Network::kNotIp, 0};
}

// ---- Transport layer --------------------------------------------------------------------------
// Each gets `l4`, the captured bytes of the IP payload (cut at the IP length), and `l4_len`,
// the IP payload length by the IP header (>= l4.size()).

// A transport header that the IP length cuts short: in a first fragment, the rest of it is in
// the next fragment (counted as a fragment); in a whole packet, it is malformed.
DecodeStatus header_past_ip_payload(DecodedPacket& out, Malformed why) {
  return out.fragmented ? DecodeStatus::kFragment : malformed(out, why);
}

// The payload after a transport header of `header_len` bytes.
void set_payload(Bytes l4, std::uint32_t l4_len, std::size_t header_len, DecodedPacket& out) {
  out.payload_len = l4_len > header_len ? l4_len - static_cast<std::uint32_t>(header_len) : 0;
  out.payload = tail(l4, header_len);
}

void parse_tcp_option(std::uint8_t kind, Bytes option, TcpHeader& tcp) {
  const std::size_t len = option.size();
  if (kind == kTcpOptMss && len == 4) {
    tcp.has_mss = true;
    tcp.mss = be16(option, 2);
  } else if (kind == kTcpOptWindowScale && len == 3) {
    tcp.has_wscale = true;
    tcp.wscale = option[2];
  } else if (kind == kTcpOptSackPermitted && len == 2) {
    tcp.sack_permitted = true;
  } else if (kind == kTcpOptSack && len >= 2 + kSackBlockLen && (len - 2) % kSackBlockLen == 0) {
    tcp.has_sack = true;
  } else if (kind == kTcpOptTimestamps && len == 10) {
    tcp.has_timestamps = true;
    tcp.ts_val = be32(option, 2);
    tcp.ts_ecr = be32(option, 6);
  }
  // Unknown kinds, and known kinds with an unexpected length, are skipped.
}

// `options`: the whole option area, captured. An option whose length is < 2 or runs past the
// header ends the parsing: what came before is kept, the packet too (kBadTcpOption is not
// reported; one bad option should not cost the flow a packet).
void parse_tcp_options(Bytes options, TcpHeader& tcp) {
  std::size_t at = 0;
  while (at < options.size()) {
    const std::uint8_t kind = options[at];
    if (kind == kTcpOptEol) return;
    if (kind == kTcpOptNop) {
      ++at;
      continue;
    }
    if (!has(options, at, 2)) return;
    const std::size_t len = options[at + 1];
    if (len < 2 || !has(options, at, len)) return;
    parse_tcp_option(kind, options.subspan(at, len), tcp);
    at += len;
  }
}

DecodeStatus decode_tcp(Bytes l4, std::uint32_t l4_len, DecodedPacket& out) {
  if (l4_len < kTcpMinHeaderLen) {
    return header_past_ip_payload(out, Malformed::kTruncatedTransport);
  }
  if (l4.size() < kTcpMinHeaderLen) return malformed(out, Malformed::kTruncatedTransport);
  const std::size_t header_len = static_cast<std::size_t>(l4[12] >> 4) * 4;
  if (header_len < kTcpMinHeaderLen) return malformed(out, Malformed::kBadTcpHeader);
  if (header_len > l4_len) return header_past_ip_payload(out, Malformed::kBadTcpHeader);
  TcpHeader& tcp = out.tcp;
  out.sport = be16(l4, 0);
  out.dport = be16(l4, 2);
  tcp.seq = be32(l4, 4);
  tcp.ack = be32(l4, 8);
  tcp.flags = l4[13];
  tcp.window = be16(l4, 14);
  tcp.header_len = static_cast<std::uint8_t>(header_len);
  // Options cut by the snaplen stay unset: the packet itself is fine.
  if (l4.size() >= header_len) {
    parse_tcp_options(l4.subspan(kTcpMinHeaderLen, header_len - kTcpMinHeaderLen), tcp);
  }
  out.has_transport = true;
  set_payload(l4, l4_len, header_len, out);
  return DecodeStatus::kOk;
}

DecodeStatus decode_udp(Bytes l4, std::uint32_t l4_len, DecodedPacket& out) {
  if (l4_len < kUdpHeaderLen) return header_past_ip_payload(out, Malformed::kTruncatedTransport);
  if (l4.size() < kUdpHeaderLen) return malformed(out, Malformed::kTruncatedTransport);
  out.sport = be16(l4, 0);
  out.dport = be16(l4, 2);
  out.has_transport = true;
  set_payload(l4, l4_len, kUdpHeaderLen, out);  // by the IP length, not the UDP length field
  return DecodeStatus::kOk;
}

// ICMP and ICMPv6: type in sport, code in dport. Only the first 4 bytes are needed; the
// payload counts from byte 8 (the rest of the header is type-specific).
DecodeStatus decode_icmp(Bytes l4, std::uint32_t l4_len, DecodedPacket& out) {
  if (l4_len < kIcmpMinHeaderLen) {
    return header_past_ip_payload(out, Malformed::kTruncatedTransport);
  }
  if (l4.size() < kIcmpMinHeaderLen) return malformed(out, Malformed::kTruncatedTransport);
  out.sport = l4[0];
  out.dport = l4[1];
  out.has_transport = true;
  set_payload(l4, l4_len, kIcmpHeaderLen, out);
  return DecodeStatus::kOk;
}

DecodeStatus decode_transport(Bytes l4, std::uint32_t l4_len, DecodedPacket& out) {
  switch (out.proto) {
    case kProtoTcp:
      return decode_tcp(l4, l4_len, out);
    case kProtoUdp:
      return decode_udp(l4, l4_len, out);
    case kProtoIcmp:
    case kProtoIcmpv6:
      return decode_icmp(l4, l4_len, out);
    default:  // not decoded: the whole IP payload is the payload
      set_payload(l4, l4_len, 0, out);
      return DecodeStatus::kOk;
  }
}

// ---- Network layer ----------------------------------------------------------------------------
// Each gets `ip`, the captured bytes from the IP header on (the link trailer included), and
// `wire_room`, how many bytes the wire length leaves after the link header.

void copy_address(Bytes ip, std::size_t at, std::uint8_t family, IpAddress& out) {
  out.family = family;
  std::copy_n(ip.begin() + static_cast<std::ptrdiff_t>(at), family == 4 ? 4 : 16,
              out.bytes.begin());
}

// The Internet checksum of an IPv4 header is all ones when it is intact.
bool ipv4_checksum_ok(Bytes header) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < header.size(); i += 2) sum += be16(header, i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

DecodeStatus decode_ipv4(Bytes ip, std::size_t wire_room, DecodedPacket& out) {
  if (ip.size() < kIpv4MinHeaderLen) return malformed(out, Malformed::kTruncatedIp);
  const std::size_t header_len = static_cast<std::size_t>(ip[0] & 0x0f) * 4;
  const std::uint16_t total_len = be16(ip, 2);
  if (ip[0] >> 4 != 4 || header_len < kIpv4MinHeaderLen || total_len < header_len) {
    return malformed(out, Malformed::kBadIpHeader);
  }
  if (ip.size() < header_len) return malformed(out, Malformed::kTruncatedIp);
  // A length past the frame's recorded wire length: some capture tools record a wrong frame
  // length (zeek__reassembly.pcap). An intact header checksum says the header is right (the
  // bytes count as it says, as tshark and tcptrace count them); else it is garbage.
  if (total_len > wire_room && !ipv4_checksum_ok(ip.first(header_len))) {
    return malformed(out, Malformed::kBadIpLength);
  }
  out.ip_version = 4;
  out.ip_len = total_len;
  out.ip_id = be16(ip, 4);
  out.ttl = ip[8];
  out.proto = ip[9];
  copy_address(ip, 12, 4, out.src);
  copy_address(ip, 16, 4, out.dst);
  const std::uint16_t fragment = be16(ip, 6);
  const std::uint16_t fragment_offset = fragment & kIpv4FragmentOffsetMask;
  out.fragmented = (fragment & kIpv4MoreFragments) != 0 || fragment_offset != 0;
  const Bytes l4 = tail(ip.first(std::min<std::size_t>(ip.size(), total_len)), header_len);
  const std::uint32_t l4_len = total_len - static_cast<std::uint32_t>(header_len);
  if (fragment_offset != 0) {  // not the first fragment: no transport header in it
    set_payload(l4, l4_len, 0, out);
    return DecodeStatus::kFragment;
  }
  return decode_transport(l4, l4_len, out);
}

bool is_ipv6_extension(std::uint8_t next) {
  switch (next) {
    case kIpv6HopByHop:
    case kIpv6Routing:
    case kIpv6Fragment:
    case kIpv6Ah:
    case kIpv6DestinationOptions:
    case kIpv6Mobility:
    case kIpv6Hip:    // RFC 7401, the generic extension-header format (RFC 6564)
    case kIpv6Shim6:  // RFC 5533, likewise
      return true;
    default:
      return false;
  }
}

// The length of the extension header at the start of `ext` (captured, >= 8 bytes).
std::size_t ipv6_extension_len(std::uint8_t type, Bytes ext) {
  if (type == kIpv6Fragment) return 8;
  if (type == kIpv6Ah) return (static_cast<std::size_t>(ext[1]) + 2) * 4;
  return (static_cast<std::size_t>(ext[1]) + 1) * 8;
}

// Walks the extension headers of `packet` (captured, cut at the IPv6 length) from byte 40 on;
// sets out.proto and `at` to the upper-layer header. A fragment header with a non-zero offset
// ends the walk with kFragment; a first fragment (offset 0, M set) sets out.fragmented and goes
// on; an atomic fragment (offset 0, M clear) is no fragment at all.
DecodeStatus walk_ipv6_extensions(Bytes packet, std::size_t& at, DecodedPacket& out) {
  std::uint8_t next = packet[6];
  at = kIpv6HeaderLen;
  while (is_ipv6_extension(next)) {
    if (!has(packet, at, kIpv6ExtensionMinLen)) {
      return malformed(out, Malformed::kBadIpv6Extension);
    }
    const std::size_t len = ipv6_extension_len(next, packet.subspan(at));
    if (!has(packet, at, len)) return malformed(out, Malformed::kBadIpv6Extension);
    const std::uint8_t type = next;
    next = packet[at];
    if (type == kIpv6Fragment) {
      const std::uint16_t offset_and_m = be16(packet, at + 2);
      const bool later_fragment = (offset_and_m >> 3) != 0;
      out.fragmented = out.fragmented || later_fragment || (offset_and_m & 0x0001) != 0;
      if (later_fragment) {
        out.proto = next;
        at += len;
        return DecodeStatus::kFragment;
      }
    }
    at += len;
  }
  out.proto = next;
  return DecodeStatus::kOk;
}

DecodeStatus decode_ipv6(Bytes ip, std::size_t wire_room, DecodedPacket& out) {
  if (ip.size() < kIpv6HeaderLen) return malformed(out, Malformed::kTruncatedIp);
  if (ip[0] >> 4 != 6) return malformed(out, Malformed::kBadIpHeader);
  const std::uint16_t payload_len = be16(ip, 4);
  // A jumbogram (RFC 2675: payload length 0, the real one in a hop-by-hop option) is taken as
  // malformed: it needs a link MTU above 64 KiB and does not occur in the traces we read.
  if (payload_len == 0 && ip[6] == kIpv6HopByHop) return malformed(out, Malformed::kBadIpLength);
  const std::uint32_t ip_len = static_cast<std::uint32_t>(kIpv6HeaderLen) + payload_len;
  if (ip_len > wire_room) return malformed(out, Malformed::kBadIpLength);
  out.ip_version = 6;
  out.ip_len = ip_len;
  out.ttl = ip[7];
  copy_address(ip, 8, 6, out.src);
  copy_address(ip, 24, 6, out.dst);
  const Bytes packet = ip.first(std::min<std::size_t>(ip.size(), ip_len));
  std::size_t at = 0;
  const DecodeStatus status = walk_ipv6_extensions(packet, at, out);
  if (status == DecodeStatus::kMalformed) return status;
  const Bytes l4 = tail(packet, at);
  const std::uint32_t l4_len = ip_len - static_cast<std::uint32_t>(at);
  if (status == DecodeStatus::kFragment) {
    set_payload(l4, l4_len, 0, out);
    return status;
  }
  return decode_transport(l4, l4_len, out);
}

// `wire_len` >= frame.size() >= link.header_len.
DecodeStatus decode_network(Link link, Bytes frame, std::size_t wire_len, DecodedPacket& out) {
  const Bytes ip = tail(frame, link.header_len);
  const std::size_t wire_room = wire_len - link.header_len;
  Network network = link.network;
  if (network == Network::kByVersion) {
    if (ip.empty()) return malformed(out, Malformed::kTruncatedIp);
    const int version = ip[0] >> 4;
    if (version != 4 && version != 6) return malformed(out, Malformed::kBadIpHeader);
    network = version == 4 ? Network::kIpv4 : Network::kIpv6;
  }
  if (network == Network::kIpv4) return decode_ipv4(ip, wire_room, out);
  return decode_ipv6(ip, wire_room, out);
}

}  // namespace

// DLT values as libpcap gives them on the platform that reads the file (it maps the file's
// LINKTYPE_* to DLT_*); LINKTYPE_RAW is accepted too for readers of our own. OpenBSD's DLT_LOOP
// (12) is not recognized: 12 is DLT_RAW everywhere else.
bool link_type_from_dlt(int dlt, LinkType& out) {
  switch (dlt) {
    case kDltEn10Mb:
      out = LinkType::kEthernet;
      return true;
    case kDltLinuxSll:
      out = LinkType::kLinuxSll;
      return true;
    case kDltLinuxSll2:
      out = LinkType::kLinuxSll2;
      return true;
    case kDltRaw:
    case kDltRawOpenBsd:
    case kLinktypeRaw:
    case kDltIpv4:
    case kDltIpv6:
      out = LinkType::kRawIp;
      return true;
    case kDltNull:
      out = LinkType::kNull;
      return true;
    case kDltLoop:
      out = LinkType::kLoop;
      return true;
    default:
      return false;
  }
}

std::string_view link_type_name(LinkType t) {
  switch (t) {
    case LinkType::kEthernet:
      return "ethernet";
    case LinkType::kLinuxSll:
      return "linux_sll";
    case LinkType::kLinuxSll2:
      return "linux_sll2";
    case LinkType::kRawIp:
      return "raw_ip";
    case LinkType::kNull:
      return "null";
    case LinkType::kLoop:
      return "loop";
  }
  return "unknown";
}

std::string_view malformed_name(Malformed m) {
  switch (m) {
    case Malformed::kTruncatedLink:
      return "truncated_link";
    case Malformed::kTruncatedIp:
      return "truncated_ip";
    case Malformed::kBadIpHeader:
      return "bad_ip_header";
    case Malformed::kBadIpLength:
      return "bad_ip_length";
    case Malformed::kBadIpv6Extension:
      return "bad_ipv6_extension";
    case Malformed::kTruncatedTransport:
      return "truncated_transport";
    case Malformed::kBadTcpHeader:
      return "bad_tcp_header";
    case Malformed::kBadTcpOption:
      return "bad_tcp_option";
    case Malformed::kBadTimestamp:
      return "bad_timestamp";
    case Malformed::kCount:
      break;
  }
  return "unknown";
}

DecodeStatus decode_packet(LinkType link, std::span<const std::uint8_t> frame,
                           std::uint32_t wire_len, DecodedPacket& out) {
  out = DecodedPacket{};
  // A wire length below the captured length is a broken record: trust what was captured.
  const std::size_t wire = std::max<std::size_t>(wire_len, frame.size());
  const Link l = decode_link(link, frame, out);
  if (l.network == Network::kMalformed) return malformed(out, l.malformed);
  if (l.network == Network::kNotIp) return DecodeStatus::kNotIp;
  return decode_network(l, frame, wire, out);
}

}  // namespace mplane::capture
