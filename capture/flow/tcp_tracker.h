// Sequence-space bookkeeping of one direction of a TCP connection (internal to capture/flow):
// what is new data, what is a retransmission, an out-of-order arrival or a network duplicate,
// and which segments are waiting for an ACK (for RTT samples). Fixed-size state, no allocation:
// a flow table of a million connections stays predictable.
#pragma once

#include <array>
#include <cstdint>

#include "capture/flow/flow_record.h"

namespace mplane::capture {

class TcpDirection {
 public:
  // Data of a segment sent in this direction (its sequence space: payload, plus one for a SYN
  // or a FIN). Updates the counters of `stats`.
  void on_segment(const DecodedPacket& p, Micros now, DirectionStats& stats);
  // An ACK for this direction's data, carried by the other direction: RTT samples into `stats`.
  void on_ack(std::uint32_t ack, Micros now, DirectionStats& stats);
  bool initialised() const { return initialised_; }
  std::uint32_t isn() const { return base_; }

  static constexpr int kMaxHoles = 4;    // gaps below the highest sequence seen
  static constexpr int kMaxPending = 8;  // segments waiting for an ACK (RTT samples)

 private:
  struct Hole {
    std::uint64_t begin = 0, end = 0;
  };
  // One transmission seen (a segment carrying sequence space), until an ACK covers it.
  struct Pending {
    std::uint64_t end = 0;  // relative, exclusive
    Micros sent = 0;
    bool retransmitted = false;  // no RTT sample: repeated data, or data below its end was resent
  };

  std::uint64_t unwrap(std::uint32_t seq) const;
  bool is_duplicate(const DecodedPacket& p) const;
  void remember(const DecodedPacket& p);
  std::uint64_t fill_holes(std::uint64_t begin, std::uint64_t end);
  void add_hole(std::uint64_t begin, std::uint64_t end);
  void add_pending(std::uint64_t end, Micros sent, bool retransmitted);
  void mark_retransmitted(std::uint64_t begin);

  bool initialised_ = false;
  bool space_seen_ = false;  // a segment with sequence space (data, SYN or FIN) was seen
  std::uint32_t base_ = 0;   // sequence number of relative 0 (the SYN, or one before the data)
  std::uint64_t high_ = 0;   // end (exclusive) of the highest sequence seen, relative
  std::uint64_t acked_ = 0;  // highest relative ACK received for this direction
  std::array<Hole, kMaxHoles> holes_{};  // lowest first
  std::uint8_t hole_count_ = 0;
  std::array<Pending, kMaxPending> pending_{};  // in the order seen (oldest first)
  std::uint8_t pending_count_ = 0;
  // The previous segment, for network duplicates.
  bool prev_valid_ = false;
  std::uint32_t prev_seq_ = 0, prev_ack_ = 0, prev_len_ = 0;
  std::uint16_t prev_ip_id_ = 0;
  bool window_zero_ = false;
};

}  // namespace mplane::capture
