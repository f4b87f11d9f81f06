#include "capture/flow/flow_table.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <optional>

namespace mplane::capture {

void RttStats::add(Micros sample) {
  if (sample < 0) return;  // timestamps out of order: no sample
  min = count ? std::min(min, sample) : sample;
  max = count ? std::max(max, sample) : sample;
  ++count;
  const auto s = static_cast<double>(sample);
  sum += s;
  sum_squares += s * s;
}

double RttStats::stddev_ms() const {
  if (count < 2) return 0;
  const double n = static_cast<double>(count), mean = sum / n;
  return std::sqrt(std::max(0.0, sum_squares / n - mean * mean)) / 1000.0;
}

std::string_view end_state_name(EndState s) {
  switch (s) {
    case EndState::kComplete:
      return "complete";
    case EndState::kReset:
      return "reset";
    case EndState::kTimeout:
      return "timeout";
    case EndState::kEvicted:
      return "evicted";
    case EndState::kOpen:
      return "open";
    case EndState::kNoSyn:
      return "no_syn";
  }
  return "?";
}

namespace {

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

std::uint64_t endpoint_hash(const IpAddress& a, std::uint16_t port) {
  std::uint64_t lo, hi;
  std::memcpy(&lo, a.bytes.data(), 8);
  std::memcpy(&hi, a.bytes.data() + 8, 8);
  std::uint64_t h = lo * 0xff51afd7ed558ccdULL ^ hi * 0xc4ceb9fe1a85ec53ULL ^ port;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

bool endpoint_less(const IpAddress& a, std::uint16_t pa, const IpAddress& b, std::uint16_t pb) {
  const int c = std::memcmp(a.bytes.data(), b.bytes.data(), 16);
  return c < 0 || (c == 0 && pa < pb);
}

}  // namespace

// Symmetric: the two endpoints' hashes are combined with + (order-free), then mixed with the
// protocol and the VLAN tags.
std::uint64_t flow_hash(const DecodedPacket& p) {
  return flow_hash(p.src, p.sport, p.dst, p.dport, p.proto, p.vlan, p.vlan_count);
}

std::uint64_t flow_hash(const IpAddress& a, std::uint16_t port_a, const IpAddress& b,
                        std::uint16_t port_b, std::uint8_t proto, const std::uint16_t vlan[2],
                        std::uint8_t vlan_count) {
  std::uint64_t h = endpoint_hash(a, port_a) + endpoint_hash(b, port_b);
  h = mix(h, proto);
  h = mix(h, (std::uint64_t{vlan[0]} << 16) | vlan[1] | (std::uint64_t{vlan_count} << 32));
  return h;
}

FlowTable::FlowTable(FlowTableOptions options, Sink sink)
    : options_(options), sink_(std::move(sink)) {
  options_.max_flows = std::max<std::size_t>(options_.max_flows, 1);
  flows_.reserve(options_.max_flows);  // address space only: pages are touched as flows come
  slots_.assign(std::bit_ceil(options_.max_flows * 2), kNone);
  slot_mask_ = slots_.size() - 1;
}

FlowTable::Key FlowTable::key_of(const DecodedPacket& p, bool& sender_is_a) {
  Key k;
  sender_is_a = !endpoint_less(p.dst, p.dport, p.src, p.sport);
  k.a = sender_is_a ? p.src : p.dst;
  k.b = sender_is_a ? p.dst : p.src;
  k.port_a = sender_is_a ? p.sport : p.dport;
  k.port_b = sender_is_a ? p.dport : p.sport;
  k.proto = p.proto;
  k.vlan_count = p.vlan_count;
  k.vlan[0] = p.vlan[0];
  k.vlan[1] = p.vlan[1];
  return k;
}

std::uint32_t FlowTable::find(const Key& k, std::uint64_t hash) const {
  for (std::uint64_t s = hash & slot_mask_;; s = (s + 1) & slot_mask_) {
    const std::uint32_t i = slots_[s];
    if (i == kNone) return kNone;
    if (flows_[i].hash == hash && flows_[i].key == k) return i;
  }
}

void FlowTable::insert_slot(std::uint32_t index, std::uint64_t hash) {
  std::uint64_t s = hash & slot_mask_;
  while (slots_[s] != kNone) s = (s + 1) & slot_mask_;
  slots_[s] = index;
}

// Linear probing without tombstones: entries after the hole move back when their home slot
// allows it (backward-shift deletion).
void FlowTable::erase_slot(std::uint32_t index, std::uint64_t hash) {
  std::uint64_t s = hash & slot_mask_;
  while (slots_[s] != index) s = (s + 1) & slot_mask_;
  for (std::uint64_t next = (s + 1) & slot_mask_; slots_[next] != kNone;
       next = (next + 1) & slot_mask_) {
    const std::uint64_t home = flows_[slots_[next]].hash & slot_mask_;
    const bool movable = (next > s) ? (home <= s || home > next) : (home <= s && home > next);
    if (movable) {
      slots_[s] = slots_[next];
      s = next;
    }
  }
  slots_[s] = kNone;
}

void FlowTable::unlink(std::uint32_t i) {
  Flow& f = flows_[i];
  List& l = f.closed ? closed_ : open_;
  (f.prev == kNone ? l.head : flows_[f.prev].next) = f.next;
  (f.next == kNone ? l.tail : flows_[f.next].prev) = f.prev;
  f.prev = f.next = kNone;
}

void FlowTable::push_back(std::uint32_t i) {
  Flow& f = flows_[i];
  List& l = f.closed ? closed_ : open_;
  f.prev = l.tail;
  f.next = kNone;
  (l.tail == kNone ? l.head : flows_[l.tail].next) = i;
  l.tail = i;
}

std::uint32_t FlowTable::create(const Key& k, std::uint64_t hash, const DecodedPacket& p,
                                bool sender_is_a, Micros now) {
  if (live_ >= options_.max_flows) {  // full: a closed flow goes first, else the least recent
    const bool closed = closed_.head != kNone;
    if (!closed) ++stats_.flows_evicted;
    report(closed ? closed_.head : open_.head, closed ? EndState::kComplete : EndState::kEvicted);
  }
  std::uint32_t i;
  if (!free_.empty()) {
    i = free_.back();
    free_.pop_back();
    flows_[i] = Flow{};
  } else {
    i = static_cast<std::uint32_t>(flows_.size());
    flows_.emplace_back();
  }
  Flow& f = flows_[i];
  f.key = k;
  f.hash = hash;
  // The client: the sender of a SYN, the receiver of a SYN-ACK, else the first sender.
  const bool syn = p.proto == 6 && (p.tcp.flags & kSyn);
  const bool synack = syn && (p.tcp.flags & kAck);
  const bool sender_is_client = !synack;
  f.client_is_a = sender_is_client ? sender_is_a : !sender_is_a;
  FlowRecord& r = f.record;
  r.proto = p.proto;
  r.client_ip = sender_is_client ? p.src : p.dst;
  r.server_ip = sender_is_client ? p.dst : p.src;
  r.client_port = sender_is_client ? p.sport : p.dport;
  r.server_port = sender_is_client ? p.dport : p.sport;
  r.vlan_count = p.vlan_count;
  r.vlan[0] = p.vlan[0];
  r.vlan[1] = p.vlan[1];
  r.first = now;
  insert_slot(i, hash);
  push_back(i);
  ++live_;
  ++stats_.flows_created;
  return i;
}

// Reports the flow and frees its slot. `reason` is how it ended unless its packets say more.
void FlowTable::report(std::uint32_t i, EndState reason) {
  Flow& f = flows_[i];
  FlowRecord& r = f.record;
  r.end = reason;
  if (r.proto == 6) {
    if (!f.syn_seen && !f.continued) {
      r.end = EndState::kNoSyn;
    } else if (r.c2s.rst || r.s2c.rst) {
      r.end = EndState::kReset;
    } else if (r.c2s.fin && r.s2c.fin) {
      r.end = EndState::kComplete;
    }
  }
  unlink(i);
  erase_slot(i, f.hash);
  --live_;
  ++stats_.flows_reported;
  free_.push_back(i);
  sink_(r);
}

void FlowTable::count(DirectionStats& d, const DecodedPacket& p, Micros now) {
  ++d.packets;
  d.bytes += p.ip_len;
  d.payload_bytes += p.payload_len;
  if (!d.first) d.first = now;
  d.last = now;
  if (p.payload_len > 0) {
    if (!d.first_payload) d.first_payload = now;
    d.last_payload = now;
  }
}

// A SYN (not a SYN-ACK) on a closed connection whose client's ISN it does not repeat.
bool FlowTable::starts_new_connection(const Flow& f, const DecodedPacket& p) const {
  if (!f.closed || p.proto != 6 || (p.tcp.flags & (kSyn | kAck)) != kSyn) return false;
  return !f.c2s.initialised() || p.tcp.seq != f.c2s.isn();
}

void FlowTable::update_tcp(Flow& f, const DecodedPacket& p, bool from_client, Micros now) {
  FlowRecord& r = f.record;
  DirectionStats& d = from_client ? r.c2s : r.s2c;
  TcpDirection& mine = from_client ? f.c2s : f.s2c;
  TcpDirection& theirs = from_client ? f.s2c : f.c2s;
  const std::uint8_t flags = p.tcp.flags;
  if (flags & kSyn) {
    ++d.syn;
    if (!(flags & kAck) && from_client && f.syn_time < 0) {
      f.syn_time = now;
      f.syn_seen = true;
    }
    if ((flags & kAck) && !from_client) {
      f.syn_seen = true;
      if (f.synack_time < 0) f.synack_time = now;
    }
  }
  if (flags & kFin) ++d.fin;
  if (flags & kRst) ++d.rst;
  mine.on_segment(p, now, d);
  if (flags & kAck) {
    theirs.on_ack(p.tcp.ack, now, from_client ? r.s2c : r.c2s);
    if (from_client && !(flags & kSyn) && f.synack_time >= 0 && r.handshake_rtt < 0 &&
        f.syn_time >= 0) {
      r.handshake_rtt = now - f.syn_time;
    }
  }
  const bool closed = (r.c2s.fin && r.s2c.fin) || r.c2s.rst || r.s2c.rst;
  if (closed && !f.closed) {
    f.closed = true;  // unlink/push_back by the caller moves it to the closed list
  }
}

void FlowTable::add(const DecodedPacket& p, Micros now, std::uint64_t hash) {
  if (!p.has_transport || (p.proto != 6 && p.proto != 17)) return;
  bool sender_is_a = true;
  const Key k = key_of(p, sender_is_a);
  std::uint32_t i = find(k, hash);
  std::optional<bool> continued_client_is_a;  // an active timeout: the next record goes on
  if (i != kNone && idle_past(flows_[i], now)) {
    // Ended already, whether or not expire() ran since: results do not depend on when the
    // caller expires (shards that see different packets expire at different moments).
    report(i, EndState::kTimeout);
    i = kNone;
  }
  if (i != kNone) {
    Flow& f = flows_[i];
    const bool too_old =
        options_.active_timeout > 0 && now - f.record.first >= options_.active_timeout;
    if (starts_new_connection(f, p)) {
      ++stats_.tcp_reused;
      report(i, EndState::kComplete);
      i = kNone;
    } else if (too_old) {
      continued_client_is_a = f.client_is_a;
      report(i, EndState::kTimeout);
      i = kNone;
    }
  }
  if (i == kNone) {
    i = create(k, hash, p, sender_is_a, now);
    if (continued_client_is_a) continue_roles(flows_[i], *continued_client_is_a);
  }
  Flow& f = flows_[i];
  const bool from_client = sender_is_a == f.client_is_a;
  unlink(i);
  count(from_client ? f.record.c2s : f.record.s2c, p, now);
  f.record.last = std::max(f.record.last, now);
  if (p.proto == 6) update_tcp(f, p, from_client, now);
  push_back(i);  // the most recently active end of its list (open or closed)
}

// The record after an active timeout keeps the connection's roles (its first packet may come
// from the server) and is not a connection whose SYN was missed.
void FlowTable::continue_roles(Flow& f, bool client_is_a) {
  f.continued = true;
  if (f.client_is_a == client_is_a) return;
  f.client_is_a = client_is_a;
  std::swap(f.record.client_ip, f.record.server_ip);
  std::swap(f.record.client_port, f.record.server_port);
}

bool FlowTable::idle_past(const Flow& f, Micros now) const {
  return f.record.last + (f.closed ? options_.closed_timeout : options_.idle_timeout) <= now;
}

void FlowTable::expire(Micros now) {
  for (List* l : {&closed_, &open_}) {
    while (l->head != kNone && idle_past(flows_[l->head], now)) {
      report(l->head, EndState::kTimeout);
    }
  }
}

void FlowTable::flush() {
  while (closed_.head != kNone) report(closed_.head, EndState::kOpen);
  while (open_.head != kNone) report(open_.head, EndState::kOpen);
}

}  // namespace mplane::capture
