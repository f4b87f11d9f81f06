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

// Probes per second that the running ping measurements of one shard have reserved, against
// the shard's share of [service_ping] max-rate. One per shard, shared by its ping services
// and used on that shard only (no lock): the process's max-rate is split evenly between the
// shards (make_services), so that no probe ever waits for another thread. The cost of the split:
// a measurement is refused when its shard's share is used up even if another shard's is not,
// and one measurement may use at most max-rate / shards probes per second.
class ProbeBudget {
 public:
  explicit ProbeBudget(double limit) : limit_(limit) {}
  // False (nothing reserved) if `rate` more would exceed the limit; `in_use` says how much is.
  bool reserve(double rate, double& in_use);
  void release(double rate);
  double limit() const { return limit_; }

 private:
  double limit_;
  double used_ = 0;
};

class PingService final : public CapabilityService {
 public:
  enum class Form : std::uint8_t { kAverage, kDetail };
  // `source`: configured source address (its family picks IPv4 or IPv6); it becomes the
  // capability's single-value source constraint, as the RI's ip4addr does. Without it the
  // source parameter is unconstrained and, when given, used to bind.
  // `budget`: the probes per second that the ping measurements of this shard together may
  // send (null: a budget of 100 of its own); a measurement that would exceed it is refused at
  // start ("Overloaded: …"), never slowed down or thinned (that would falsify its result).
  static Result<sched::ServicePtr> create(const model::RegistrySet& registries, Form form,
                                          int family, std::optional<model::Address> source,
                                          MonoClock& clock,
                                          std::shared_ptr<ProbeBudget> budget = nullptr);
  ~PingService() override;

  void start(sched::JobContext& ctx) override;
  void interrupt(sched::JobContext& ctx) override;

 private:
  struct Run;
  PingService(std::unique_ptr<json::OwnedMessage> cap, std::string name, Form form, int family,
              MonoClock& clock, std::shared_ptr<ProbeBudget> budget);
  void probe(sched::JobContext& ctx, Run& run);
  void complete(sched::JobContext& ctx);

  Form form_;
  int family_;
  MonoClock& clock_;
  std::shared_ptr<ProbeBudget> budget_;
  std::unordered_map<sched::JobContext*, std::unique_ptr<Run>> runs_;
};

}  // namespace mplane::services
