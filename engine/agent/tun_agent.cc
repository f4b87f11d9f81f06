#include "engine/agent/tun_agent.h"

#include "engine/agent/control_messages.h"
#include "engine/agent/netlink.h"
#include "engine/agent/routing_keys.h"
#include "parsers/base/log.h"

namespace mplane::agent {

namespace amqp = transport::amqp;

TunAgent::TunAgent(uv_loop_t* loop, const loop::WallClock& clock, TunAgentOptions options)
    : loop_(loop),
      clock_(clock),
      options_(std::move(options)),
      uplink_key_(uplink_packet_key(options_.name)) {}

TunAgent::~TunAgent() = default;

Status<> TunAgent::start() {
  auto fd = open_tun(options_.tun);
  if (!fd) return fail("cannot create the tun: " + fd.error());
  auto netlink = RtNetlink::open(options_.tun.netns);
  if (!netlink) return fail("cannot configure the tun: " + netlink.error().message);
  if (auto st = configure_tun(*netlink, fd->ifindex(), options_.addresses, options_.mtu); !st) {
    return fail("cannot configure " + fd->name() + ": " + st.error().message);
  }
  // Announced only once its addresses are usable (IPv6 DAD done): a packet routed into the tun
  // before that may be dropped by the kernel.
  if (auto st = netlink->wait_until_usable(fd->ifindex(), 2000); !st) {
    log::warn("mplane agent: " + fd->name() + ": " + st.error().message);
  }
  if (!options_.dump_path.empty()) {
    auto d = PcapDump::create(options_.dump_path);
    if (!d) return fail("--dump " + options_.dump_path + ": " + d.error());
    dump_.emplace(std::move(d.value()));
  }
  tun_ = std::make_unique<TunDevice>(loop_, clock_, std::move(fd.value()));
  if (auto st = tun_->start([this](const TunPacket& p) { on_tun_packet(p); }); !st) return st;
  amqp::AmqpOptions o;
  o.exchange = options_.exchange;
  o.bindings = {downlink_packet_key(options_.name)};
  amqp_ = std::make_unique<amqp::AmqpClient>(
      loop_, options_.url, o,
      amqp::AmqpCallbacks{[this](const amqp::AmqpDelivery& d) { on_delivery(d); },
                          [this](amqp::AmqpState s, std::string_view why) {
                            log::info("mplane agent: " + std::string(amqp::to_string(s)) +
                                      (why.empty() ? "" : ": " + std::string(why)));
                            if (s == amqp::AmqpState::kConnected) announce();
                          }});
  if (auto st = amqp_->connect(); !st) return st;  // the error names the broker
  return Ok{};
}

// The original's announcements, on every (re)connection: the router learns agents from the first.
void TunAgent::announce() {
  out_.clear();
  write_tun_started(out_, options_.name, options_.addresses);
  const auto bytes = [this] {
    return std::span(reinterpret_cast<const std::uint8_t*>(out_.view().data()), out_.size());
  };
  amqp_->publish(tun_started_key(options_.name), "application/json", bytes());
  out_.clear();
  write_component_ready(out_, options_.name);
  amqp_->publish(kComponentReadyKey, "application/json", bytes());
}

void TunAgent::on_tun_packet(const TunPacket& packet) {
  dump(packet.data, packet.time);
  out_.clear();
  write_packet_body(
      out_, options_.format,
      {packet.data, tun_->name(),
       std::chrono::duration_cast<std::chrono::seconds>(packet.time.time_since_epoch()).count()});
  const auto outcome = amqp_->publish(
      uplink_key_, content_type(options_.format),
      std::span(reinterpret_cast<const std::uint8_t*>(out_.view().data()), out_.size()));
  if (outcome == amqp::PublishOutcome::kDropped) {
    ++counters_.dropped_out;
    return;
  }
  ++counters_.packets_out;
  counters_.bytes_out += packet.data.size();
}

void TunAgent::on_delivery(const amqp::AmqpDelivery& d) {
  const PacketFormat format = d.content_type == content_type(PacketFormat::kJson)
                                  ? PacketFormat::kJson
                                  : PacketFormat::kRaw;
  auto fields = reader_.parse(
      format, std::string_view(reinterpret_cast<const char*>(d.body.data()), d.body.size()));
  if (!fields) {
    ++counters_.bad_bodies;
    ++counters_.dropped_in;
    log::debug("mplane agent: a message on " + std::string(d.routing_key) +
               " is not a packet: " + fields.error());
    return;
  }
  dump(fields->data, clock_.wall_now());
  const TunWrite w = tun_->write(fields->data);
  if (w != TunWrite::kWritten && w != TunWrite::kQueued) {
    ++counters_.dropped_in;
    return;
  }
  ++counters_.packets_in;
  counters_.bytes_in += fields->data.size();
}

void TunAgent::dump(std::span<const std::uint8_t> packet, loop::WallTime time) {
  if (!dump_) return;
  if (auto st = dump_->write(packet, time); !st) {
    log::error("mplane agent: --dump " + options_.dump_path + ": " + st.error() + ": stopped");
    dump_.reset();
  }
}

void TunAgent::stop(std::function<void()> on_stopped) {
  if (amqp_) amqp_->close();
  if (dump_) {
    if (auto st = dump_->close(); !st) log::error("mplane agent: --dump: " + st.error());
    dump_.reset();
  }
  if (!tun_) return on_stopped();
  tun_->close(std::move(on_stopped));
}

std::string TunAgent::describe() const {
  const auto& c = counters_;
  std::string s = "packets out " + std::to_string(c.packets_out) + " (" +
                  std::to_string(c.bytes_out) + " bytes), in " + std::to_string(c.packets_in) +
                  " (" + std::to_string(c.bytes_in) + " bytes), dropped out " +
                  std::to_string(c.dropped_out) + ", dropped in " + std::to_string(c.dropped_in) +
                  " (bad bodies " + std::to_string(c.bad_bodies) + ")";
  if (amqp_) s += ", reconnects " + std::to_string(amqp_->counters().reconnects);
  return s;
}

}  // namespace mplane::agent
