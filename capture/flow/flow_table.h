// The bidirectional flow table (issue 5, "Flow table"): TCP and UDP flows on the 5-tuple (plus
// the VLAN tags, so that copies of a connection on different VLANs stay apart), client and
// server decided by the SYN (else the first packet), idle and active timeouts, reuse of a TCP
// 4-tuple after a close starting a new connection, and a bounded number of flows: a full table
// evicts its least recently active flow (counted). All times are packet timestamps; nothing
// here reads a clock. Single-threaded: one table per shard.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "capture/flow/flow_record.h"
#include "capture/flow/tcp_tracker.h"

namespace mplane::capture {

struct FlowTableOptions {
  std::size_t max_flows = 131072;
  Micros idle_timeout = 300'000'000;  // no packet for this long: the flow ends (timeout)
  Micros closed_timeout =
      60'000'000;             // after FIN both ways or a RST (TIME_WAIT): late packets count
  Micros active_timeout = 0;  // a flow older than this is reported and restarted (0: off)
};

struct FlowTableStats {
  std::uint64_t flows_created = 0, flows_reported = 0, flows_evicted = 0;
  std::uint64_t tcp_reused = 0;  // a SYN on a closed 4-tuple started a new connection
};

// A symmetric hash of a packet's flow (the same for both directions): shards partition by it.
std::uint64_t flow_hash(const DecodedPacket& p);
// Which of `count` shards a flow belongs to: from the hash's high bits, by a multiply rather
// than a division. A flow table finds its slots from the low bits, so the flows of one shard
// still spread over all of its table's slots (with `hash % count` a shard of two would use
// only the even slots, and its probes would run twice as long).
inline std::size_t flow_partition(std::uint64_t hash, std::size_t count) {
  return static_cast<std::size_t>((static_cast<unsigned __int128>(hash) * count) >> 64);
}
// The same from its parts (a fast path that has not decoded the whole packet).
std::uint64_t flow_hash(const IpAddress& a, std::uint16_t port_a, const IpAddress& b,
                        std::uint16_t port_b, std::uint8_t proto, const std::uint16_t vlan[2],
                        std::uint8_t vlan_count);

class FlowTable {
 public:
  using Sink = std::function<void(const FlowRecord&)>;
  FlowTable(FlowTableOptions options, Sink sink);

  // A decoded TCP or UDP packet (has_transport); others are ignored. `now` is its timestamp.
  // A flow idle past its timeout ends (timeout) before the packet, even if expire() was not
  // called since: the records do not depend on when the caller expires.
  void add(const DecodedPacket& p, Micros now) { add(p, now, flow_hash(p)); }
  // The same when the caller has the packet's flow_hash already.
  void add(const DecodedPacket& p, Micros now, std::uint64_t hash);
  // Reports the flows idle past their timeout at `now` (call between packets, or on a timer).
  void expire(Micros now);
  // Reports every flow still open (end of the capture, or an interrupt) and empties the table.
  void flush();

  std::size_t size() const { return live_; }
  const FlowTableStats& stats() const { return stats_; }

 private:
  struct Key {
    IpAddress a, b;
    std::uint16_t port_a = 0, port_b = 0;
    std::uint16_t vlan[2] = {0, 0};
    std::uint8_t proto = 0, vlan_count = 0;
    bool operator==(const Key&) const = default;
  };
  static constexpr std::uint32_t kNone = 0xffffffff;
  struct Flow {
    Key key;
    FlowRecord record;
    TcpDirection c2s, s2c;
    bool client_is_a = true;
    bool closed = false;  // FIN both ways or RST: waits closed_timeout for late packets
    bool syn_seen = false;
    bool continued = false;  // the record after an active timeout of the same connection
    Micros syn_time = -1, synack_time = -1;
    std::uint32_t prev = kNone, next = kNone;  // in its LRU list (least recent first)
    std::uint64_t hash = 0;
  };
  struct List {
    std::uint32_t head = kNone, tail = kNone;
  };

  static Key key_of(const DecodedPacket& p, bool& sender_is_a);
  std::uint32_t find(const Key& k, std::uint64_t hash) const;
  bool idle_past(const Flow& f, Micros now) const;  // its timeout (idle or closed) has run out
  std::uint32_t create(const Key& k, std::uint64_t hash, const DecodedPacket& p, bool sender_is_a,
                       Micros now);
  void report(std::uint32_t index, EndState reason);
  void update_tcp(Flow& f, const DecodedPacket& p, bool from_client, Micros now);
  void count(DirectionStats& d, const DecodedPacket& p, Micros now);
  bool starts_new_connection(const Flow& f, const DecodedPacket& p) const;
  void continue_roles(Flow& f, bool client_is_a);
  void unlink(std::uint32_t i);
  void push_back(std::uint32_t i);
  void insert_slot(std::uint32_t index, std::uint64_t hash);
  void erase_slot(std::uint32_t index, std::uint64_t hash);

  FlowTableOptions options_;
  Sink sink_;
  std::vector<Flow> flows_;
  std::vector<std::uint32_t> free_;
  std::vector<std::uint32_t> slots_;  // open addressing, linear probing; flow index or kNone
  std::uint64_t slot_mask_ = 0;
  List open_, closed_;
  std::size_t live_ = 0;
  FlowTableStats stats_;
};

}  // namespace mplane::capture
