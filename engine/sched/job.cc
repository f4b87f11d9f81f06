#include "engine/sched/job.h"

#include <algorithm>

namespace mplane::sched {

Job::Job(Scheduler& scheduler, const model::Message& spec, const Service* service,
         std::string token, Job* parent)
    : scheduler_(scheduler),
      token_(std::move(token)),
      spec_(model::copy_message(spec, arena_)),
      service_(service),
      parent_(parent) {
  spec_.token = token_;
  for (const model::Column& c : spec_.columns) columns_.push_back({c.element, {}});
}

void Job::add_row(std::span<const model::Value> row) {
  if (sink_) {  // streamed: the sink serialises the row now; nothing is kept
    ++rows_;
    sink_->row(row);
    for (std::size_t i = 0; i < listeners_.size(); ++i) listeners_[i](row);
    return;
  }
  for (std::size_t j = 0; j < columns_.size(); ++j) {
    const model::Value v = j < row.size() ? row[j] : model::Value::none();
    columns_[j].values.push_back(model::copy_value(v, arena_));
  }
  ++rows_;
  // By index: a listener may hand the rows to a sink (take_rows), which does not add listeners.
  for (std::size_t i = 0; i < listeners_.size(); ++i) listeners_[i](row);
}

void Job::take_rows(std::shared_ptr<RowSink> sink) {
  sink_ = std::move(sink);
  streamed_ = true;
  stream_header_ = spec_;
  stream_header_.kind = model::MessageKind::kResult;
  stream_header_.link.reset();
  for (model::Column& c : stream_header_.columns) c.values.clear();
  sink_->begin(Reply(shared_from_this(), &stream_header_));
  std::vector<model::Value> row(columns_.size());
  for (std::size_t i = 0; i < rows_; ++i) {
    for (std::size_t j = 0; j < columns_.size(); ++j) row[j] = columns_[j].values[i];
    sink_->row(row);
  }
  for (model::Column& c : columns_) {
    c.values.clear();
    c.values.shrink_to_fit();
  }
}

bool Job::paused() {
  if (!sink_ || !sink_->backlogged()) return false;
  paused_ = true;
  return true;
}

void Job::resume() {
  if (!paused_ || !active()) return;
  paused_ = false;
  const_cast<Service&>(*service_).resume(*this);  // services are owned, mutable, by the scheduler
}

void Job::notify_sink() {
  if (!sink_) return;
  auto sink = std::move(sink_);
  sink_.reset();
  sink->finished(Reply(shared_from_this(), &result_));
}

const model::Message& Job::streamed_notice() {
  if (!streamed_notice_) {
    streamed_notice_.emplace();
    streamed_notice_->kind = model::MessageKind::kException;
    streamed_notice_->exception_token = std::string_view(token_);
    notice_text_ = "The result (" + std::to_string(rows_) +
                   " rows) was streamed to the client that waited for it and is not kept";
    streamed_notice_->exception_text = notice_text_;
  }
  return *streamed_notice_;
}

void Job::set_metadata(const model::Element* element, model::Value value) {
  const model::Value kept = model::copy_value(value, arena_);
  for (model::Metadatum& m : extra_metadata_) {
    if (m.element == element) {
      m.value = kept;
      return;
    }
  }
  extra_metadata_.push_back({element, kept});
}

void Job::build_result(std::optional<model::When> measured) {
  result_ = spec_;
  for (const model::Metadatum& extra : extra_metadata_) {
    auto same = std::find_if(result_.metadata.begin(), result_.metadata.end(),
                             [&](const model::Metadatum& m) { return m.element == extra.element; });
    if (same != result_.metadata.end()) {
      same->value = extra.value;
    } else {
      result_.metadata.push_back(extra);
    }
  }
  result_.kind = model::MessageKind::kResult;
  result_.link.reset();
  if (!measured) {
    const auto start = model::TimePoint::absolute(started_at_ ? started_at_ : scheduler_.now_);
    measured = model::When::range(start, model::TimePoint::absolute(scheduler_.now_));
  }
  result_.when = *measured;
  result_.columns = std::move(columns_);
  result_.row_count = streamed_ ? 0 : rows_;  // a sink took the rows
  columns_.clear();
}

void Job::finish(std::optional<model::When> measured) {
  if (!active()) return;
  listeners_.clear();
  build_result(measured);
  state_ = State::kDone;
  notify_sink();
  scheduler_.on_finished(*this);
}

void Job::fail(std::string message) {
  if (!active()) return;
  error_ = std::move(message);
  result_ = model::Message{};
  result_.kind = model::MessageKind::kException;
  result_.exception_token = std::string_view(token_);
  result_.exception_text = error_;
  state_ = State::kFailed;
  listeners_.clear();
  notify_sink();
  scheduler_.on_finished(*this);
}

TimerId Job::at(MicrosSinceEpoch t, std::function<void()> fn) {
  std::weak_ptr<Job> self = weak_from_this();
  const TimerId id = scheduler_.add_timer(t, [self, fn = std::move(fn)] {
    if (auto job = self.lock(); job && job->active()) fn();
  });
  timers_.push_back(id);
  return id;
}

void Job::cancel(TimerId id) { scheduler_.cancel_timer(id); }

void Job::cancel_timers() {
  for (TimerId id : timers_) scheduler_.cancel_timer(id);
  timers_.clear();
}

bool Job::has_reply() const {
  if (!children_.empty() || occurrences_) return children_done_ > 0 || !active();
  return !active();
}

void Job::wait(Waiter w) {
  if (w.complete ? !active() : has_reply()) return w.fn();
  waiters_.push_back(std::move(w));
}

void Job::notify_waiters() {
  std::vector<Waiter> due;
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (it->complete ? !active() : has_reply()) {
      due.push_back(std::move(*it));
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
  for (Waiter& w : due) w.fn();  // last: a waiter may call back into the scheduler
}

const model::Message& Job::envelope() {
  if (envelope_version_ == version_) return envelope_;
  envelope_ = model::Message{};
  envelope_.kind = model::MessageKind::kEnvelope;
  envelope_.verb = "message";
  envelope_.token = std::string_view(token_);
  envelope_.label = spec_.label;
  envelope_.when = envelope_scope_;
  const std::size_t limit = scheduler_.options_.max_results_per_envelope;
  for (const auto& child : children_) {
    if (child->active()) continue;
    envelope_.contents.push_back(child->result());
    if (limit && envelope_.contents.size() > limit)
      envelope_.contents.erase(envelope_.contents.begin());
  }
  envelope_version_ = version_;
  return envelope_;
}

}  // namespace mplane::sched
