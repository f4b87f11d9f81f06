// libFuzzer target for the packet decoder (capture/packet/decoder.h).
//
// Input: the first byte chooses the link type (low 7 bits, modulo the number of link types)
// and whether the frame was cut by a snaplen (high bit: the wire length is then 1500 bytes
// more than the captured length); the rest is the frame.
//
// Properties: nothing is read outside the frame (ASan); the payload lies within the frame and
// is at most payload_len; a decoded transport header and its payload fit in the IP length; the
// status and the Malformed kind agree.
#include <cstddef>
#include <cstdint>
#include <span>

#include "capture/packet/decoder.h"

using namespace mplane::capture;

namespace {

constexpr int kLinkTypes = 6;
constexpr std::uint8_t kSnaplenCut = 0x80;
constexpr std::uint32_t kCutBytes = 1500;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

std::uint32_t min_ip_header_len(const DecodedPacket& p) { return p.ip_version == 4 ? 20 : 40; }

// The smallest transport header decode_packet accepts for `p` (has_transport set).
std::uint32_t transport_header_len(const DecodedPacket& p) {
  if (p.proto == 6) return p.tcp.header_len;
  if (p.proto == 17) return 8;
  return 4;  // ICMP, ICMPv6: type and code
}

void check_transport(const DecodedPacket& p) {
  check(p.proto == 6 || p.proto == 17 || p.proto == 1 || p.proto == 58);
  if (p.proto == 6) check(p.tcp.header_len >= 20 && p.tcp.header_len % 4 == 0);
  const std::uint32_t room = p.ip_len - min_ip_header_len(p);
  check(transport_header_len(p) <= room);
  check(p.payload_len <= room - transport_header_len(p));
}

void check_packet(DecodeStatus status, const DecodedPacket& p, std::span<const std::uint8_t> frame,
                  std::uint32_t wire_len) {
  check((status == DecodeStatus::kMalformed) == (p.malformed != Malformed::kCount));
  check(p.malformed <= Malformed::kCount && p.malformed != Malformed::kBadTcpOption);
  check(p.vlan_count <= 2);
  check(!p.has_transport || status == DecodeStatus::kOk);
  check(status != DecodeStatus::kFragment || p.fragmented);
  if (status == DecodeStatus::kOk || status == DecodeStatus::kFragment) {
    check(p.ip_version == 4 || p.ip_version == 6);
    // An IPv4 header with an intact checksum may claim more than the wire length.
    check(p.ip_len >= min_ip_header_len(p) && (p.ip_len <= wire_len || p.ip_version == 4));
    check(p.src.family == p.ip_version && p.dst.family == p.ip_version);
  }
  if (p.has_transport) check_transport(p);
  check(p.payload.size() <= p.payload_len);
  if (!p.payload.empty()) {
    check(p.payload.data() >= frame.data());
    check(p.payload.data() + p.payload.size() <= frame.data() + frame.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto link = static_cast<LinkType>((data[0] & ~kSnaplenCut) % kLinkTypes);
  const std::span<const std::uint8_t> frame(data + 1, size - 1);
  const auto captured = static_cast<std::uint32_t>(frame.size());
  const std::uint32_t wire_len = (data[0] & kSnaplenCut) ? captured + kCutBytes : captured;
  DecodedPacket p;
  const DecodeStatus status = decode_packet(link, frame, wire_len, p);
  check_packet(status, p, frame, wire_len);
  return 0;
}
