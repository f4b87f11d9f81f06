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
// The query capability and the live capture share a FlowStore owned by one shard (below).
// A capture job runs on its shard's loop, timer-driven (non-blocking reads every 100 ms live),
// never blocking the loop for more than one batch.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "capture/flow/flow_record.h"
#include "capture/flow/flow_table.h"
#include "conf/component_config.h"
#include "engine/loop/shard.h"
#include "engine/sched/service.h"

namespace mplane::services {

// Finished flows of the live captures, kept for queries: at most `capacity`, the oldest dropped.
// Owned by one shard, `home`, and used on it only: the capture services of every shard reach it
// through that shard's inbox (Shard::post), never through a lock; answers come back through the
// asking shard's inbox. Without a home (tests, a scheduler without shards) it is used on the
// calling thread, at once.
class FlowStore : public std::enable_shared_from_this<FlowStore> {
 public:
  using Filter = std::function<bool(const capture::FlowRecord&)>;

  FlowStore(std::size_t capacity, loop::Shard* home);

  // Any shard: the store keeps at most `n` flows from now on.
  void set_capacity(std::size_t n);
  // Any shard: stores finished flows.
  void add(std::vector<capture::FlowRecord> flows);
  // Any shard: calls `done`, on the calling shard, with the stored flows `keep` accepts (never,
  // if a shard stops meanwhile).
  void query(Filter keep, std::function<void(std::vector<capture::FlowRecord>)> done);

 private:
  void at_home(std::function<void()> fn);
  void trim();

  std::size_t capacity_;
  loop::Shard* home_;
  std::deque<capture::FlowRecord> flows_;
};

struct CaptureConfig {
  std::string interface;  // live capture (empty: no live capability)
  std::string files;      // directory of capture files clients may name (empty: none)
  std::string filter;     // BPF for live capture
  capture::FlowTableOptions table;
  std::size_t store = conf::CaptureOptions{}.store;  // finished flows kept for queries
};
// From the typed options of a [service_capture] (ServiceConfig::typed holds CaptureOptions).
Result<CaptureConfig> capture_config(const conf::ServiceConfig& c);

// The capture services one configuration enables (file, live, query). The live capture stores
// its finished flows in `flows`, where the query finds them (null: a store of their own).
Result<std::vector<sched::ServicePtr>> make_capture_services(
    const CaptureConfig& config, const model::RegistrySet& registries,
    std::shared_ptr<FlowStore> flows = nullptr);

}  // namespace mplane::services
