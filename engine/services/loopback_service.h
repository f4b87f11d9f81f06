// `loopback`: echoes the string parameter test.input as the result column test.output, at
// once (registry: conf/registry/loopback.json). What interoperability tests with the RI use.
#pragma once

#include "engine/services/capability_service.h"

namespace mplane::services {

class LoopbackService final : public CapabilityService {
 public:
  static Result<sched::ServicePtr> create(const model::RegistrySet& registries);
  void start(sched::JobContext& ctx) override;

 private:
  using CapabilityService::CapabilityService;
};

}  // namespace mplane::services
