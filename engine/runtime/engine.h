// The engine: one shard per core, each owning its loop, its scheduler, its services and their
// jobs (STYLE C8). A job lives on the shard its token hashes to, so the redemption or interrupt
// of a job reaches the shard that runs it. The only way in from another thread is submit()
// (a post to the shard's inbox).
//
// Shutdown (stop(), or SIGINT/SIGTERM after install_signal_handlers()): shards stop accepting,
// every job is interrupted (services flush what they measured, waiting callers get their
// replies), every handle is closed, the shard threads end; then join() returns.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "conf/component_config.h"
#include "engine/loop/shard_group.h"
#include "engine/sched/scheduler.h"
#include "engine/services/builtin_services.h"
#include "parsers/json/message_reader.h"

namespace mplane::runtime {

struct EngineOptions {
  std::size_t shards = 0;                 // 0: one per core
  sched::SchedulerOptions scheduler;      // max_jobs: for the whole process
  std::size_t max_jobs_per_identity = 0;  // 0: max_jobs / 4 (at least 1)
  model::Micros immediate_wait = 5 * model::kMicrosPerSecond;
  // While a client waits (immediate_wait), a result that grows past this many rows is handed
  // to the caller's stream (see submit()) instead of being kept. 0: never.
  std::size_t stream_after_rows = 10000;
  std::vector<conf::ServiceConfig> services;
  // Who may use which capability (null: everyone). Checked on every specification and by
  // the capability listings (Engine::allowed).
  sched::AccessHook access;
};
EngineOptions engine_options(const conf::ComponentConfig& config);

class Engine {
 public:
  // Called on the job's shard with the reply; serialise it there (it borrows the job).
  using ReplyFn = std::function<void(const sched::Reply&)>;
  // What a stream of rows may ask of its job, from any thread (each call is a post to the
  // job's shard).
  struct StreamControl {
    std::function<void()> resume;     // the consumer caught up (Scheduler::resume)
    std::function<void()> interrupt;  // the consumer is gone: stop measuring
  };
  // Called on the job's shard when a result grows past stream_after_rows while its client
  // waits: returns the sink that takes the rows from then on (and then replaces `reply`).
  using StreamFn = std::function<std::shared_ptr<sched::RowSink>(StreamControl control)>;

  // `registries` must outlive the engine; it is shared read-only by every shard.
  Engine(const model::RegistrySet& registries, EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Starts the shards and builds each shard's services and scheduler on its thread. The error
  // names the first shard or service that failed.
  Status<> start();
  std::size_t shard_count() const { return group_.size(); }
  std::size_t shard_for(std::string_view token) const;

  // Any thread: hands a message to its job's shard (called on that shard, handles it at once:
  // `reply` may run before submit() returns). A specification is answered with its
  // result if it completes within immediate_wait, else with the receipt; redemptions and
  // interrupts at once. False if the engine is stopping (the message is dropped, `reply` is
  // not called).
  // With `stream`, a large result goes to the sink it returns instead (see StreamFn).
  bool submit(std::unique_ptr<json::OwnedMessage> message, std::string identity, ReplyFn reply,
              StreamFn stream = nullptr);

  // Like submit(), but `reply` is called once, when the job has completed (a result, an
  // envelope or an exception; at once if the message gets no job): for indirect export and
  // `mplane run`. If the job does not complete at once, `receipt` (if set) is called first with
  // its receipt. With `stream`, a result that grows past stream_after_rows goes to the sink it
  // returns (see StreamFn); `reply` then gets the notice that the rows were streamed.
  bool submit_until_complete(std::unique_ptr<json::OwnedMessage> message, std::string identity,
                             ReplyFn reply, ReplyFn receipt = nullptr, StreamFn stream = nullptr);

  // Capabilities of the services (the same on every shard). Valid until join() returns.
  std::vector<const model::Message*> capabilities() const;
  // Whether `identity` may use `capability` (EngineOptions::access). Any thread.
  bool has_access_control() const { return static_cast<bool>(options_.access); }
  bool allowed(std::string_view identity, const model::Message& capability) const {
    return !options_.access || options_.access(identity, capability);
  }

  // Runs fn(shard) on every shard's thread and waits until all have run (start-up wiring,
  // e.g. one HTTP listener per shard); the first error any returned. Call after start().
  Status<> run_on_each_shard(const std::function<Status<>(loop::Shard&)>& fn);

  Status<> install_signal_handlers() { return group_.install_signal_handlers(); }
  void stop();
  void join();

 private:
  struct ShardState;
  void handle(ShardState& state, const model::Message& message, const std::string& identity,
              const std::string& token, const ReplyFn& reply, const StreamFn& stream);
  void wait_for_result(ShardState& state, const sched::Reply& receipt, const ReplyFn& reply,
                       const StreamFn& stream);
  void wait_until_complete(ShardState& state, const model::Message& message,
                           const std::string& identity, const std::string& token,
                           const ReplyFn& reply, const ReplyFn& receipt, const StreamFn& stream);
  // Hands the job's rows to `stream` once it has more than stream_after_rows of them, if
  // `waiting()` still says so then; `taken()` runs once the sink has them.
  void stream_when_large(ShardState& state, const std::string& token, const StreamFn& stream,
                         std::function<bool()> waiting, std::function<void()> taken);
  StreamControl control_for(std::size_t shard, const std::string& token);

  const model::RegistrySet& registries_;
  EngineOptions options_;
  loop::ShardGroup group_;
  std::shared_ptr<sched::JobAdmission> admission_;   // shared by every shard's scheduler
  services::ShardShares shares_;                     // what the shards' services share
  std::vector<std::unique_ptr<ShardState>> states_;  // one per shard, used on its shard only
};

}  // namespace mplane::runtime
