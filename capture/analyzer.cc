#include "capture/analyzer.h"

#include <algorithm>
#include <cstring>

namespace mplane::capture {

std::uint64_t CaptureCounters::malformed_total() const {
  std::uint64_t n = 0;
  for (std::uint64_t m : malformed) n += m;
  return n;
}

CaptureCounters& CaptureCounters::operator+=(const CaptureCounters& o) {
  packets += o.packets;
  wire_bytes += o.wire_bytes;
  ip_packets += o.ip_packets;
  non_ip += o.non_ip;
  fragments += o.fragments;
  other_protocols += o.other_protocols;
  for (std::size_t i = 0; i < malformed.size(); ++i) malformed[i] += o.malformed[i];
  kernel_dropped += o.kernel_dropped;
  interface_dropped += o.interface_dropped;
  return *this;
}

namespace {

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

// The flow hash of the common case (Ethernet, untagged IPv4, not a fragment, TCP or UDP) read
// at fixed offsets, without decoding the packet; false for anything else. Equal to
// flow_hash(decoded packet): shards skip the packets of others' flows for a few nanoseconds.
bool quick_flow_hash(LinkType link, std::span<const std::uint8_t> f, std::uint64_t& hash) {
  if (link != LinkType::kEthernet || f.size() < 14 + 20 + 4) return false;
  const std::uint8_t* ip = f.data() + 14;
  if (be16(f.data() + 12) != 0x0800 || ip[0] >> 4 != 4) return false;
  const std::size_t ihl = static_cast<std::size_t>(ip[0] & 0x0f) * 4;
  const std::uint8_t proto = ip[9];
  if (ihl < 20 || (proto != 6 && proto != 17) || (be16(ip + 6) & 0x3fff) != 0 ||
      f.size() < 14 + ihl + 4) {
    return false;
  }
  IpAddress src, dst;
  src.family = dst.family = 4;
  std::memcpy(src.bytes.data(), ip + 12, 4);
  std::memcpy(dst.bytes.data(), ip + 16, 4);
  const std::uint16_t untagged[2] = {0, 0};
  hash = flow_hash(src, be16(ip + ihl), dst, be16(ip + ihl + 2), proto, untagged, 0);
  return true;
}

}  // namespace

std::optional<std::size_t> quick_partition(LinkType link, std::span<const std::uint8_t> frame,
                                           std::size_t count) {
  std::uint64_t hash = 0;
  if (!quick_flow_hash(link, frame, hash)) return std::nullopt;
  return flow_partition(hash, count);
}

namespace {

// A frame whose timestamp its reader could not represent: counted, never decoded.
void count_bad_timestamp(std::uint32_t wire_len, CaptureCounters& c, std::uint64_t one) {
  c.packets += one;
  c.wire_bytes += one * wire_len;
  c.malformed[static_cast<std::size_t>(Malformed::kBadTimestamp)] += one;
}

}  // namespace

void Analyzer::packet(Micros ts, std::span<const std::uint8_t> frame, std::uint32_t wire_len) {
  // A frame is counted by the partition that owns it: by its quick hash when it has one (the
  // others skip it at once), else by partition 0 (see Partition).
  std::uint64_t one = part_.index == 0 ? 1 : 0;
  if (ts == kBadTimestamp) return count_bad_timestamp(wire_len, counters_, one);
  advance(ts);
  std::uint64_t hash = 0;
  const bool hashed = quick_flow_hash(link_, frame, hash);
  if (hashed && part_.count > 1) {
    if (flow_partition(hash, part_.count) != part_.index) return;
    one = 1;
  }
  if (!classify(frame, wire_len, decoded_, counters_, one)) return;
  if (!hashed) {
    hash = flow_hash(decoded_);
    if (part_.count > 1 && flow_partition(hash, part_.count) != part_.index) return;
  }
  add(ts, decoded_, hash);
}

bool Analyzer::decode(Micros ts, std::span<const std::uint8_t> frame, std::uint32_t wire_len,
                      DecodedPacket& out, std::uint64_t& hash, CaptureCounters* counters) const {
  CaptureCounters uncounted;
  if (ts == kBadTimestamp) {
    count_bad_timestamp(wire_len, counters ? *counters : uncounted, counters ? 1 : 0);
    return false;
  }
  if (!classify(frame, wire_len, out, counters ? *counters : uncounted, counters ? 1 : 0)) {
    return false;
  }
  if (!quick_flow_hash(link_, frame, hash)) hash = flow_hash(out);
  return true;
}

// Decodes `frame` into `out` and adds `one` (1, or 0 for a frame another analyser counts) to
// the counters of its kind; true for a TCP or UDP packet, which goes to a flow table.
bool Analyzer::classify(std::span<const std::uint8_t> frame, std::uint32_t wire_len,
                        DecodedPacket& out, CaptureCounters& c, std::uint64_t one) const {
  c.packets += one;
  c.wire_bytes += one * wire_len;
  switch (decode_packet(link_, frame, wire_len, out)) {
    case DecodeStatus::kNotIp:
      c.non_ip += one;
      return false;
    case DecodeStatus::kMalformed:
      c.malformed[static_cast<std::size_t>(out.malformed)] += one;
      return false;
    case DecodeStatus::kFragment:
      c.ip_packets += one;
      c.fragments += one;
      return false;
    case DecodeStatus::kOk:
      break;
  }
  c.ip_packets += one;
  if (!out.has_transport || (out.proto != 6 && out.proto != 17)) {
    c.other_protocols += one;
    return false;
  }
  return true;
}

void Analyzer::add(Micros ts, const DecodedPacket& p, std::uint64_t hash) {
  advance(ts);
  table_.add(p, ts, hash);
}

void Analyzer::advance(Micros ts) {
  if (ts == kBadTimestamp) return;
  // Timestamps may step back (merged traces): expiry follows the latest time seen.
  latest_ = std::max(latest_, ts);
  if (latest_ >= next_expiry_) {
    table_.expire(latest_);
    next_expiry_ = latest_ + 1'000'000;
  }
}

}  // namespace mplane::capture
