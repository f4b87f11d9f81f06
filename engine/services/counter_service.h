// `counter`: produces test.count rows (test.sequence from 0, test.output = the test.input
// parameter) as fast as the client takes them (registry: conf/registry/engine.json). For load
// and streaming tests of large results: rows come in batches between which the loop serves
// I/O, and the service waits while a streamed result's client is behind (JobContext::paused).
// Not enabled by default (`--service counter`). A singleton scope (`now`, the client's default)
// runs until every row is out (ends_by_itself); a client interrupt, or a scope with an end,
// stops it there.
#pragma once

#include "engine/services/capability_service.h"

namespace mplane::services {

class CounterService final : public CapabilityService {
 public:
  static Result<sched::ServicePtr> create(const model::RegistrySet& registries);
  void start(sched::JobContext& ctx) override;
  void resume(sched::JobContext& ctx) override { produce(ctx); }
  bool ends_by_itself() const override { return true; }

  static constexpr std::size_t kRowsPerBatch = 4096;  // work budget per loop turn (STYLE C9)

 private:
  using CapabilityService::CapabilityService;
  static void produce(sched::JobContext& ctx);
};

}  // namespace mplane::services
