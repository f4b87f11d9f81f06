// Passive capture served as mPlane capabilities (issue 5): one result row per finished flow,
// named with the core registry's elements where they exist and the project registry's `flow.*`
// elements otherwise (capture/output/flow_elements.h), with the capture's quality (packets,
// drops, malformed frames, evicted flows) as result metadata.
//
// - `capture-flows-file` (measure): analyses a capture file named by `flow.capture.file` in the
//   directory the configuration allows ([service_capture] files); rows as flows finish. Reads
//   65,536 frames per loop turn and waits while a streamed result's client is behind.
// - `capture-flows-IFACE` (measure): captures the configured interface for the scope of the
//   specification (`now + 1m`, `now ... future` until interrupted); rows as flows finish,
//   open flows flushed at the end or on an interrupt.
// - `capture-flows-query` (query): the flows a live capture finished recently (a bounded store,
//   [service_capture] store), whose last packet falls in the `when` window, optionally only
//   those of one address (`flow.query.host`) and/or port (`flow.query.port`); `*` for any.
//
// A capture job runs on its shard's loop, timer-driven (non-blocking reads every 100 ms live),
// never blocking the loop for more than one batch.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "capture/flow/flow_table.h"
#include "conf/component_config.h"
#include "engine/sched/service.h"

namespace mplane::services {

struct CaptureConfig {
  std::string interface;  // live capture (empty: no live capability)
  std::string files;      // directory of capture files clients may name (empty: none)
  std::string filter;     // BPF for live capture
  capture::FlowTableOptions table;
  std::size_t store = 100000;  // finished flows kept for queries
};
Result<CaptureConfig> capture_config(const conf::ServiceConfig& c);

// The capture services one configuration enables (file, live, query).
Result<std::vector<sched::ServicePtr>> make_capture_services(const CaptureConfig& config,
                                                             const model::RegistrySet& registries);

}  // namespace mplane::services
