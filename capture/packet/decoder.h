// Zero-copy decoding of captured frames (issue 5, "Capture"): link layer (Ethernet, 802.1Q and
// QinQ, MPLS, Linux cooked v1/v2, BSD loopback, raw IP), IPv4 (options; fragments: the first
// fragment is decoded, the others are only counted), IPv6 (extension-header chain), TCP (options:
// MSS, window scale, SACK permitted, timestamps), UDP, ICMP and ICMPv6.
//
// Nothing is copied: a DecodedPacket's payload points into the frame, valid as long as the
// frame. Byte counts come from the IP headers (IPv4 total length, IPv6 40 + payload length),
// never from the captured length, so traces captured with a short snaplen count right. A frame
// that is not IP is reported as such; one that is truncated or malformed is reported with the
// reason (a Malformed kind) so that callers count it and go on. Never reads past the frame.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace mplane::capture {

// Link types (libpcap DLT_* / LINKTYPE_* values mapped by link_type_from_dlt()).
enum class LinkType : std::uint8_t {
  kEthernet,   // DLT_EN10MB
  kLinuxSll,   // DLT_LINUX_SLL (cooked v1)
  kLinuxSll2,  // DLT_LINUX_SLL2 (cooked v2)
  kRawIp,      // DLT_RAW / LINKTYPE_RAW (IPv4 or IPv6 by version nibble), DLT_IPV4, DLT_IPV6
  kNull,       // DLT_NULL (4-byte host-order family), DLT_LOOP (network order)
  kLoop,
};
// False if libpcap's `dlt` is none of the above.
bool link_type_from_dlt(int dlt, LinkType& out);
std::string_view link_type_name(LinkType t);

// Why a frame was skipped as malformed. Stable order: used as an index into counters.
enum class Malformed : std::uint8_t {
  kTruncatedLink,       // shorter than its link-layer header (incl. VLAN/MPLS)
  kTruncatedIp,         // shorter than the IP header it announces
  kBadIpHeader,         // IPv4 IHL < 5, total length < IHL*4; bad version nibble
  kBadIpLength,         // IP length says more than the wire length of the frame allows
  kBadIpv6Extension,    // extension-header chain runs past the packet
  kTruncatedTransport,  // TCP/UDP/ICMP header not entirely captured, or longer than the IP
                        // payload (in a first fragment, that is a kFragment instead)
  kBadTcpHeader,        // TCP data offset < 5, or past the IP payload
  kBadTcpOption,        // reserved, never reported: a TCP option whose length is < 2 or runs
                        // past the header ends the option parsing; the packet is kept (kOk)
  kBadTimestamp,        // not from the decoder: the Analyzer's, for a frame whose reader found
                        // its timestamp out of range (kBadTimestamp, source/frame_file.h)
  kCount
};
std::string_view malformed_name(Malformed m);

enum class DecodeStatus : std::uint8_t {
  kOk,         // an IP packet (with its transport header when proto is TCP/UDP/ICMP/ICMPv6)
  kNotIp,      // ARP, LLDP, …: not an error, counted apart
  kFragment,   // an IPv4/IPv6 fragment other than the first: IP fields set, no transport
  kMalformed,  // see DecodedPacket::malformed
};

struct IpAddress {
  std::uint8_t family = 0;               // 4 or 6
  std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first 4 bytes, the rest zero
  bool operator==(const IpAddress&) const = default;
};

struct TcpHeader {
  std::uint32_t seq = 0, ack = 0;
  std::uint16_t window = 0;  // as on the wire (unscaled)
  std::uint8_t flags = 0;    // FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE, CWR
  std::uint8_t header_len = 0;  // bytes, options included
  // Options (present only if the has_ flag is set).
  bool has_mss = false, has_wscale = false, sack_permitted = false, has_timestamps = false;
  bool has_sack = false;  // SACK blocks present
  std::uint16_t mss = 0;
  std::uint8_t wscale = 0;
  std::uint32_t ts_val = 0, ts_ecr = 0;
};

enum TcpFlag : std::uint8_t {
  kFin = 0x01,
  kSyn = 0x02,
  kRst = 0x04,
  kPsh = 0x08,
  kAck = 0x10,
  kUrg = 0x20
};

struct DecodedPacket {
  // Link layer.
  std::uint16_t vlan[2] = {0, 0};  // outer, inner VLAN IDs (12 bits)
  std::uint8_t vlan_count = 0;     // 0, 1 or 2 (more tags: the first two are kept)
  std::uint8_t mpls_labels = 0;    // how many MPLS labels were popped
  // Network layer.
  IpAddress src, dst;
  std::uint8_t ip_version = 0;  // 4 or 6
  std::uint8_t proto = 0;       // transport protocol (after IPv6 extension headers)
  std::uint32_t ip_len = 0;     // whole IP packet as its header says (IPv4 total length,
                                // IPv6 40 + payload length)
  bool fragmented = false;      // a fragment (first or not); first: has_transport may be set
  std::uint16_t ip_id = 0;      // IPv4 identification (0 for IPv6)
  std::uint8_t ttl = 0;         // TTL / hop limit
  // Transport layer (has_transport: its header was decoded).
  bool has_transport = false;
  std::uint16_t sport = 0, dport = 0;       // ICMP: type and code in sport / dport
  TcpHeader tcp;                            // proto 6 only
  std::uint32_t payload_len = 0;            // transport payload by the IP length (not by caplen);
                                            // no transport header decoded (other protocols,
                                            // kFragment): all that follows the IP headers
  std::span<const std::uint8_t> payload;    // what was captured of it (may be shorter; never
                                            // the link trailer after the IP packet)
  Malformed malformed = Malformed::kCount;  // set when the status is kMalformed
};

// Decodes one frame. `frame` is what was captured (caplen bytes); `wire_len` the frame's length
// on the wire (pcap's len). `out` is overwritten; its payload points into `frame`.
DecodeStatus decode_packet(LinkType link, std::span<const std::uint8_t> frame,
                           std::uint32_t wire_len, DecodedPacket& out);

}  // namespace mplane::capture
