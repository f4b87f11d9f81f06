// The mPlane job scheduler of one shard (PROTOCOL.md §2.4.3, §6.2, §7; issue 3).
//
// A pure state machine: it never reads a clock and owns no loop handle. The shard passes
// wall-clock UTC "now" into every call, arms one loop timer for next_deadline(), and calls
// advance() when it fires; tests drive the same calls with a manual clock and never sleep.
// Single-threaded: every member is called on the owning shard, and so are its services.
//
// Rules (documented for users in README.md, "Job semantics"):
// - A specification is matched against the services' capabilities in registration order with
//   fulfills(); the first match is checked by the access hook. No match: the RI's exception
//   "No service registered for specification"; a match the caller may not use: "User has no
//   permission to request this capability".
// - The job is keyed by the specification's token (its own, else its pv_hash). An identical
//   specification while the job waits or runs gets that job's receipt; once the job has
//   finished, an identical specification runs anew (the RI instead returns the stale result).
// - A specification whose scope is already over gets an exception (the RI returns a receipt
//   that never completes).
// - At most `max_jobs` jobs wait or run; past that, an exception says so (never a drop).
// - Results are kept until collected (in the reply to the specification, or by a redemption)
//   plus `retention` (default 0: forgotten at once, as the RI forgets a redeemed job), uncollected
//   ones for `result_retention`, and never more than `max_retained_results`: memory stays bounded.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/sched/job_admission.h"
#include "engine/sched/service.h"
#include "parsers/mplane/message.h"

namespace mplane::sched {

using model::Micros;

struct SchedulerOptions {
  std::size_t max_jobs = 10000;
  Micros retention = 0;  // after collection (0: forgotten at once, as the RI)
  Micros result_retention = 3600 * model::kMicrosPerSecond;
  std::size_t max_retained_results = 10000;
  std::size_t max_results_per_envelope = 0;  // repeated specs: keep the last N (0: all), RI
  std::size_t timers_per_advance = 4096;     // work budget of one advance() (STYLE C9)
};

// A reply message (result, receipt, envelope of results, withdrawal or exception). The
// pointer also keeps alive everything the message borrows (the job that made it).
using Reply = std::shared_ptr<const model::Message>;

// Decides whether `identity` may use `capability` (the supervisor issue plugs RBAC in here).
using AccessHook = std::function<bool(std::string_view identity, const model::Message& capability)>;

class Job;

// Takes over the rows of a job whose result is too large to keep (Scheduler::take_rows): the
// client that waits for it gets them as they are measured. Called on the job's shard.
class RowSink {
 public:
  virtual ~RowSink() = default;
  // Once, first: a result with the job's parameters and columns and no rows. The reply keeps
  // the job alive; hold it until finished().
  virtual void begin(const Reply& header) = 0;
  virtual void row(std::span<const model::Value> row) = 0;
  // True while the consumer is behind: services that can wait (JobContext::paused()) do, until
  // the consumer calls Scheduler::resume().
  virtual bool backlogged() const = 0;
  // Once, last: the job's result (its `when` is the interval measured; no rows) or exception.
  virtual void finished(const Reply& reply) = 0;
};

class Scheduler {
 public:
  // `loop` (handed to the services, for sockets) may be null.
  Scheduler(std::vector<ServicePtr> services, SchedulerOptions options, uv_loop_s* loop);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void set_access_hook(AccessHook hook) { access_ = std::move(hook); }
  // Job slots shared with the other shards (max-jobs, max-jobs-per-identity); without it,
  // options().max_jobs bounds this scheduler alone.
  void set_admission(std::shared_ptr<JobAdmission> admission) { admission_ = std::move(admission); }
  const std::vector<ServicePtr>& services() const { return services_; }

  // Withdraws the capability with this label (its service stops taking specifications): a
  // specification that would have run on it is answered with the withdrawal. False if no such
  // capability. Jobs already running go on.
  bool withdraw(std::string_view label);
  // The withdrawal messages of withdrawn capabilities (for discovery).
  std::vector<Reply> withdrawals();

  // Streams a job's rows as they are measured: fn is called on the shard with each new row, until
  // the job completes. False if no such job. This is what the transport sends as chunked result
  // envelopes.
  using RowListener = std::function<void(std::span<const model::Value> row)>;
  bool stream_rows(std::string_view token, RowListener fn);

  // Hands a running job's rows to `sink`: those measured so far at once, later ones as they
  // come, and the job keeps none of them (memory stays bounded however large the result). A
  // later redemption gets an exception saying where the rows went. False (nothing changes) if
  // no such running job, or if it cannot stream: a repeated specification.
  bool take_rows(std::string_view token, std::shared_ptr<RowSink> sink);
  // The sink caught up: a service that paused goes on (Service::resume).
  void resume(std::string_view token);

  // A specification, redemption or interrupt (anything else: "Unexpected message type").
  // `token`, if not empty, is the message's effective token already computed by the caller.
  // A redemption or interrupt of a job that `identity` did not submit gets "Unknown job";
  // redeem() and interrupt() themselves do not check (the runtime's own calls).
  Reply handle(const model::Message& message, std::string_view identity, MicrosSinceEpoch now,
               std::string_view token = {});
  Reply submit(const model::Message& specification, std::string_view identity, MicrosSinceEpoch now,
               std::string_view token = {});
  Reply redeem(std::string_view token, MicrosSinceEpoch now);
  Reply interrupt(std::string_view token, MicrosSinceEpoch now);
  // Interrupts every job (shutdown): running services stop and flush what they measured.
  void interrupt_all(MicrosSinceEpoch now);

  // A timer on the scheduler's clock, for the runtime (e.g. how long a client waits for a
  // result before it gets the receipt). fn runs inside advance().
  TimerId at(MicrosSinceEpoch t, std::function<void()> fn) { return add_timer(t, std::move(fn)); }
  void cancel(TimerId id) { cancel_timer(id); }

  // Fires the timers due at `now` that were set before this call (at most timers_per_advance
  // of them), and prunes. Timers set meanwhile fire in the next call.
  void advance(MicrosSinceEpoch now);
  // The earliest pending timer, if any (it may be in the past: call advance() again).
  std::optional<MicrosSinceEpoch> next_deadline() const;

  // Calls fn once when the job with this token has a reply other than a receipt (at once if
  // it already has): for a repeated specification, its first result. False if no such job.
  bool when_ready(std::string_view token, std::function<void()> fn);
  // Calls fn once when the job has completed (every occurrence of a repeated specification).
  bool when_complete(std::string_view token, std::function<void()> fn);
  bool ready(std::string_view token) const;
  // Rows measured so far by a running job (0 if none).
  std::size_t row_count(std::string_view token) const;

  struct Stats {
    std::size_t active = 0;    // waiting or running
    std::size_t retained = 0;  // finished, kept for collection
    std::uint64_t submitted = 0, completed = 0, overloaded = 0, pruned = 0, timers = 0;
  };
  Stats stats() const;

 private:
  friend class Job;
  using JobPtr = std::shared_ptr<Job>;

  const Service* match(const model::Message& spec, MicrosSinceEpoch now, bool& denied,
                       std::string_view identity) const;
  Reply withdrawal_for(const model::Message& spec, MicrosSinceEpoch now) const;
  bool owned_by(std::string_view token, std::string_view identity) const;
  std::optional<std::string> admit(std::string_view identity);
  Reply start_job(const model::Message& spec, const Service& service, std::string token,
                  std::string_view identity, MicrosSinceEpoch now);
  void schedule_run(const JobPtr& job, MicrosSinceEpoch now);
  void schedule_next_occurrence(const JobPtr& parent);
  void run_occurrence(const JobPtr& parent, MicrosSinceEpoch occurrence);
  void begin(const JobPtr& job);
  // The job's scope is over (`by_client`: a client interrupt ends it early): interrupt it.
  void end_of_scope(const JobPtr& job, bool by_client);
  void on_finished(Job& job);
  void drop_old_children(Job& parent);
  void retire(const JobPtr& job);
  void prune(const std::string& token, const Job* expected);
  void enforce_retention_cap();
  void collect(const JobPtr& job);
  Reply reply_for(const JobPtr& job);

  TimerId add_timer(MicrosSinceEpoch t, std::function<void()> fn);
  void cancel_timer(TimerId id);

  std::vector<ServicePtr> services_;
  // What the schema hash of each service's capability hashes (compared as is: no MD5 per
  // specification).
  std::vector<std::string> schemas_;
  // Withdrawal message per service, once withdrawn (null while offered).
  std::vector<std::shared_ptr<model::Message>> withdrawn_;
  SchedulerOptions options_;
  uv_loop_s* loop_;
  AccessHook access_;
  std::shared_ptr<JobAdmission> admission_;
  MicrosSinceEpoch now_ = 0;

  std::unordered_map<std::string, JobPtr> jobs_;  // by token
  // Finished top-level jobs in finishing order, which is also the order in which their
  // result_retention expires: pruning scans the front (no timer per job).
  struct Finished {
    std::string token;
    std::weak_ptr<Job> job;  // expired, or job->pruned_: already gone (no map lookup needed)
    MicrosSinceEpoch at;
  };
  std::deque<Finished> finished_order_;
  std::map<std::pair<MicrosSinceEpoch, TimerId>, std::function<void()>> timers_;
  std::unordered_map<TimerId, MicrosSinceEpoch> timer_due_;
  TimerId next_timer_ = 1;
  std::size_t active_ = 0;                                // top-level jobs waiting or running
  std::vector<std::shared_ptr<const std::string>> keep_;  // strings withdrawals borrow
  Stats stats_;
};

// Builds reply messages; public for tests and for the transport.
Reply make_exception(std::optional<std::string> token, std::string text);

}  // namespace mplane::sched
