// Creates the built-in services that a configuration enables ([service_NAME] sections).
#pragma once

#include <vector>

#include "conf/component_config.h"
#include "engine/sched/service.h"
#include "engine/services/capture_service.h"
#include "engine/services/icmp_pinger.h"

namespace mplane::services {

// One ServiceConfig per built-in service but the test service counter, with default options
// (what `mplane run` uses without --config).
std::vector<conf::ServiceConfig> default_service_configs();

// What the services of one shard share with the other shards' (the same for every shard).
struct ShardShares {
  // The shards of the process: [service_ping] max-rate is split evenly between them (each
  // shard's ping services share one ProbeBudget of max-rate / shards).
  std::size_t shards = 1;
  // Finished flows of the live captures (FlowStore, owned by one shard). Null: the capture
  // services of this call share a store of their own (one shard, or tests).
  std::shared_ptr<FlowStore> flows;
};

// `ping` yields four services (ping-average-ip4, ping-detail-ip4, ping-average-ip6,
// ping-detail-ip6; an IPv4-only source address drops the IPv6 ones and vice versa). The
// error names the configuration line (ServiceConfig::origin). A configuration without typed
// options (ServiceConfig::typed) has its text options parsed by conf::service_config().
Result<std::vector<sched::ServicePtr>> make_services(
    const std::vector<conf::ServiceConfig>& configs, const model::RegistrySet& registries,
    MonoClock& clock, const ShardShares& shares = {});

}  // namespace mplane::services
