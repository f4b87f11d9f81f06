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
  if (!initialised_) {
    initialised_ = true;
    base_ = syn ? h.seq : h.seq - 1;  // relative 0 is the SYN; data starts at 1
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
  const std::uint64_t data_end = data_begin + p.payload_len;
  if (begin >= high_) {  // new data, maybe after a gap
    if (begin > high_) add_hole(high_, begin);
    stats.unique_bytes += p.payload_len;
    high_ = end;
    add_pending(end, now, false);
    return;
  }
  if (p.payload_len == 0) {  // a SYN or FIN again
    mark_retransmitted(begin, end);
    high_ = std::max(high_, end);
    return;
  }
  const std::uint64_t filled = fill_holes(data_begin, std::min(data_end, high_));
  const std::uint64_t beyond = data_end > high_ ? data_end - high_ : 0;
  stats.unique_bytes += filled + beyond;
  if (filled > 0) {
    ++stats.out_of_order;  // data never seen, arriving after later data
  } else {
    ++stats.retrans_packets;
    stats.retrans_bytes += p.payload_len;
    mark_retransmitted(begin, end);
  }
  if (end > high_) {
    high_ = end;
    add_pending(end, now, filled == 0);
  }
}

void TcpDirection::on_ack(std::uint32_t ack, Micros now, DirectionStats& stats) {
  if (!initialised_) return;
  const std::uint64_t rel = unwrap(ack);
  if (rel <= acked_ || rel > high_) return;  // old, duplicate, or acknowledging unseen data
  acked_ = rel;
  int done = 0;
  const Pending* sample = nullptr;
  while (done < pending_count_ && pending_[done].end <= rel) {
    sample = &pending_[done];
    ++done;
  }
  if (sample && !sample->retransmitted) stats.rtt.add(now - sample->sent);
  std::copy(pending_.begin() + done, pending_.begin() + pending_count_, pending_.begin());
  pending_count_ = static_cast<std::uint8_t>(pending_count_ - done);
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
    } else {  // split: the right part becomes a new hole (the oldest goes if full)
      const Hole right{hi, h.end};
      h.end = lo;
      add_hole(right.begin, right.end);
    }
    ++i;
  }
  return filled;
}

void TcpDirection::add_hole(std::uint64_t begin, std::uint64_t end) {
  if (hole_count_ == kMaxHoles) {  // forget the lowest gap: its data will count as resent
    std::copy(holes_.begin() + 1, holes_.end(), holes_.begin());
    --hole_count_;
  }
  holes_[hole_count_++] = {begin, end};
}

void TcpDirection::add_pending(std::uint64_t end, Micros sent, bool retransmitted) {
  if (pending_count_ == kMaxPending) {  // the oldest gives no sample
    std::copy(pending_.begin() + 1, pending_.end(), pending_.begin());
    --pending_count_;
  }
  pending_[pending_count_++] = {end, sent, retransmitted};
}

// Karn: a segment sent again gives no RTT sample (which copy is acknowledged is unknown).
void TcpDirection::mark_retransmitted(std::uint64_t begin, std::uint64_t end) {
  for (int i = 0; i < pending_count_; ++i) {
    if (pending_[i].end > begin && pending_[i].end <= end + 1) pending_[i].retransmitted = true;
  }
}

}  // namespace mplane::capture
