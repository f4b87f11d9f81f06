// What the flow analyser reports per connection (issue 5, "TCP analysis"): the tstat
// `log_tcp_complete` class of counters, per direction, plus the connection's identity and end.
// Every counter is documented with how it is computed in capture/README.md.
#pragma once

#include <cstdint>
#include <string_view>

#include "capture/packet/decoder.h"

namespace mplane::capture {

using Micros = std::int64_t;  // microseconds since the epoch (packet timestamps)

// RTT samples of one direction: data sent that way, acknowledged by the other (Karn: segments
// that were retransmitted give no sample).
struct RttStats {
  std::uint64_t count = 0;
  Micros min = 0, max = 0;
  double sum = 0, sum_squares = 0;  // microseconds, for the mean and standard deviation

  void add(Micros sample);
  double mean_ms() const { return count ? sum / static_cast<double>(count) / 1000.0 : 0; }
  double stddev_ms() const;
};

struct DirectionStats {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;          // IP packet lengths
  std::uint64_t payload_bytes = 0;  // transport payload, by the IP length
  std::uint64_t unique_bytes = 0;   // TCP: distinct sequence space carried (each byte once)
  std::uint64_t retrans_packets = 0, retrans_bytes = 0;  // TCP: data already seen
  std::uint64_t out_of_order = 0;  // TCP: data below the highest sequence, never seen before
  std::uint64_t duplicates = 0;    // TCP: the previous segment again (same seq, ack, length, IP id)
  std::uint32_t syn = 0, fin = 0, rst = 0;
  std::uint32_t zero_window = 0;  // TCP: times the advertised window became 0
  std::uint16_t mss = 0;          // TCP: MSS option of this side's SYN (0: none)
  std::int8_t wscale = -1;        // TCP: window scale option of this side's SYN (-1: none)
  Micros first = 0, last = 0;     // packets
  Micros first_payload = 0, last_payload = 0;  // packets with payload (0: none)
  RttStats rtt;
};

enum class EndState : std::uint8_t {
  kComplete,  // FIN both ways (and no RST)
  kReset,     // a RST was seen
  kTimeout,   // idle (or active) timeout: no packet for the idle timeout
  kEvicted,   // pushed out of a full flow table
  kOpen,      // still open when the capture ended (or was interrupted)
  kNoSyn,     // TCP: the connection's first packet was not a SYN (its start was not seen)
};
std::string_view end_state_name(EndState s);

struct FlowRecord {
  std::uint8_t proto = 0;  // 6 TCP, 17 UDP
  IpAddress client_ip, server_ip;
  std::uint16_t client_port = 0, server_port = 0;
  std::uint16_t vlan[2] = {0, 0};
  std::uint8_t vlan_count = 0;
  Micros first = 0, last = 0;
  DirectionStats c2s, s2c;
  Micros handshake_rtt = -1;  // TCP: client SYN -> client ACK of the SYN-ACK (-1: not seen)
  EndState end = EndState::kOpen;
};

}  // namespace mplane::capture
