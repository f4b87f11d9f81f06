// PacketRouter: the packet router of ioppytest (../shared/agent/WIRE.md §1.7), natively. Every
// packet an agent publishes (fromAgent.X.ip.tun.packet.raw) is forwarded, body and content type
// unchanged, to every other agent of the link (toAgent.Y.ip.tun.packet.raw), plus a copy to the
// sniffer when one is named. The agents are given, or learned from their tun-started messages
// (fromAgent.X.ip.tun.started). Works with the original's agents and ours alike.
//
// Loop-thread only. stop() before destroying it, and run the loop once more.
#pragma once

#include <uv.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "transport/amqp/amqp_client.h"

namespace mplane::agent {

struct PacketRouterOptions {
  transport::amqp::AmqpUrl url;
  std::string exchange = "amq.topic";
  std::vector<std::string> agents;  // validated names; more are learned
  std::string sniffer;              // a name that gets a copy of every packet; empty: none
};

struct PacketRouterCounters {
  std::uint64_t packets = 0;    // received from agents
  std::uint64_t forwarded = 0;  // copies published (or queued)
  std::uint64_t dropped = 0;    // copies not published (disconnected, output queue full)
  std::uint64_t learned = 0;    // agents learned from tun-started messages
};

class PacketRouter {
 public:
  PacketRouter(uv_loop_t* loop, PacketRouterOptions options);
  [[nodiscard]] Status<> start();  // connects (blocking, bounded by the handshake deadline)
  void stop();
  const PacketRouterCounters& counters() const noexcept { return counters_; }
  std::string describe() const;

 private:
  void on_delivery(const transport::amqp::AmqpDelivery& d);
  bool learn(std::string_view name);  // false: already known
  void forward(const std::string& key, const transport::amqp::AmqpDelivery& d);

  uv_loop_t* loop_;
  PacketRouterOptions options_;
  // Each agent of the link and its downlink key, built once (not per forwarded copy).
  std::map<std::string, std::string, std::less<>> agents_;
  std::string sniffer_key_;  // empty: no sniffer
  std::unique_ptr<transport::amqp::AmqpClient> amqp_;
  PacketRouterCounters counters_;
};

}  // namespace mplane::agent
