// One analysis pipeline (one per shard): frames in, decoded, counted, and fed to a flow table
// whose finished flows go to a sink. Counters say what the capture saw and what was skipped,
// by kind: the capture-quality metadata of every result (issue 5).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "capture/flow/flow_table.h"
#include "capture/packet/decoder.h"
#include "capture/source/frame_file.h"

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

// The partition (modulo `count`) of a common frame, read at fixed offsets without decoding it;
// nullopt for the others, which every partition must see (see Partition). What a reader that
// hands each shard only its own frames routes by (SplitPcap).
std::optional<std::size_t> quick_partition(LinkType link, std::span<const std::uint8_t> frame,
                                           std::size_t count);

class Analyzer {
 public:
  Analyzer(LinkType link, FlowTableOptions options, FlowTable::Sink sink, Partition part = {})
      : link_(link), table_(options, std::move(sink)), part_(part) {}

  // One captured frame; `ts` is its timestamp. Expires idle flows once a second of packet time.
  // A frame with kBadTimestamp is counted (malformed: bad_timestamp) and nothing more.
  void packet(Micros ts, std::span<const std::uint8_t> frame, std::uint32_t wire_len);

  // The two halves of packet(), for readers that decode on one thread and analyse on another
  // (SplitAnalysis). decode() decodes a frame into `out`, counts it in `counters` (if not
  // null: the caller's, e.g. a chunk's), and says whether it goes to a flow table (TCP or
  // UDP), with its flow hash (never for a frame with kBadTimestamp, only counted); add() runs
  // this analyser's table on such a packet.
  bool decode(Micros ts, std::span<const std::uint8_t> frame, std::uint32_t wire_len,
              DecodedPacket& out, std::uint64_t& hash, CaptureCounters* counters) const;
  void add(Micros ts, const DecodedPacket& p, std::uint64_t hash);
  // Expires idle flows at `now` (a live capture calls it on a timer when no packet comes).
  void expire(Micros now) { table_.expire(now); }
  // The capture's clock: the latest timestamp of any frame given so far (packet() advances it
  // with every frame, its shard's or not). Expires idle flows once a second of it. Ignores
  // kBadTimestamp.
  void advance(Micros ts);
  // The end of the capture: flows idle past their timeout at the capture's last time are
  // reported as timed out, every other one as open.
  void finish() {
    table_.expire(latest_);
    table_.flush();
  }

  const CaptureCounters& counters() const { return counters_; }
  CaptureCounters& counters() { return counters_; }
  const FlowTable& table() const { return table_; }
  LinkType link() const { return link_; }
  Partition partition() const { return part_; }

 private:
  bool classify(std::span<const std::uint8_t> frame, std::uint32_t wire_len, DecodedPacket& out,
                CaptureCounters& counters, std::uint64_t one) const;

  LinkType link_;
  FlowTable table_;
  Partition part_;
  CaptureCounters counters_;
  DecodedPacket decoded_;
  Micros next_expiry_ = 0;
  Micros latest_ = 0;
};

}  // namespace mplane::capture
