// One job of the scheduler (internal to engine/sched). A job owns a deep copy of its
// specification, the rows measured so far, and its reply messages. Jobs live in shared_ptrs
// (replies keep them alive while a transport serialises them) and never move in memory.
#pragma once

#include <algorithm>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/sched/scheduler.h"

namespace mplane::sched {

class Job final : public JobContext, public std::enable_shared_from_this<Job> {
 public:
  enum class State : std::uint8_t { kWaiting, kRunning, kDone, kFailed };

  Job(Scheduler& scheduler, const model::Message& spec, const Service* service, std::string token,
      Job* parent);

  // JobContext
  const model::Message& specification() const override { return spec_; }
  MicrosSinceEpoch now() const override { return scheduler_.now_; }
  MicrosSinceEpoch started_at() const override { return started_at_; }
  bool interrupted() const override { return interrupted_; }
  void add_row(std::span<const model::Value> row) override;
  std::size_t row_count() const override { return rows_; }
  bool paused() override;
  void finish(std::optional<model::When> measured) override;
  void fail(std::string message) override;
  TimerId at(MicrosSinceEpoch t, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  uv_loop_s* loop() const override { return scheduler_.loop_; }
  void set_metadata(const model::Element* element, model::Value value) override;

  // Scheduler::take_rows / resume.
  void take_rows(std::shared_ptr<RowSink> sink);
  void resume();

  bool active() const { return state_ == State::kWaiting || state_ == State::kRunning; }
  // Identities that submitted this specification (the first took the job's slot); only they
  // may redeem or interrupt it. At most kMaxOwners are remembered.
  void add_owner(std::string_view identity) {
    constexpr std::size_t kMaxOwners = 64;
    if (owners_.size() >= kMaxOwners ||
        std::find(owners_.begin(), owners_.end(), identity) != owners_.end()) {
      return;
    }
    owners_.emplace_back(identity);
  }
  bool has_reply() const;  // a result, envelope or exception (not just a receipt)
  void set_interrupted() { interrupted_ = true; }
  void cancel_timers();
  // Something to call when the job has a reply (or, if `complete`, when it has completed).
  struct Waiter {
    bool complete;
    std::function<void()> fn;
  };
  void wait(Waiter w);    // calls at once if already satisfied
  void notify_waiters();  // calls (and drops) the waiters that are now satisfied

  // Replies. Built once (results at completion); borrow this job's memory.
  // Built on first use: jobs that complete at once never need one.
  const model::Message& receipt() {
    if (!receipt_) {
      receipt_ = spec_;
      receipt_->kind = model::MessageKind::kReceipt;
      receipt_->link.reset();
    }
    return *receipt_;
  }
  const model::Message& result() const { return result_; }
  // What a redemption gets after the rows went to a RowSink.
  const model::Message& streamed_notice();
  bool streamed() const { return static_cast<bool>(sink_) || streamed_; }
  const model::Message& envelope();  // repeated specifications: the results so far

  Scheduler& scheduler_;
  const std::string token_;
  model::Arena arena_;
  model::Message spec_;
  const Service* service_;
  Job* parent_;
  State state_ = State::kWaiting;
  bool interrupted_ = false;
  MicrosSinceEpoch started_at_ = 0;
  MicrosSinceEpoch finished_at_ = 0;
  bool collected_ = false;
  bool pruned_ = false;  // removed from the scheduler's table
  std::string error_;
  std::vector<std::string> owners_;
  std::vector<TimerId> timers_;
  std::vector<Waiter> waiters_;
  std::vector<Scheduler::RowListener> listeners_;  // streaming subscribers (loop thread)
  std::shared_ptr<RowSink> sink_;                  // takes the rows (none kept) while the job runs
  bool streamed_ = false;                          // the rows went to a sink
  bool paused_ = false;                            // the service was told to wait for the sink

  // Repeated specifications: one child job per occurrence.
  std::vector<std::shared_ptr<Job>> children_;
  std::optional<model::OccurrenceIterator> occurrences_;
  std::optional<model::When> envelope_scope_;
  std::size_t children_done_ = 0;
  std::uint64_t version_ = 0;  // bumped when a child finishes: invalidates envelope()

 private:
  void build_result(std::optional<model::When> measured);
  void notify_sink();

  std::vector<model::Column> columns_;
  std::vector<model::Metadatum> extra_metadata_;  // set_metadata(), merged into the result
  std::size_t rows_ = 0;
  std::optional<model::Message> receipt_;
  model::Message result_;
  model::Message envelope_;
  model::Message stream_header_;  // what a sink begins with
  std::optional<model::Message> streamed_notice_;
  std::string notice_text_;
  std::uint64_t envelope_version_ = UINT64_MAX;
};

}  // namespace mplane::sched
