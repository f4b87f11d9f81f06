#include "capture/flow/tcp_tracker.h"

#include <algorithm>

namespace mplane::capture {

// The 64-bit relative sequence number nearest to the highest one seen (wrap-around safe).
std::uint64_t TcpDirection::unwrap(std::uint32_t seq) const {
  const std::uint32_t rel = seq - base_;
  constexpr std::uint64_t kSpan = std::uint64_t{1} << 32;
  std::uint64_t candidate = (high_ & ~(kSpan - 1)) | rel;
  if (candidate + kSpan / 2 < high_) candidate += kSpan;
  if (candidate > high_ + kSpan / 2 && candidate >= kSpan) candidate -= kSpan;
  return candidate;
}

// A copy of the previous segment made by the network (same IPv4 id: not a sender's
// retransmission, which gets a new id). IPv6 has no id: never a duplicate there.
bool TcpDirection::is_duplicate(const DecodedPacket& p) const {
  return prev_valid_ && p.ip_version == 4 && p.ip_id != 0 && p.ip_id == prev_ip_id_ &&
         p.tcp.seq == prev_seq_ && p.tcp.ack == prev_ack_ && p.payload_len == prev_len_;
}

void TcpDirection::remember(const DecodedPacket& p) {
  prev_valid_ = true;
  prev_seq_ = p.tcp.seq;
  prev_ack_ = p.tcp.ack;
  prev_len_ = p.payload_len;
  prev_ip_id_ = p.ip_id;
}

void TcpDirection::on_segment(const DecodedPacket& p, Micros now, DirectionStats& stats) {
  const TcpHeader& h = p.tcp;
  const bool syn = h.flags & kSyn, fin = h.flags & kFin;
  if (!(h.flags & kRst)) {
    if (h.window == 0 && !window_zero_) ++stats.zero_window;
    window_zero_ = h.window == 0;
  }
  if (syn) {
    if (h.has_mss) stats.mss = h.mss;
    if (h.has_wscale) stats.wscale = static_cast<std::int8_t>(h.wscale);
  }
  // Relative 0 is the SYN; data starts at 1. Without a SYN the first segment's sequence number
  // is taken as the first data byte; a SYN that comes before any sequence space replaces that
  // guess (e.g. a stale ACK or RST from the server before the SYN-ACK of a reused 4-tuple).
  if (!initialised_ || (syn && !space_seen_)) {
    initialised_ = true;
    base_ = syn ? h.seq : h.seq - 1;
    high_ = syn ? 0 : 1;
    acked_ = 0;
  }
  if (is_duplicate(p)) {
    ++stats.duplicates;
    return;
  }
  remember(p);
  const std::uint64_t begin = unwrap(h.seq);
  const std::uint64_t data_begin = begin + (syn ? 1 : 0);
  const std::uint64_t end = data_begin + p.payload_len + (fin ? 1 : 0);
  if (end == begin) return;  // a pure ACK: no sequence space
  space_seen_ = true;
  const std::uint64_t data_end = data_begin + p.payload_len;
  if (begin >= high_) {  // new data, maybe after a gap
    if (begin > high_) add_hole(high_, begin);
    stats.unique_bytes += p.payload_len;
    high_ = end;
    add_pending(end, now, false);
    return;
  }
  // Below the highest sequence seen: a retransmission, data filling a gap, or old data
  // followed by new (a sender that repacketises).
  const std::uint64_t filled =
      p.payload_len > 0 ? fill_holes(data_begin, std::min(data_end, high_)) : 0;
  const std::uint64_t beyond = end > high_ ? end - high_ : 0;  // sequence space past high_
  const std::uint64_t new_data = filled + (data_end > high_ ? data_end - high_ : 0);
  stats.unique_bytes += new_data;
  if (p.payload_len > 0) {
    if (filled > 0) {
      ++stats.out_of_order;  // data never seen, arriving after later data
    } else if (new_data == 0) {
      ++stats.retrans_packets;  // brings no byte not seen before
      stats.retrans_bytes += p.payload_len;
    }
  }
  // Karn: a transmission that repeats sequence space seen before gives no RTT sample, nor does
  // any earlier one that an ACK can only cover after this one has arrived.
  const bool repeats = (end - begin) > filled + beyond;
  if (repeats) mark_retransmitted(begin);
  add_pending(end, now, repeats);
  high_ = std::max(high_, end);
}

// An ACK for new data gives a sample from the most recently seen transmission it fully
// acknowledges, unless that one repeated sequence space, or sequence space at or below its end
// was sent again after it (Karn), or the ACK also covers a gap: data the probe never saw, whose
// transmission time is unknown.
void TcpDirection::on_ack(std::uint32_t ack, Micros now, DirectionStats& stats) {
  if (!initialised_) return;
  const std::uint64_t rel = unwrap(ack);
  if (rel <= acked_ || rel > high_) return;  // old, duplicate, or acknowledging unseen data
  bool unseen = false;
  for (int i = 0; i < hole_count_; ++i) unseen |= holes_[i].begin < rel && holes_[i].end > acked_;
  acked_ = rel;
  bool acknowledged = false;  // the latest fully acknowledged transmission, if any:
  Pending latest;
  int kept = 0;
  for (int i = 0; i < pending_count_; ++i) {
    if (pending_[i].end <= rel) {
      acknowledged = true;
      latest = pending_[i];
    } else {
      pending_[kept++] = pending_[i];
    }
  }
  if (acknowledged && !latest.retransmitted && !unseen) stats.rtt.add(now - latest.sent);
  pending_count_ = static_cast<std::uint8_t>(kept);
}

// The bytes of [begin, end) that fall in holes, which shrink or split accordingly.
std::uint64_t TcpDirection::fill_holes(std::uint64_t begin, std::uint64_t end) {
  std::uint64_t filled = 0;
  for (int i = 0; i < hole_count_ && begin < end;) {
    Hole& h = holes_[i];
    const std::uint64_t lo = std::max(begin, h.begin), hi = std::min(end, h.end);
    if (lo >= hi) {
      ++i;
      continue;
    }
    filled += hi - lo;
    if (lo == h.begin && hi == h.end) {  // filled: remove
      std::copy(holes_.begin() + i + 1, holes_.begin() + hole_count_, holes_.begin() + i);
      --hole_count_;
      continue;
    }
    if (lo == h.begin) {
      h.begin = hi;
    } else if (hi == h.end) {
      h.end = lo;
    } else {  // [begin, end) lies inside this hole, which splits in two: nothing else to fill
      const Hole right{hi, h.end};
      h.end = lo;
      add_hole(right.begin, right.end);
      break;
    }
    ++i;
  }
  return filled;
}

// Keeps the holes sorted; when they are all in use the lowest is forgotten (its data will
// count as resent).
void TcpDirection::add_hole(std::uint64_t begin, std::uint64_t end) {
  int at = hole_count_;
  while (at > 0 && holes_[at - 1].begin > begin) --at;
  if (hole_count_ == kMaxHoles) {
    if (at == 0) return;  // the new one is the lowest
    // Forget the lowest: every hole moves down one place, not only those below `at`.
    std::copy(holes_.begin() + 1, holes_.begin() + hole_count_, holes_.begin());
    --at;
    --hole_count_;
  }
  std::copy_backward(holes_.begin() + at, holes_.begin() + hole_count_,
                     holes_.begin() + hole_count_ + 1);
  holes_[at] = {begin, end};
  ++hole_count_;
}

void TcpDirection::add_pending(std::uint64_t end, Micros sent, bool retransmitted) {
  if (end <= acked_) return;            // already acknowledged: no ACK can cover it anew
  if (pending_count_ == kMaxPending) {  // the oldest gives no sample
    std::copy(pending_.begin() + 1, pending_.end(), pending_.begin());
    --pending_count_;
  }
  pending_[pending_count_++] = {end, sent, retransmitted};
}

// Karn: sequence space from `begin` on is being sent again. The transmissions seen so far that
// end above `begin` give no RTT sample: the one repeated (which copy is acknowledged is
// unknown), and those above it (their ACK waits for this copy).
void TcpDirection::mark_retransmitted(std::uint64_t begin) {
  for (int i = 0; i < pending_count_; ++i) {
    if (pending_[i].end > begin) pending_[i].retransmitted = true;
  }
}

}  // namespace mplane::capture
