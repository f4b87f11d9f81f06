// The flow table and TCP analysis on hand-made packets (no decoder involved): client/server
// roles, counters per direction, retransmissions, out-of-order and duplicate segments, RTT
// samples, end states, 4-tuple reuse, timeouts, eviction, VLAN separation, sequence wrap.
#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <vector>

#include "capture/flow/flow_table.h"

namespace mplane::capture {
namespace {

IpAddress ip4(const char* text) {
  IpAddress a;
  a.family = 4;
  REQUIRE(inet_pton(AF_INET, text, a.bytes.data()) == 1);
  return a;
}

constexpr Micros kT0 = 1'700'000'000'000'000;

// A TCP segment from (src, sport) to (dst, dport).
struct Seg {
  const char* src = "10.0.0.1";
  std::uint16_t sport = 40000;
  const char* dst = "10.0.0.2";
  std::uint16_t dport = 80;
  std::uint8_t flags = kAck;
  std::uint32_t seq = 0, ack = 0;
  std::uint32_t len = 0;
  std::uint16_t window = 1000;
  std::uint16_t ip_id = 0;
};

DecodedPacket tcp(const Seg& s) {
  DecodedPacket p;
  p.ip_version = 4;
  p.proto = 6;
  p.src = ip4(s.src);
  p.dst = ip4(s.dst);
  p.sport = s.sport;
  p.dport = s.dport;
  p.has_transport = true;
  p.tcp.flags = s.flags;
  p.tcp.seq = s.seq;
  p.tcp.ack = s.ack;
  p.tcp.window = s.window;
  p.tcp.header_len = 20;
  p.payload_len = s.len;
  p.ip_len = 40 + s.len;
  p.ip_id = s.ip_id;
  return p;
}

Seg reply(Seg s) {
  std::swap(s.src, s.dst);
  std::swap(s.sport, s.dport);
  return s;
}

struct Recorder {
  std::vector<FlowRecord> records;
  FlowTable table;
  explicit Recorder(FlowTableOptions o = {})
      : table(o, [this](const FlowRecord& r) { records.push_back(r); }) {}
  void add(const Seg& s, Micros t) { table.add(tcp(s), t); }
};

// SYN at `at`, SYN-ACK at +10 ms, ACK at +11 ms; client ISN 1000, server ISN 5000.
void handshake(Recorder& r, Seg c, Micros at = kT0) {
  c.flags = kSyn;
  c.seq = 1000;
  r.add(c, at);
  Seg s = reply(c);
  s.flags = kSyn | kAck;
  s.seq = 5000;
  s.ack = 1001;
  r.add(s, at + 10'000);
  c.flags = kAck;
  c.seq = 1001;
  c.ack = 5001;
  r.add(c, at + 11'000);
}

TEST_CASE("flow table: a complete TCP connection", "[capture][flow]") {
  Recorder r;
  Seg c;
  handshake(r, c);
  c.seq = 1001;
  c.ack = 5001;
  c.len = 100;
  r.add(c, kT0 + 12'000);  // request
  Seg s = reply(c);
  s.seq = 5001;
  s.ack = 1101;
  s.len = 1000;
  r.add(s, kT0 + 30'000);  // response, acks the request after 18 ms
  c.len = 0;
  c.seq = 1101;
  c.ack = 6001;
  c.flags = kAck | kFin;
  r.add(c, kT0 + 31'000);
  s.len = 0;
  s.seq = 6001;
  s.ack = 1102;
  s.flags = kAck | kFin;
  r.add(s, kT0 + 40'000);
  c.flags = kAck;
  c.seq = 1102;
  c.ack = 6002;
  r.add(c, kT0 + 41'000);
  r.table.flush();
  REQUIRE(r.records.size() == 1);
  const FlowRecord& f = r.records[0];
  CHECK(f.end == EndState::kComplete);
  CHECK(f.client_port == 40000);
  CHECK(f.server_port == 80);
  CHECK(f.c2s.packets == 5);
  CHECK(f.s2c.packets == 3);
  CHECK(f.c2s.bytes == 5 * 40 + 100);
  CHECK(f.s2c.bytes == 3 * 40 + 1000);
  CHECK(f.c2s.payload_bytes == 100);
  CHECK(f.c2s.unique_bytes == 100);
  CHECK(f.s2c.unique_bytes == 1000);
  CHECK(f.c2s.syn == 1);
  CHECK(f.s2c.syn == 1);
  CHECK(f.c2s.fin == 1);
  CHECK(f.s2c.fin == 1);
  CHECK(f.handshake_rtt == 11'000);
  CHECK(f.first == kT0);
  CHECK(f.last == kT0 + 41'000);
  CHECK(f.c2s.first_payload == kT0 + 12'000);
  CHECK(f.s2c.last_payload == kT0 + 30'000);
  // c2s samples: SYN -> SYN-ACK (10 ms), request -> response (18 ms), FIN -> FIN-ACK (9 ms).
  CHECK(f.c2s.rtt.count == 3);
  CHECK(f.c2s.rtt.min == 9'000);
  CHECK(f.c2s.rtt.max == 18'000);
  // s2c samples: SYN-ACK -> ACK (1 ms), response -> ACK (1 ms), FIN -> ACK (1 ms).
  CHECK(f.s2c.rtt.count == 3);
  CHECK(f.s2c.rtt.max == 1'000);
  CHECK(f.c2s.retrans_packets == 0);
  CHECK(r.table.size() == 0);
}

TEST_CASE("flow table: retransmission, out of order, network duplicate", "[capture][flow]") {
  Recorder r;
  Seg c;
  handshake(r, c);
  c.ack = 5001;
  c.len = 100;
  auto send = [&](std::uint32_t seq, std::uint16_t id, Micros t) {
    c.seq = seq;
    c.ip_id = id;
    r.add(c, t);
  };
  send(1001, 1, kT0 + 20'000);
  send(1201, 2, kT0 + 21'000);  // a gap: 1101..1201 missing
  send(1101, 3, kT0 + 22'000);  // fills it: out of order
  send(1101, 4, kT0 + 23'000);  // again, new IP id: a retransmission
  send(1101, 4, kT0 + 23'001);  // same IP id, same everything: a network duplicate
  r.table.flush();
  REQUIRE(r.records.size() == 1);
  const DirectionStats& d = r.records[0].c2s;
  CHECK(d.unique_bytes == 300);
  CHECK(d.payload_bytes == 500);
  CHECK(d.out_of_order == 1);
  CHECK(d.retrans_packets == 1);
  CHECK(d.retrans_bytes == 100);
  CHECK(d.duplicates == 1);
  CHECK(r.records[0].end == EndState::kOpen);
}

// Client data after the handshake (client ISN 1000: data from 1001), acknowledged by the
// server; `send` and `ack` record what the tests below need.
struct DataFlow {
  Recorder r;
  Seg c;
  std::uint16_t id = 100;
  DataFlow() {
    handshake(r, c);
    c.ack = 5001;
  }
  void send(std::uint32_t seq, std::uint32_t len, Micros t) {
    c.seq = seq;
    c.len = len;
    c.ip_id = ++id;  // a new IP id: a transmission, not a network copy
    r.add(c, t);
  }
  void ack(std::uint32_t ack, Micros t) {
    Seg s = reply(c);
    s.seq = 5001;
    s.ack = ack;
    s.len = 0;
    s.ip_id = ++id;
    r.add(s, t);
  }
  FlowRecord done() {
    r.table.flush();
    REQUIRE(r.records.size() == 1);
    return r.records[0];
  }
};

TEST_CASE("flow table: old data followed by new is not a retransmission", "[capture][flow]") {
  DataFlow f;
  f.send(1001, 100, kT0 + 20'000);  // 1001..1100
  f.send(1051, 100, kT0 + 21'000);  // 1051..1150: 50 bytes again, then 50 new ones
  f.send(1101, 50, kT0 + 22'000);   // 1101..1150: all seen: a retransmission
  const FlowRecord rec = f.done();
  CHECK(rec.c2s.unique_bytes == 150);
  CHECK(rec.c2s.payload_bytes == 250);
  CHECK(rec.c2s.retrans_packets == 1);  // the segment that brought 50 new bytes is not one
  CHECK(rec.c2s.retrans_bytes == 50);
  CHECK(rec.c2s.out_of_order == 0);
}

TEST_CASE("flow table: RTT samples follow the latest transmission an ACK covers (Karn)",
          "[capture][flow]") {
  SECTION("a retransmission of earlier data is the latest: no sample") {
    DataFlow f;
    f.send(1001, 100, kT0 + 20'000);   // A
    f.send(1101, 100, kT0 + 21'000);   // B
    f.send(1001, 100, kT0 + 900'000);  // A again (timeout)
    f.ack(1201, kT0 + 950'000);        // covers A and B: triggered by A's copy, not by B
    const FlowRecord rec = f.done();
    CHECK(rec.c2s.retrans_packets == 1);
    CHECK(rec.c2s.rtt.count == 1);  // the SYN only (10 ms), not B's 929 ms
    CHECK(rec.c2s.rtt.max == 10'000);
  }
  SECTION("data sent before a retransmission of lower data gives no sample") {
    DataFlow f;
    f.send(1001, 100, kT0 + 20'000);   // A
    f.send(1101, 100, kT0 + 21'000);   // B
    f.send(1001, 100, kT0 + 900'000);  // A again
    f.ack(1101, kT0 + 950'000);        // A: sent twice, no sample
    f.ack(1201, kT0 + 951'000);        // B: its ACK waited for A's copy, no sample
    f.send(1201, 100, kT0 + 960'000);  // C, after the retransmission
    f.ack(1301, kT0 + 990'000);        // 30 ms
    const FlowRecord rec = f.done();
    CHECK(rec.c2s.rtt.count == 2);  // the SYN and C
    CHECK(rec.c2s.rtt.max == 30'000);
  }
  SECTION("data filling a gap is the latest segment the ACK covers") {
    DataFlow f;
    f.send(1001, 100, kT0 + 20'000);   // A
    f.send(1201, 100, kT0 + 21'000);   // C: a gap before it
    f.send(1101, 100, kT0 + 500'000);  // B fills it (lost before the probe, or reordered)
    f.ack(1301, kT0 + 520'000);        // 20 ms after B, not 499 ms after C
    const FlowRecord rec = f.done();
    CHECK(rec.c2s.out_of_order == 1);
    CHECK(rec.c2s.rtt.count == 2);
    CHECK(rec.c2s.rtt.max == 20'000);
  }
  SECTION("an ACK covering data the probe never saw gives no sample") {
    DataFlow f;
    f.send(1001, 100, kT0 + 20'000);   // A
    f.send(1201, 100, kT0 + 21'000);   // C: B (1101..1200) is never captured
    f.ack(1301, kT0 + 600'000);        // when B was sent is unknown
    f.send(1301, 100, kT0 + 610'000);  // D
    f.ack(1401, kT0 + 630'000);        // 20 ms
    const FlowRecord rec = f.done();
    CHECK(rec.c2s.unique_bytes == 300);
    CHECK(rec.c2s.rtt.count == 2);
    CHECK(rec.c2s.rtt.max == 20'000);
  }
}

TEST_CASE("flow table: a SYN-ACK after a stale ACK sets the server's sequence numbers",
          "[capture][flow]") {
  Recorder r;
  Seg c;
  c.flags = kSyn;
  c.seq = 1000;
  r.add(c, kT0);
  Seg stale = reply(c);  // the server still has state for an old connection on this 4-tuple
  stale.flags = kAck;
  stale.seq = 123'456'789;
  stale.ack = 42;
  r.add(stale, kT0 + 5'000);
  Seg rst = c;
  rst.flags = kRst;
  rst.seq = 42;
  r.add(rst, kT0 + 5'100);
  handshake(r, c, kT0 + 3'000'000);  // the same SYN again, answered this time
  Seg data = reply(c);               // 100 bytes from the server, acknowledged 2 ms later
  data.flags = kAck;
  data.seq = 5001;
  data.ack = 1001;
  data.len = 100;
  r.add(data, kT0 + 3'020'000);
  c.flags = kAck;
  c.seq = 1001;
  c.ack = 5101;
  r.add(c, kT0 + 3'022'000);
  r.table.flush();
  REQUIRE(r.records.size() == 1);
  const FlowRecord& f = r.records[0];
  CHECK(f.s2c.unique_bytes == 100);
  CHECK(f.c2s.rtt.count == 0);  // the SYN was sent twice
  CHECK(f.s2c.rtt.count == 2);  // SYN-ACK -> ACK (1 ms), data -> ACK (2 ms)
  CHECK(f.s2c.rtt.min == 1'000);
  CHECK(f.s2c.rtt.max == 2'000);
}

TEST_CASE("flow table: the fifth gap forgets the lowest one", "[capture][flow]") {
  DataFlow f;
  // Gaps 1101..1200, 1301..1400, 1501..1600.
  for (std::uint32_t seq : {1001u, 1201u, 1401u, 1601u}) f.send(seq, 100, kT0 + 20'000);
  f.send(1141, 20, kT0 + 21'000);   // splits the first gap: 1101..1140 and 1161..1200
  f.send(1101, 40, kT0 + 22'000);   // fills 1101..1140: gaps 1161..1200, 1301..1400, 1501..1600
  f.send(1801, 100, kT0 + 23'000);  // gap 1701..1800 (4 gaps)
  f.send(2001, 100, kT0 + 24'000);  // gap 1901..2000: the lowest, 1161..1200, is forgotten
  f.send(1301, 100, kT0 + 25'000);  // still a known gap: out of order
  f.send(1161, 40, kT0 + 26'000);   // forgotten: counts as resent
  const FlowRecord rec = f.done();
  CHECK(rec.c2s.out_of_order == 3);
  CHECK(rec.c2s.retrans_packets == 1);
  CHECK(rec.c2s.retrans_bytes == 40);
}

// Found by packet_fuzz: splitting a middle gap while four are known dropped the lowest but left
// a stale copy in place of the highest, whose later fill then counted twice (more unique bytes
// than payload).
TEST_CASE("flow table: splitting a middle gap when four are known keeps the others",
          "[capture][flow]") {
  DataFlow f;
  // Gaps 1101..1200, 1301..1400, 1501..1600, 1701..1800.
  for (std::uint32_t seq : {1001u, 1201u, 1401u, 1601u, 1801u}) f.send(seq, 100, kT0 + 20'000);
  f.send(1341, 20, kT0 + 21'000);   // splits 1301..1400: the lowest gap, 1101..1200, goes
  f.send(1701, 100, kT0 + 22'000);  // the highest gap is still known: out of order
  f.send(1501, 100, kT0 + 23'000);  // and this one
  f.send(1301, 40, kT0 + 24'000);   // both halves of the split one
  f.send(1361, 40, kT0 + 25'000);
  f.send(1701, 100, kT0 + 26'000);  // filled already: resent
  const FlowRecord rec = f.done();
  CHECK(rec.c2s.out_of_order == 5);
  CHECK(rec.c2s.retrans_packets == 1);
  CHECK(rec.c2s.unique_bytes == 500 + 20 + 100 + 100 + 40 + 40);
  CHECK(rec.c2s.unique_bytes <= rec.c2s.payload_bytes);
}

TEST_CASE("flow table: roles without a SYN, and from a SYN-ACK", "[capture][flow]") {
  Recorder r;
  Seg first;  // a data packet from 10.0.0.1:40000 with no SYN seen
  first.len = 10;
  first.seq = 77;
  r.add(first, kT0);
  Seg synack;  // a SYN-ACK from 10.0.0.9:443: its receiver is the client
  synack.src = "10.0.0.9";
  synack.sport = 443;
  synack.dst = "10.0.0.3";
  synack.dport = 5555;
  synack.flags = kSyn | kAck;
  r.add(synack, kT0 + 1);
  r.table.flush();
  REQUIRE(r.records.size() == 2);
  CHECK(r.records[0].end == EndState::kNoSyn);
  CHECK(r.records[0].client_port == 40000);
  CHECK(r.records[0].c2s.packets == 1);
  CHECK(r.records[1].client_port == 5555);
  CHECK(r.records[1].server_port == 443);
  CHECK(r.records[1].s2c.syn == 1);
}

TEST_CASE("flow table: a SYN after a reset starts a new connection", "[capture][flow]") {
  Recorder r;
  Seg c;
  handshake(r, c);
  Seg rst = c;
  rst.flags = kRst;
  rst.seq = 1001;
  r.add(rst, kT0 + 20'000);
  Seg again = c;
  again.flags = kSyn;
  again.seq = 900'000;  // a new ISN
  r.add(again, kT0 + 30'000);
  r.table.flush();
  REQUIRE(r.records.size() == 2);
  CHECK(r.records[0].end == EndState::kReset);
  CHECK(r.records[0].c2s.packets == 3);
  CHECK(r.records[1].c2s.syn == 1);
  CHECK(r.records[1].first == kT0 + 30'000);
  CHECK(r.table.stats().tcp_reused == 1);
}

TEST_CASE("flow table: idle timeout and eviction of a full table", "[capture][flow]") {
  FlowTableOptions o;
  o.idle_timeout = 60'000'000;
  o.max_flows = 2;
  Recorder r(o);
  Seg a, b, c;
  b.sport = 40001;
  c.sport = 40002;
  r.add(a, kT0);
  r.add(b, kT0 + 1);
  r.add(c, kT0 + 2);  // full: a (least recently active) is evicted
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].client_port == 40000);
  CHECK(r.records[0].end == EndState::kNoSyn);  // no SYN says more than how it left
  CHECK(r.table.stats().flows_evicted == 1);
  r.table.expire(kT0 + 1 + o.idle_timeout);  // b idles out, c not yet
  REQUIRE(r.records.size() == 2);
  CHECK(r.records[1].client_port == 40001);
  CHECK(r.table.size() == 1);
}

TEST_CASE("flow table: evicted and timed-out states for flows that began with a SYN",
          "[capture][flow]") {
  FlowTableOptions o;
  o.max_flows = 1;
  Recorder r(o);
  Seg a;
  a.flags = kSyn;
  r.add(a, kT0);
  Seg b = a;
  b.sport = 40001;
  r.add(b, kT0 + 1);
  r.table.expire(kT0 + o.idle_timeout + 1);
  REQUIRE(r.records.size() == 2);
  CHECK(r.records[0].end == EndState::kEvicted);
  CHECK(r.records[1].end == EndState::kTimeout);
}

TEST_CASE("flow table: VLANs keep copies of a connection apart, hash is symmetric",
          "[capture][flow]") {
  Recorder r;
  Seg s;
  DecodedPacket untagged = tcp(s), tagged = tcp(s);
  tagged.vlan_count = 1;
  tagged.vlan[0] = 42;
  r.table.add(untagged, kT0);
  r.table.add(tagged, kT0 + 1);
  const DecodedPacket back = tcp(reply(s));
  CHECK(flow_hash(back) == flow_hash(untagged));
  CHECK(flow_hash(tagged) != flow_hash(untagged));
  r.table.add(back, kT0 + 2);
  r.table.flush();
  REQUIRE(r.records.size() == 2);
  CHECK(r.records[0].c2s.packets + r.records[0].s2c.packets + r.records[1].c2s.packets +
            r.records[1].s2c.packets ==
        3);
}

TEST_CASE("flow table: zero windows and sequence numbers that wrap", "[capture][flow]") {
  Recorder r;
  Seg c;
  c.flags = kSyn;
  c.seq = 0xffffff00u;
  r.add(c, kT0);
  c.flags = kAck;
  c.seq = 0xffffff01u;
  c.len = 0x200;  // crosses 2^32
  r.add(c, kT0 + 1);
  c.seq = 0x101u;
  c.len = 0x100;
  r.add(c, kT0 + 2);  // the next segment, after the wrap: new data
  c.seq = 0xffffff01u;
  c.len = 0x200;
  c.ip_id = 9;
  r.add(c, kT0 + 3);  // the first one again: a retransmission, not new data
  Seg s = reply(c);
  s.window = 0;
  s.len = 0;
  r.add(s, kT0 + 4);
  r.add(s, kT0 + 5);  // still zero: one event
  s.window = 100;
  r.add(s, kT0 + 6);
  s.window = 0;
  r.add(s, kT0 + 7);  // zero again: a second event
  r.table.flush();
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].c2s.unique_bytes == 0x300);
  CHECK(r.records[0].c2s.retrans_packets == 1);
  CHECK(r.records[0].s2c.zero_window == 2);
}

TEST_CASE("flow table: UDP flows get packets, bytes and times", "[capture][flow]") {
  Recorder r;
  DecodedPacket q = tcp(Seg{});
  q.proto = 17;
  q.ip_len = 60;
  q.payload_len = 32;
  r.table.add(q, kT0);
  Seg back;
  DecodedPacket a = tcp(reply(back));
  a.proto = 17;
  a.ip_len = 100;
  a.payload_len = 72;
  r.table.add(a, kT0 + 500);
  r.table.flush();
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].proto == 17);
  CHECK(r.records[0].c2s.bytes == 60);
  CHECK(r.records[0].s2c.bytes == 100);
  CHECK(r.records[0].s2c.payload_bytes == 72);
  CHECK(r.records[0].last == kT0 + 500);
  CHECK(r.records[0].end == EndState::kOpen);
}

}  // namespace
}  // namespace mplane::capture
