// One analysis pipeline (one per shard): frames in, decoded, counted, and fed to a flow table
// whose finished flows go to a sink. Counters say what the capture saw and what was skipped,
// by kind: the capture-quality metadata of every result (issue 5).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "capture/flow/flow_table.h"
#include "capture/packet/decoder.h"

namespace mplane::capture {

struct CaptureCounters {
  std::uint64_t packets = 0;          // frames read
  std::uint64_t wire_bytes = 0;       // their lengths on the wire
  std::uint64_t ip_packets = 0;       // decoded IP packets (fragments included)
  std::uint64_t non_ip = 0;           // ARP, LLDP, …
  std::uint64_t fragments = 0;        // IP fragments other than the first (counted, not attributed)
  std::uint64_t other_protocols = 0;  // IP, not TCP or UDP (ICMP, …): counted, no flow
  std::array<std::uint64_t, static_cast<std::size_t>(Malformed::kCount)> malformed{};
  std::uint64_t kernel_dropped = 0, interface_dropped = 0;  // from a live source
  std::uint64_t malformed_total() const;
  CaptureCounters& operator+=(const CaptureCounters& o);
};

// Which flows an analyser keeps when several share the packets (one per shard, each reading
// every frame): those whose symmetric flow hash is `index` modulo `count`. The common packets
// (Ethernet, IPv4, TCP/UDP) are hashed at fixed offsets and skipped at once by the other
// shards; frame-level counters (packets, non-IP, malformed, …) are kept by the owner of a frame
// (by that hash), or by index 0 for frames without one, so that they add up once.
struct Partition {
  std::size_t index = 0, count = 1;
};

class Analyzer {
 public:
  Analyzer(LinkType link, FlowTableOptions options, FlowTable::Sink sink, Partition part = {})
      : link_(link), table_(options, std::move(sink)), part_(part) {}

  // One captured frame; `ts` is its timestamp. Expires idle flows once a second of packet time.
  void packet(Micros ts, std::span<const std::uint8_t> frame, std::uint32_t wire_len);
  // Expires idle flows at `now` (a live capture calls it on a timer when no packet comes).
  void expire(Micros now) { table_.expire(now); }
  // The end of the capture: every open flow is reported.
  void finish() { table_.flush(); }

  const CaptureCounters& counters() const { return counters_; }
  CaptureCounters& counters() { return counters_; }
  const FlowTable& table() const { return table_; }

 private:
  LinkType link_;
  FlowTable table_;
  Partition part_;
  CaptureCounters counters_;
  DecodedPacket decoded_;
  Micros next_expiry_ = 0;
  Micros latest_ = 0;
};

}  // namespace mplane::capture
