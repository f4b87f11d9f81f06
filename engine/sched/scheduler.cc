// The scheduler's state machine. One file: submission, timers, occurrences of repeated
// specifications, completion, retention. See scheduler.h for the rules.
#include "engine/sched/scheduler.h"

#include "engine/sched/job.h"
#include "parsers/base/log.h"
#include "parsers/mplane/fulfills.h"
#include "parsers/mplane/token.h"

namespace mplane::sched {
namespace {

constexpr std::string_view kNoService = "No service registered for specification";
constexpr std::string_view kNoPermission = "User has no permission to request this capability";
constexpr std::string_view kUnknownJob = "Unknown job";
constexpr std::string_view kUnexpected = "Unexpected message type";

struct OwnedException {
  std::string token;
  std::string text;
  model::Message message;
};

}  // namespace

Reply make_exception(std::optional<std::string> token, std::string text) {
  auto holder = std::make_shared<OwnedException>();
  const bool has_token = token.has_value();
  holder->token = std::move(token).value_or("");
  holder->text = std::move(text);
  holder->message.kind = model::MessageKind::kException;
  if (has_token) holder->message.exception_token = std::string_view(holder->token);
  holder->message.exception_text = holder->text;
  return Reply(holder, &holder->message);
}

Scheduler::Scheduler(std::vector<ServicePtr> services, SchedulerOptions options, uv_loop_s* loop)
    : services_(std::move(services)),
      options_(options),
      loop_(loop),
      // This scheduler's own slots until the runtime shares one admission between shards.
      admission_(std::make_shared<JobAdmission>(options.max_jobs, 0)) {
  for (const ServicePtr& s : services_)
    schemas_.push_back(model::schema_hash_input(s->capability()));
  withdrawn_.resize(services_.size());
}

bool Scheduler::withdraw(std::string_view label) {
  for (std::size_t i = 0; i < services_.size(); ++i) {
    const model::Message& cap = services_[i]->capability();
    if (cap.label != label || withdrawn_[i]) continue;
    auto w = std::make_shared<model::Message>(cap);  // borrows the service's capability
    w->kind = model::MessageKind::kWithdrawal;
    w->link.reset();
    if (!w->token) {  // the withdrawal carries the capability's token (PROTOCOL.md §2.5)
      keep_.push_back(std::make_shared<const std::string>(model::mpcv_hash(cap)));
      w->token = std::string_view(*keep_.back());
    }
    withdrawn_[i] = std::move(w);
    return true;
  }
  return false;
}

std::vector<Reply> Scheduler::withdrawals() {
  std::vector<Reply> out;
  for (const auto& w : withdrawn_) {
    if (w) out.push_back(w);
  }
  return out;
}

bool Scheduler::stream_rows(std::string_view token, RowListener fn) {
  auto it = jobs_.find(std::string(token));
  if (it == jobs_.end() || !it->second->active()) return false;
  it->second->listeners_.push_back(std::move(fn));
  return true;
}

bool Scheduler::take_rows(std::string_view token, std::shared_ptr<RowSink> sink) {
  auto it = jobs_.find(std::string(token));
  if (it == jobs_.end()) return false;
  Job& job = *it->second;
  if (!job.active() || job.streamed() || job.occurrences_ || !job.children_.empty()) {
    return false;
  }
  job.take_rows(std::move(sink));
  return true;
}

void Scheduler::resume(std::string_view token) {
  auto it = jobs_.find(std::string(token));
  if (it != jobs_.end()) it->second->resume();
}

std::size_t Scheduler::row_count(std::string_view token) const {
  auto it = jobs_.find(std::string(token));
  return it == jobs_.end() || !it->second->active() ? 0 : it->second->row_count();
}

Scheduler::~Scheduler() {
  for (auto& [token, job] : jobs_) job->cancel_timers();
}

// --- Messages in -------------------------------------------------------------------------

Reply Scheduler::handle(const model::Message& m, std::string_view identity, MicrosSinceEpoch now,
                        std::string_view token) {
  switch (m.kind) {
    case model::MessageKind::kSpecification:
      return submit(m, identity, now, token);
    case model::MessageKind::kRedemption:
      if (!m.token) return make_exception(std::nullopt, "Redemption without token");
      if (!owned_by(*m.token, identity))
        return make_exception(std::string(*m.token), std::string(kUnknownJob));
      return redeem(*m.token, now);
    case model::MessageKind::kInterrupt:
      if (!m.token) return make_exception(std::nullopt, "Interrupt without token");
      if (!owned_by(*m.token, identity))
        return make_exception(std::string(*m.token), std::string(kUnknownJob));
      return interrupt(*m.token, now);
    default:
      return make_exception(model::effective_token(m), std::string(kUnexpected));
  }
}

// A job answers only the identities that submitted its specification (another identity gets
// "Unknown job", as for a token that does not exist). No such job: the caller answers that.
bool Scheduler::owned_by(std::string_view token, std::string_view identity) const {
  auto it = jobs_.find(std::string(token));
  if (it == jobs_.end()) return true;
  const auto& owners = it->second->owners_;
  return std::find(owners.begin(), owners.end(), identity) != owners.end();
}

const Service* Scheduler::match(const model::Message& spec, MicrosSinceEpoch now, bool& denied,
                                std::string_view identity) const {
  denied = false;
  const std::string schema = model::schema_hash_input(spec);
  for (std::size_t i = 0; i < services_.size(); ++i) {
    const ServicePtr& s = services_[i];
    if (withdrawn_[i] || schemas_[i] != schema ||
        !model::fulfills_same_schema(spec, s->capability(), now)) {
      continue;
    }
    if (access_ && !access_(identity, s->capability())) {
      denied = true;  // the RI stops at the first match
      return nullptr;
    }
    return s.get();
  }
  return nullptr;
}

Reply Scheduler::submit(const model::Message& spec, std::string_view identity, MicrosSinceEpoch now,
                        std::string_view known_token) {
  if (Reply w = withdrawal_for(spec, now)) return w;
  now_ = std::max(now_, now);
  std::string token =
      known_token.empty() ? model::effective_token(spec).value_or("") : std::string(known_token);
  if (auto it = jobs_.find(token); it != jobs_.end()) {
    if (it->second->active()) {  // the same measurement: its receipt, and a share of it
      it->second->add_owner(identity);
      return Reply(it->second, &it->second->receipt());
    }
    prune(token, it->second.get());  // finished: an identical specification runs anew
  }
  bool denied = false;
  const Service* service = match(spec, now, denied, identity);
  if (denied) {
    log::warn("access: " + std::string(identity) + " denied capability '" +
              std::string(spec.label.value_or("")) + "'");
    return make_exception(token, std::string(kNoPermission));
  }
  if (!service) return make_exception(token, std::string(kNoService));
  if (!spec.when) return make_exception(token, "Specification without a temporal scope");
  return start_job(spec, *service, std::move(token), identity, now);
}

// Takes a job slot; the text of the overload exception if none is free.
std::optional<std::string> Scheduler::admit(std::string_view identity) {
  return admission_->acquire(identity);
}

// A specification for a withdrawn capability gets the withdrawal (RI and spec).
Reply Scheduler::withdrawal_for(const model::Message& spec, MicrosSinceEpoch now) const {
  bool any = false;
  for (const auto& w : withdrawn_) any |= w != nullptr;
  if (!any) return nullptr;
  const std::string schema = model::schema_hash_input(spec);
  for (std::size_t i = 0; i < services_.size(); ++i) {
    if (withdrawn_[i] && schemas_[i] == schema &&
        model::fulfills_same_schema(spec, services_[i]->capability(), now)) {
      return withdrawn_[i];
    }
  }
  return nullptr;
}

Reply Scheduler::start_job(const model::Message& spec, const Service& service, std::string token,
                           std::string_view identity, MicrosSinceEpoch now) {
  const bool query = spec.verb == "query";
  if (!query && !spec.when->repeated() && spec.when->timer_delays(now).expired) {
    return make_exception(token, "Expired specification: its scope '" + spec.when->canonical() +
                                     "' ended before it was received");
  }
  if (auto overloaded = admit(identity)) {
    log::warn("overload: specification of " + std::string(identity) + " refused: " + *overloaded);
    ++stats_.overloaded;
    return make_exception(token, std::move(*overloaded));
  }
  auto job = std::make_shared<Job>(*this, spec, &service, token, nullptr);
  job->add_owner(identity);
  jobs_[token] = job;
  ++active_;
  ++stats_.submitted;
  if (spec.when->repeated() && !query) {
    job->occurrences_.emplace(job->spec_.when.value(), now);
    job->envelope_scope_ = job->spec_.when->envelope_scope(now);
    job->state_ = Job::State::kRunning;
    schedule_next_occurrence(job);
  } else {
    schedule_run(job, now);
  }
  advance(now);  // starts jobs due now, so that immediate ones complete before the reply
  Reply reply = reply_for(job);
  if (reply->kind != model::MessageKind::kReceipt) collect(job);  // the caller has the result
  return reply;
}

// --- Running ------------------------------------------------------------------------------

void Scheduler::schedule_run(const JobPtr& job, MicrosSinceEpoch now) {
  std::weak_ptr<Job> weak = job;
  if (job->spec_.verb == "query") {  // the RI runs queries at once; `when` is the data window
    add_timer(now, [this, weak] {
      if (auto j = weak.lock()) begin(j);
    });
    return;
  }
  const model::TimerDelays d = job->spec_.when->timer_delays(now);
  if (d.start_delay == 0) {
    begin(job);  // due now: no timer (immediate jobs such as loopback never touch the heap)
    if (!job->active()) return;
  } else {
    job->timers_.push_back(add_timer(now + d.start_delay, [this, weak] {
      if (auto j = weak.lock()) begin(j);
    }));
  }
  if (d.end_delay) {
    job->timers_.push_back(add_timer(now + std::max(*d.end_delay, d.start_delay), [this, weak] {
      if (auto j = weak.lock()) end_of_scope(j, false);
    }));
  }
}

void Scheduler::begin(const JobPtr& job) {
  if (job->state_ != Job::State::kWaiting) return;
  job->state_ = Job::State::kRunning;
  job->started_at_ = now_;
  const_cast<Service&>(*job->service_).start(*job);
}

void Scheduler::end_of_scope(const JobPtr& job, bool by_client) {
  if (job->state_ == Job::State::kWaiting) begin(job);
  if (job->state_ != Job::State::kRunning) return;
  const model::When& when = *job->spec_.when;
  if (!by_client && job->service_->ends_by_itself() && !when.end() && !when.duration()) return;
  job->set_interrupted();
  const_cast<Service&>(*job->service_).interrupt(*job);
}

void Scheduler::schedule_next_occurrence(const JobPtr& parent) {
  if (parent->interrupted()) return;
  auto& it = *parent->occurrences_;
  const std::optional<MicrosSinceEpoch> next = it.next();
  std::weak_ptr<Job> weak = parent;
  if (!next) {
    if (it.exhausted()) {
      parent->occurrences_.reset();  // no more occurrences: done once the children are
      if (parent->children_done_ == parent->children_.size()) parent->finish(std::nullopt);
    } else {
      // The crontab scan budget ran out: look again later rather than block the shard.
      add_timer(now_ + model::kMicrosPerSecond, [this, weak] {
        if (auto p = weak.lock(); p && p->occurrences_) schedule_next_occurrence(p);
      });
    }
    return;
  }
  parent->timers_.push_back(add_timer(*next, [this, weak, t = *next] {
    if (auto p = weak.lock(); p && p->occurrences_) {
      run_occurrence(p, t);
      schedule_next_occurrence(p);
    }
  }));
}

void Scheduler::run_occurrence(const JobPtr& parent, MicrosSinceEpoch occurrence) {
  model::Message sub = parent->spec_;
  sub.when = parent->occurrences_->sub_scope(occurrence);
  sub.token.reset();
  const std::string token = model::pv_hash(sub);
  auto child = std::make_shared<Job>(*this, sub, parent->service_, token, parent.get());
  parent->children_.push_back(child);
  schedule_run(child, now_);
}

void Scheduler::on_finished(Job& job) {
  job.finished_at_ = now_;
  job.cancel_timers();
  ++stats_.completed;
  if (job.parent_) {
    Job& parent = *job.parent_;
    ++parent.children_done_;
    ++parent.version_;
    drop_old_children(parent);
    parent.notify_waiters();
    if (!parent.occurrences_ && parent.children_done_ == parent.children_.size()) {
      parent.finish(std::nullopt);
    }
    return;
  }
  --active_;
  admission_->release(job.owners_.front());
  job.notify_waiters();
  retire(job.shared_from_this());
}

// A repeated specification that runs for months must not keep every occurrence: keep the
// last max_results_per_envelope (or max_retained_results) finished ones.
void Scheduler::drop_old_children(Job& parent) {
  const std::size_t cap = options_.max_results_per_envelope ? options_.max_results_per_envelope
                                                            : options_.max_retained_results;
  while (parent.children_done_ > cap && !parent.children_.front()->active()) {
    parent.children_.erase(parent.children_.begin());
    --parent.children_done_;
  }
}

// --- Replies -------------------------------------------------------------------------------

Reply Scheduler::reply_for(const JobPtr& job) {
  if (job->occurrences_ || !job->children_.empty()) {
    if (job->children_done_ == 0 && job->active()) return Reply(job, &job->receipt());
    return Reply(job, &job->envelope());
  }
  if (job->active()) return Reply(job, &job->receipt());
  if (job->streamed()) return Reply(job, &job->streamed_notice());
  return Reply(job, &job->result());
}

Reply Scheduler::redeem(std::string_view token, MicrosSinceEpoch now) {
  advance(now);
  auto it = jobs_.find(std::string(token));
  if (it == jobs_.end()) return make_exception(std::string(token), std::string(kUnknownJob));
  JobPtr job = it->second;
  Reply reply = reply_for(job);
  collect(job);
  return reply;
}

// A finished job's result has reached a client: it is kept `retention` more (0: forgotten now,
// as the RI forgets a redeemed job). A repeated specification's envelope is not final until
// the job has finished.
void Scheduler::collect(const JobPtr& job) {
  if (job->active() || job->collected_) return;
  job->collected_ = true;
  if (options_.retention <= 0) return prune(job->token_, job.get());
  std::weak_ptr<Job> weak = job;
  add_timer(now_ + options_.retention, [this, weak, t = job->token_] {
    if (auto j = weak.lock()) prune(t, j.get());
  });
}

Reply Scheduler::interrupt(std::string_view token, MicrosSinceEpoch now) {
  advance(now);
  auto it = jobs_.find(std::string(token));
  if (it == jobs_.end()) return make_exception(std::string(token), std::string(kUnknownJob));
  JobPtr job = it->second;
  if (job->active()) {
    job->set_interrupted();
    for (const auto& child : job->children_) end_of_scope(child, true);
    if (job->occurrences_) {
      job->occurrences_.reset();
      if (job->children_done_ == job->children_.size()) job->finish(std::nullopt);
    } else {
      end_of_scope(job, true);
    }
  }
  return reply_for(job);
}

void Scheduler::interrupt_all(MicrosSinceEpoch now) {
  std::vector<std::string> tokens;
  for (const auto& [token, job] : jobs_) {
    if (job->active()) tokens.push_back(token);
  }
  for (const std::string& t : tokens) (void)interrupt(t, now);
}

bool Scheduler::when_ready(std::string_view token, std::function<void()> fn) {
  auto it = jobs_.find(std::string(token));
  if (it == jobs_.end()) return false;
  it->second->wait(Job::Waiter{false, std::move(fn)});
  return true;
}

bool Scheduler::when_complete(std::string_view token, std::function<void()> fn) {
  auto it = jobs_.find(std::string(token));
  if (it == jobs_.end()) return false;
  it->second->wait(Job::Waiter{true, std::move(fn)});
  return true;
}

bool Scheduler::ready(std::string_view token) const {
  auto it = jobs_.find(std::string(token));
  return it != jobs_.end() && it->second->has_reply();
}

// --- Retention -----------------------------------------------------------------------------

void Scheduler::retire(const JobPtr& job) {
  finished_order_.push_back({job->token_, job, now_});
  enforce_retention_cap();
}

void Scheduler::prune(const std::string& token, const Job* expected) {
  auto it = jobs_.find(token);
  if (it == jobs_.end() || it->second.get() != expected) return;
  it->second->cancel_timers();
  it->second->pruned_ = true;
  jobs_.erase(it);
  ++stats_.pruned;
}

// Prunes from the front of finished_order_: results past result_retention, and the oldest
// beyond max_retained_results. Entries of jobs pruned otherwise (collected, rerun) are
// dropped when they reach the front; they count towards the cap until then, which keeps the
// bound strict.
void Scheduler::enforce_retention_cap() {
  while (!finished_order_.empty()) {
    const Finished& f = finished_order_.front();
    const std::shared_ptr<Job> job = f.job.lock();
    const bool gone = !job || job->pruned_;
    const bool expired = f.at + options_.result_retention <= now_;
    if (!gone && !expired && finished_order_.size() <= options_.max_retained_results) break;
    if (!gone) prune(f.token, job.get());
    finished_order_.pop_front();
  }
}

// --- Timers --------------------------------------------------------------------------------

TimerId Scheduler::add_timer(MicrosSinceEpoch t, std::function<void()> fn) {
  const TimerId id = next_timer_++;
  timers_.emplace(std::make_pair(t, id), std::move(fn));
  timer_due_.emplace(id, t);
  return id;
}

void Scheduler::cancel_timer(TimerId id) {
  auto it = timer_due_.find(id);
  if (it == timer_due_.end()) return;
  timers_.erase({it->second, id});
  timer_due_.erase(it);
}

// Timers set while advancing wait for the next advance (a service that yields with at(now)
// lets the loop serve I/O in between).
void Scheduler::advance(MicrosSinceEpoch now) {
  now_ = std::max(now_, now);
  const TimerId first_new = next_timer_;
  for (std::size_t fired = 0; fired < options_.timers_per_advance; ++fired) {
    auto it = timers_.begin();
    if (it == timers_.end() || it->first.first > now_ || it->first.second >= first_new) break;
    std::function<void()> fn = std::move(it->second);
    timer_due_.erase(it->first.second);
    timers_.erase(it);
    ++stats_.timers;
    fn();
  }
  enforce_retention_cap();
}

std::optional<MicrosSinceEpoch> Scheduler::next_deadline() const {
  std::optional<MicrosSinceEpoch> next;
  if (!timers_.empty()) next = timers_.begin()->first.first;
  if (!finished_order_.empty()) {  // the oldest retained result expires then
    const MicrosSinceEpoch expiry = finished_order_.front().at + options_.result_retention;
    next = next ? std::min(*next, expiry) : expiry;
  }
  return next;
}

Scheduler::Stats Scheduler::stats() const {
  Stats s = stats_;
  s.active = 0;
  s.retained = 0;
  s.active = active_;
  s.retained = jobs_.size() - active_;
  return s;
}

}  // namespace mplane::sched
