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

#include "capture/analyzer.h"
#include "capture/flow/flow_table.h"
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

// Checks a reported flow's invariants.
void check_record(const FlowRecord& r) {
  check(r.first <= r.last);
  check(r.c2s.packets + r.s2c.packets > 0);
  for (const DirectionStats* d : {&r.c2s, &r.s2c}) {
    check(d->unique_bytes <= d->payload_bytes);
    check(d->retrans_bytes <= d->payload_bytes);
    check(d->rtt.count == 0 || d->rtt.min <= d->rtt.max);
  }
}

}  // namespace

// Input: one byte of link type (high bit: frames cut by a snaplen), then the first frame; the
// rest of the input, if it holds more frames, as [2-byte length][frame]... Each frame is
// decoded and checked; the decoded ones go through one small flow table (a fresh one per
// input, so that every finding reproduces from its file alone), whose records are checked.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto link = static_cast<LinkType>((data[0] & ~kSnaplenCut) % kLinkTypes);
  FlowTable table(FlowTableOptions{.max_flows = 8,
                                   .idle_timeout = 10'000'000,
                                   .closed_timeout = 1'000'000,
                                   .active_timeout = 0},
                  &check_record);
  std::size_t at = 1;
  Micros clock = 1'000'000'000'000;
  bool first = true;
  while (at < size) {
    std::size_t len = size - at;
    if (!first) {  // later frames: a length prefix
      if (size - at < 2) break;
      len = std::min<std::size_t>(size - at - 2, (data[at] << 8) | data[at + 1]);
      at += 2;
    } else {
      // The first frame runs to a 0xFF 0xFE marker, if any, else to the end.
      for (std::size_t i = at; i + 1 < size; ++i) {
        if (data[i] == 0xff && data[i + 1] == 0xfe) {
          len = i - at;
          break;
        }
      }
    }
    const std::span<const std::uint8_t> frame(data + at, len);
    at += len + (first && at + len < size ? 2 : 0);
    first = false;
    const auto captured = static_cast<std::uint32_t>(frame.size());
    const std::uint32_t wire_len = (data[0] & kSnaplenCut) ? captured + kCutBytes : captured;
    DecodedPacket p;
    const DecodeStatus status = decode_packet(link, frame, wire_len, p);
    check_packet(status, p, frame, wire_len);
    // The fixed-offset hash shards route by must agree with the decoded packet's flow hash.
    if (status == DecodeStatus::kOk && p.has_transport && (p.proto == 6 || p.proto == 17)) {
      const auto quick = quick_partition(link, frame, std::size_t{1} << 20);
      check(!quick || *quick == flow_partition(flow_hash(p), std::size_t{1} << 20));
    }
    clock += 1000 + static_cast<Micros>(len) * 10'000;
    if (status == DecodeStatus::kOk) table.add(p, clock);
    table.expire(clock);
    check(table.size() <= 8);
  }
  table.flush();
  return 0;
}
