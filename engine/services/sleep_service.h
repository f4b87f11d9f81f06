// `sleep`: runs for the duration of its specification's scope (`now + 30s` sleeps 30 s;
// `now ... future` until interrupted) and returns one row, duration.ms = the time it ran.
// For receipt, redemption and interrupt tests. Uses scheduler timers only (no sockets).
#pragma once

#include "engine/services/capability_service.h"

namespace mplane::services {

class SleepService final : public CapabilityService {
 public:
  // `max_duration`: longer scopes are cut to it (0: no limit).
  static Result<sched::ServicePtr> create(const model::RegistrySet& registries,
                                          model::Micros max_duration);
  void start(sched::JobContext& ctx) override;
  void interrupt(sched::JobContext& ctx) override;

 private:
  SleepService(std::unique_ptr<json::OwnedMessage> cap, model::Micros max_duration)
      : CapabilityService(std::move(cap), "sleep"), max_duration_(max_duration) {}
  static void complete(sched::JobContext& ctx);

  model::Micros max_duration_;
};

}  // namespace mplane::services
