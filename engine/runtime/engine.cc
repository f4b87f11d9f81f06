#include "engine/runtime/engine.h"

#include "engine/loop/start_barrier.h"
#include "engine/runtime/scheduler_driver.h"
#include "engine/services/builtin_services.h"
#include "parsers/mplane/token.h"

namespace mplane::runtime {

// Everything one shard owns. Built and used on the shard's thread; destroyed by join() after
// the thread has ended and its loop is closed.
struct Engine::ShardState {
  loop::SteadyMonoClock mono;
  loop::SystemWallClock wall;
  std::unique_ptr<sched::Scheduler> scheduler;
  std::unique_ptr<SchedulerDriver> driver;
};

EngineOptions engine_options(const conf::ComponentConfig& c) {
  EngineOptions o;
  o.shards = c.engine.shards;
  o.immediate_wait = c.engine.immediate_wait;
  o.stream_after_rows = c.engine.stream_after_rows;
  o.scheduler.max_jobs = c.engine.max_jobs;
  o.max_jobs_per_identity = c.engine.max_jobs_per_identity;
  o.scheduler.retention = c.engine.retention;
  o.scheduler.result_retention = c.engine.result_retention;
  o.scheduler.max_retained_results = c.engine.max_retained_results;
  o.scheduler.max_results_per_envelope = c.scheduler_max_results;
  o.services = c.services;
  if (c.tls && c.access_control) {  // [TLS] in the file: [Roles], [Authorizations] apply
    auto policy = std::make_shared<const conf::AccessPolicy>(conf::access_policy(c));
    o.access = [policy](std::string_view identity, const model::Message& capability) {
      return policy->allows(identity, capability.label.value_or(""));
    };
  }
  return o;
}

Engine::Engine(const model::RegistrySet& registries, EngineOptions options)
    : registries_(registries), options_(std::move(options)), group_(options_.shards) {
  const std::size_t max_jobs = options_.scheduler.max_jobs;
  const std::size_t per_identity = options_.max_jobs_per_identity
                                       ? options_.max_jobs_per_identity
                                       : std::max<std::size_t>(1, max_jobs / 4);
  admission_ = std::make_shared<sched::JobAdmission>(max_jobs, per_identity);
  shares_.shards = group_.size();
  // Its capacity comes from the capture service's options, if enabled (make_capture_services).
  shares_.flows =
      std::make_shared<services::FlowStore>(conf::CaptureOptions{}.store, &group_.shard(0));
  states_.resize(group_.size());
}

Engine::~Engine() {
  stop();
  join();
}

Status<> Engine::start() {
  if (auto st = group_.start(); !st) return st;
  loop::StartBarrier barrier(group_.size());
  barrier.forget(group_.size() - group_.post_all([&](std::size_t i) {
    return loop::make_task([this, i, &barrier] {
      loop::Shard& shard = *loop::Shard::current();
      auto state = std::make_unique<ShardState>();
      auto svcs = services::make_services(options_.services, registries_, state->mono, shares_);
      if (!svcs) {  // the same services on every shard: which shard failed only matters if many
        const std::string where = group_.size() > 1 ? "shard " + std::to_string(i) + ": " : "";
        return barrier.done(where + svcs.error());
      }
      state->scheduler = std::make_unique<sched::Scheduler>(std::move(svcs.value()),
                                                            options_.scheduler, shard.loop());
      state->scheduler->set_access_hook(options_.access);
      state->scheduler->set_admission(admission_);
      state->driver =
          std::make_unique<SchedulerDriver>(shard.loop(), *state->scheduler, state->wall);
      if (auto st = state->driver->start(); !st) return barrier.done(st.error());
      ShardState* raw = state.get();
      shard.add_shutdown_hook([raw] {  // interrupt jobs and flush their results, then close
        raw->scheduler->interrupt_all(raw->driver->now());
        raw->driver->close();
      });
      states_[i] = std::move(state);
      barrier.done();
    });
  }));
  return barrier.wait();
}

std::size_t Engine::shard_for(std::string_view token) const {
  return std::hash<std::string_view>{}(token) % group_.size();
}

bool Engine::submit(std::unique_ptr<json::OwnedMessage> message, std::string identity,
                    ReplyFn reply, StreamFn stream) {
  const std::string token = model::effective_token(message->message).value_or("");
  const std::size_t shard = shard_for(token);
  if (loop::Shard::current() == &group_.shard(shard) && states_[shard]) {  // on the job's shard
    handle(*states_[shard], message->message, identity, token, reply, stream);
    return true;
  }
  std::shared_ptr<json::OwnedMessage> owned(std::move(message));
  return group_.post(shard,
                     loop::make_task([this, shard, owned, identity = std::move(identity),
                                      reply = std::move(reply), stream = std::move(stream), token] {
                       handle(*states_[shard], owned->message, identity, token, reply, stream);
                     }));
}

Engine::StreamControl Engine::control_for(std::size_t shard, const std::string& token) {
  auto on_shard = [this, shard, token](bool interrupt) {
    return [this, shard, token, interrupt] {
      group_.post(shard, loop::make_task([this, shard, token, interrupt] {
                    ShardState& state = *states_[shard];
                    if (interrupt) {
                      (void)state.scheduler->interrupt(token, state.driver->now());
                    } else {
                      state.scheduler->resume(token);
                    }
                    state.driver->pump();
                  }));
    };
  };
  return {on_shard(false), on_shard(true)};
}

bool Engine::submit_until_complete(std::unique_ptr<json::OwnedMessage> message,
                                   std::string identity, ReplyFn reply, ReplyFn receipt,
                                   StreamFn stream) {
  const std::string token = model::effective_token(message->message).value_or("");
  const std::size_t shard = shard_for(token);
  std::shared_ptr<json::OwnedMessage> owned(std::move(message));
  return group_.post(shard, loop::make_task([this, shard, owned, identity = std::move(identity),
                                             reply = std::move(reply), receipt = std::move(receipt),
                                             stream = std::move(stream), token] {
                       wait_until_complete(*states_[shard], owned->message, identity, token, reply,
                                           receipt, stream);
                     }));
}

void Engine::wait_until_complete(ShardState& state, const model::Message& message,
                                 const std::string& identity, const std::string& token,
                                 const ReplyFn& reply, const ReplyFn& receipt,
                                 const StreamFn& stream) {
  sched::Scheduler& s = *state.scheduler;
  SchedulerDriver& driver = *state.driver;
  sched::Reply r = s.handle(message, identity, driver.now(), token);
  driver.pump();
  const std::string job(r->token.value_or(""));
  if (r->kind != model::MessageKind::kReceipt ||
      !s.when_complete(job, [&s, &driver, job, reply] { reply(s.redeem(job, driver.now())); })) {
    return reply(r);
  }
  if (receipt) receipt(r);
  stream_when_large(
      state, job, stream, [] { return true; }, [] {});
}

void Engine::handle(ShardState& state, const model::Message& message, const std::string& identity,
                    const std::string& token, const ReplyFn& reply, const StreamFn& stream) {
  sched::Reply r = state.scheduler->handle(message, identity, state.driver->now(), token);
  state.driver->pump();
  if (message.kind == model::MessageKind::kSpecification &&
      r->kind == model::MessageKind::kReceipt && options_.immediate_wait > 0) {
    return wait_for_result(state, r, reply, stream);
  }
  reply(r);
}

// Replies with the result if the job completes within immediate_wait, else with the receipt;
// or, if the result grows past stream_after_rows first, hands its rows to the caller's stream.
void Engine::wait_for_result(ShardState& state, const sched::Reply& receipt, const ReplyFn& reply,
                             const StreamFn& stream) {
  struct Wait {
    bool answered = false;
    sched::TimerId timer = 0;
  };
  auto wait = std::make_shared<Wait>();
  sched::Scheduler& s = *state.scheduler;
  SchedulerDriver& driver = *state.driver;
  const std::string token(receipt->token.value_or(""));
  wait->timer = s.at(driver.now() + options_.immediate_wait, [wait, receipt, reply] {
    if (wait->answered) return;
    wait->answered = true;
    reply(receipt);
  });
  s.when_ready(token, [wait, &s, &driver, token, reply] {
    if (wait->answered) return;
    wait->answered = true;
    s.cancel(wait->timer);
    reply(s.redeem(token, driver.now()));
  });
  stream_when_large(
      state, token, stream, [wait] { return !wait->answered; },
      [wait, &s] {
        wait->answered = true;
        s.cancel(wait->timer);
      });
  driver.pump();
}

void Engine::stream_when_large(ShardState& state, const std::string& token, const StreamFn& stream,
                               std::function<bool()> waiting, std::function<void()> taken) {
  if (!stream || options_.stream_after_rows == 0) return;
  sched::Scheduler& s = *state.scheduler;
  const std::size_t threshold = options_.stream_after_rows;
  const std::size_t shard = loop::Shard::current()->index();
  // Counts from the rows the job has already (no table lookup per row). A sink's job goes on
  // calling its listeners: `done` ends this one's part.
  s.stream_rows(token,
                [this, &s, token, threshold, shard, stream, waiting = std::move(waiting),
                 taken = std::move(taken), rows = s.row_count(token), done = false](auto) mutable {
                  if (done || ++rows <= threshold || !waiting()) return;
                  std::shared_ptr<sched::RowSink> sink = stream(control_for(shard, token));
                  if (!sink || !s.take_rows(token, sink)) return;
                  done = true;
                  taken();
                });
}

Status<> Engine::run_on_each_shard(const std::function<Status<>(loop::Shard&)>& fn) {
  loop::StartBarrier barrier(group_.size());
  const std::size_t posted = group_.post_all([&](std::size_t) {
    return loop::make_task([&fn, &barrier] {
      const Status<> st = fn(*loop::Shard::current());
      barrier.done(st ? std::string_view() : std::string_view(st.error()));
    });
  });
  barrier.forget(group_.size() - posted);  // refused posts (stopping) never run
  return barrier.wait();
}

std::vector<const model::Message*> Engine::capabilities() const {
  std::vector<const model::Message*> out;
  if (states_.empty() || !states_[0] || !states_[0]->scheduler) return out;
  for (const auto& s : states_[0]->scheduler->services()) out.push_back(&s->capability());
  return out;
}

void Engine::stop() { group_.stop_all(); }

void Engine::join() {
  group_.join_all();
  states_.clear();  // the shard threads have ended and their loops are closed
}

}  // namespace mplane::runtime
