// TunAgent: one end of the IP-over-AMQP tunnel (issue 13, ../shared/agent/WIRE.md), wire-compatible
// with ioppytest-agent. Creates and configures the tun (optionally in a network namespace; the
// AMQP connection stays in the caller's), publishes every packet the kernel routes into it with
// the key fromAgent.NAME.ip.tun.packet.raw, and writes into it every packet received on
// toAgent.NAME.ip.tun.packet.raw. Bodies are the original's JSON (content type
// application/json) or, with PacketFormat::kRaw, the packet bytes; what arrives is read by its
// content type, so a raw agent still understands JSON. On each (re)connection it announces
// itself (tun started, component ready). Optionally every packet, both ways, goes to a pcap file.
//
// Loop-thread only. stop() then run the loop until on_stopped before destroying it.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/agent/packet_message.h"
#include "engine/agent/pcap_dump.h"
#include "engine/agent/tun_addresses.h"
#include "engine/agent/tun_device.h"
#include "engine/loop/clock.h"
#include "transport/amqp/amqp_client.h"

namespace mplane::agent {

struct TunAgentOptions {
  std::string name;  // validated (routing_keys.h)
  transport::amqp::AmqpUrl url;
  std::string exchange = "amq.topic";
  TunAddresses addresses;
  std::optional<std::uint32_t> mtu;
  TunOptions tun;  // device name and namespace
  PacketFormat format = PacketFormat::kJson;
  std::string dump_path;  // empty: no pcap dump
};

struct TunAgentCounters {
  std::uint64_t packets_out = 0;  // tun -> bus (published or queued)
  std::uint64_t bytes_out = 0;
  std::uint64_t packets_in = 0;  // bus -> tun (written or queued)
  std::uint64_t bytes_in = 0;
  std::uint64_t dropped_out = 0;  // not published: disconnected or the output queue full
  std::uint64_t dropped_in = 0;   // not written: the tun's queue full, refused, or a bad body
  std::uint64_t bad_bodies = 0;   // received bodies that did not parse (counted in dropped_in)
};

class TunAgent {
 public:
  TunAgent(uv_loop_t* loop, const loop::WallClock& clock, TunAgentOptions options);
  ~TunAgent();
  TunAgent(const TunAgent&) = delete;
  TunAgent& operator=(const TunAgent&) = delete;

  // Creates and configures the tun, opens the dump, connects to the broker (blocking, bounded by
  // the AMQP client's handshake deadline). Errors name the step that failed.
  [[nodiscard]] Status<> start();
  // Closes the connection and the tun (the device disappears), flushes the dump; `on_stopped`
  // runs once the tun's handle is closed.
  void stop(std::function<void()> on_stopped);

  const TunAgentCounters& counters() const noexcept { return counters_; }
  const TunDevice* tun() const noexcept { return tun_.get(); }
  const transport::amqp::AmqpClient* amqp() const noexcept { return amqp_.get(); }
  // One line of counters: "packets out N (B bytes), in N (B bytes), dropped out N, in N, ...".
  std::string describe() const;

 private:
  void on_tun_packet(const TunPacket& packet);
  void on_delivery(const transport::amqp::AmqpDelivery& d);
  void announce();
  void dump(std::span<const std::uint8_t> packet, loop::WallTime time);

  uv_loop_t* loop_;
  const loop::WallClock& clock_;
  TunAgentOptions options_;
  std::string uplink_key_;
  std::unique_ptr<TunDevice> tun_;
  std::unique_ptr<transport::amqp::AmqpClient> amqp_;
  std::optional<PcapDump> dump_;
  PacketMessageReader reader_;
  json::OutBuffer out_{2048};
  TunAgentCounters counters_;
};

}  // namespace mplane::agent
