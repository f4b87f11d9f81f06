#include "engine/agent/packet_router.h"

#include "engine/agent/routing_keys.h"
#include "parsers/base/log.h"

namespace mplane::agent {

namespace amqp = transport::amqp;

PacketRouter::PacketRouter(uv_loop_t* loop, PacketRouterOptions options)
    : loop_(loop), options_(std::move(options)) {
  for (const std::string& name : options_.agents) learn(name);
  if (!options_.sniffer.empty()) sniffer_key_ = downlink_packet_key(options_.sniffer);
}

bool PacketRouter::learn(std::string_view name) {
  if (agents_.contains(name)) return false;
  agents_.emplace(std::string(name), downlink_packet_key(name));
  return true;
}

Status<> PacketRouter::start() {
  amqp::AmqpOptions o;
  o.exchange = options_.exchange;
  o.bindings = {std::string(kAllUplinkPacketsPattern), std::string(kAllTunStartedPattern)};
  amqp_ = std::make_unique<amqp::AmqpClient>(
      loop_, options_.url, o,
      amqp::AmqpCallbacks{[this](const amqp::AmqpDelivery& d) { on_delivery(d); },
                          [](amqp::AmqpState s, std::string_view why) {
                            log::info("mplane router: " + std::string(amqp::to_string(s)) +
                                      (why.empty() ? "" : ": " + std::string(why)));
                          }});
  if (auto st = amqp_->connect(); !st) return st;  // the error names the broker
  return Ok{};
}

void PacketRouter::on_delivery(const amqp::AmqpDelivery& d) {
  if (auto started = agent_of_tun_started_key(d.routing_key)) {
    if (learn(*started)) {
      ++counters_.learned;
      log::info("mplane router: agent " + std::string(*started) + " joined");
    }
    return;
  }
  auto from = agent_of_uplink_packet_key(d.routing_key);
  if (!from) return;
  ++counters_.packets;
  for (const auto& [name, key] : agents_) {
    if (name != *from) forward(key, d);
  }
  if (!sniffer_key_.empty() && options_.sniffer != *from) forward(sniffer_key_, d);
}

void PacketRouter::forward(const std::string& key, const amqp::AmqpDelivery& d) {
  if (amqp_->publish(key, d.content_type, d.body) == amqp::PublishOutcome::kDropped) {
    ++counters_.dropped;
    return;
  }
  ++counters_.forwarded;
}

void PacketRouter::stop() {
  if (amqp_) amqp_->close();
}

std::string PacketRouter::describe() const {
  const auto& c = counters_;
  return "packets " + std::to_string(c.packets) + ", forwarded " + std::to_string(c.forwarded) +
         ", dropped " + std::to_string(c.dropped) + ", agents " + std::to_string(agents_.size()) +
         " (learned " + std::to_string(c.learned) + ")";
}

}  // namespace mplane::agent
