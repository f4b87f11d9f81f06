#include "capture/analyzer.h"

#include <algorithm>

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

void Analyzer::packet(Micros ts, std::span<const std::uint8_t> frame, std::uint32_t wire_len) {
  // Frame-level counters are kept by the first partition only (see Partition).
  const std::uint64_t one = part_.index == 0 ? 1 : 0;
  counters_.packets += one;
  counters_.wire_bytes += one * wire_len;
  switch (decode_packet(link_, frame, wire_len, decoded_)) {
    case DecodeStatus::kNotIp:
      counters_.non_ip += one;
      return;
    case DecodeStatus::kMalformed:
      counters_.malformed[static_cast<std::size_t>(decoded_.malformed)] += one;
      return;
    case DecodeStatus::kFragment:
      counters_.ip_packets += one;
      counters_.fragments += one;
      return;
    case DecodeStatus::kOk:
      break;
  }
  counters_.ip_packets += one;
  if (!decoded_.has_transport || (decoded_.proto != 6 && decoded_.proto != 17)) {
    counters_.other_protocols += one;
    return;
  }
  if (part_.count > 1 && flow_hash(decoded_) % part_.count != part_.index) return;
  // Timestamps may step back (merged traces): expiry follows the latest time seen.
  latest_ = std::max(latest_, ts);
  if (latest_ >= next_expiry_) {
    table_.expire(latest_);
    next_expiry_ = latest_ + 1'000'000;
  }
  table_.add(decoded_, ts);
}

}  // namespace mplane::capture
