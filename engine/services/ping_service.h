// `ping`: ICMP echo to an IPv4 or IPv6 destination, one probe per period of the scope, with the
// RI's capabilities (PROTOCOL.md, RI ping component):
//   ping-detail-ipN:  one row per reply: time, delay.twoway.icmp.us
//   ping-average-ipN: one row at the end: delay.twoway.icmp.us.min/mean/max,
//                     delay.twoway.icmp.count (replies), packets.lost (probes without reply)
// Probes go through IcmpPinger (unprivileged ICMP datagram sockets where the system allows
// them, raw sockets otherwise). Runs on the shard's loop; needs JobContext::loop().
#pragma once

#include <memory>
#include <optional>
#include <unordered_map>

#include "engine/services/capability_service.h"
#include "engine/services/icmp_pinger.h"

namespace mplane::services {

class PingService final : public CapabilityService {
 public:
  enum class Form : std::uint8_t { kAverage, kDetail };
  // `source`: configured source address (its family picks IPv4 or IPv6); it becomes the
  // capability's single-value source constraint, as the RI's ip4addr does. Without it the
  // source parameter is unconstrained and, when given, used to bind.
  // `max_rate`: probes per second that all ping measurements of the process together may
  // send ([service_ping] max-rate); a measurement that would exceed it is refused at start
  // ("Overloaded: …"), never slowed down or thinned (that would falsify its result).
  static Result<sched::ServicePtr> create(const model::RegistrySet& registries, Form form,
                                          int family, std::optional<model::Address> source,
                                          MonoClock& clock, double max_rate = 100);
  ~PingService() override;

  void start(sched::JobContext& ctx) override;
  void interrupt(sched::JobContext& ctx) override;

 private:
  struct Run;
  PingService(std::unique_ptr<json::OwnedMessage> cap, std::string name, Form form, int family,
              MonoClock& clock);
  void probe(sched::JobContext& ctx, Run& run);
  void complete(sched::JobContext& ctx);

  Form form_;
  int family_;
  MonoClock& clock_;
  std::unordered_map<sched::JobContext*, std::unique_ptr<Run>> runs_;
};

}  // namespace mplane::services
