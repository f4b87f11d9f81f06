// Jobs scheduled and completed per second for the loopback service: inline (no thread hop),
// on one shard and on all shards, beside the cost of a bare cross-shard post in the same run
// (issue 3). Each posted task submits a batch of jobs to its shard's own scheduler.
#include <benchmark/benchmark.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "conf/builtin.h"
#include "engine/loop/shard_group.h"
#include "engine/sched/scheduler.h"
#include "engine/services/loopback_service.h"
#include "parsers/json/message_reader.h"

namespace {

using namespace mplane;

constexpr int kBatch = 64;
// Batches in flight per shard and iteration: throughput, not one round trip's latency.
constexpr int kInFlight = 8;

const model::RegistrySet& registries() {
  static const model::RegistrySet regs = std::move(conf::load_registries({}).value());
  return regs;
}

std::unique_ptr<json::OwnedMessage> loopback_spec() {
  json::MessageReader reader(registries());
  auto m = json::parse_owned(reader, R"({"specification": "measure", "version": 1,
    "registry": "http://mplane.corvid.ch/registry/loopback", "label": "bench", "when": "now",
    "parameters": {"test.input": "x"}, "results": ["test.output"]})");
  return std::move(m.value());
}

// One scheduler with the loopback service and a specification whose input changes per job, so
// that every submission is a distinct job (a distinct token).
struct Worker {
  Worker() : spec(loopback_spec()) {
    std::vector<sched::ServicePtr> services;
    services.push_back(std::move(services::LoopbackService::create(registries()).value()));
    sched::SchedulerOptions opts;
    opts.max_retained_results = 1024;  // steady state: memory stays bounded
    scheduler = std::make_unique<sched::Scheduler>(std::move(services), opts, nullptr);
  }
  // Submits n jobs; returns how many completed with a result.
  int submit(int n) {
    int ok = 0;
    for (int i = 0; i < n; ++i) {
      input = "job-" + std::to_string(counter++);
      spec->message.parameters[0].value = model::Value::string(input);
      now += 1;
      ok += scheduler->submit(spec->message, "", now)->kind == model::MessageKind::kResult;
    }
    return ok;
  }
  std::unique_ptr<json::OwnedMessage> spec;
  std::unique_ptr<sched::Scheduler> scheduler;
  std::string input;
  std::uint64_t counter = 0;
  model::MicrosSinceEpoch now = 1893499200LL * model::kMicrosPerSecond;
};

void BM_LoopbackJobsInline(benchmark::State& st) {
  Worker w;
  if (w.submit(1) != 1) st.SkipWithError("loopback job did not complete");
  for (auto _ : st) benchmark::DoNotOptimize(w.submit(kBatch));
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()) * kBatch);
}

// Waits until `done` reaches `target` (the shards bump and notify it).
void wait_for(std::atomic<std::uint64_t>& done, std::uint64_t target) {
  for (std::uint64_t v = done.load(); v < target; v = done.load()) done.wait(v);
}

// A shard group whose every shard owns a Worker, created on the shard's own thread.
struct Shards {
  explicit Shards(std::size_t n) : group(n), workers(n) {
    if (!group.start().ok()) std::abort();
    std::atomic<std::uint64_t> ready{0};
    group.post_all([&](std::size_t i) {
      return loop::make_task([this, i, &ready] {
        workers[i] = std::make_unique<Worker>();
        ready.fetch_add(1);
        ready.notify_all();
      });
    });
    wait_for(ready, n);
  }
  ~Shards() {
    std::atomic<std::uint64_t> gone{0};
    group.post_all([&](std::size_t i) {
      return loop::make_task([this, i, &gone] {
        workers[i].reset();  // destroyed on the shard that created it
        gone.fetch_add(1);
        gone.notify_all();
      });
    });
    wait_for(gone, workers.size());
    group.stop_all();
    group.join_all();
  }
  loop::ShardGroup group;
  std::vector<std::unique_ptr<Worker>> workers;
};

void run_on_shards(benchmark::State& st, std::size_t shards) {
  Shards s(shards);
  std::atomic<std::uint64_t> done{0};
  std::uint64_t target = 0;
  for (auto _ : st) {
    for (int b = 0; b < kInFlight; ++b) {
      for (std::size_t i = 0; i < shards; ++i) {
        s.group.post(i, loop::make_task([&s, &done, i] {
                       done.fetch_add(static_cast<std::uint64_t>(s.workers[i]->submit(kBatch)));
                       done.notify_all();
                     }));
      }
    }
    target += shards * kBatch * kInFlight;
    wait_for(done, target);
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(target));
}

void BM_LoopbackJobsOneShard(benchmark::State& st) { run_on_shards(st, 1); }
void BM_LoopbackJobsAllShards(benchmark::State& st) {
  run_on_shards(st, std::thread::hardware_concurrency());
}

// Baseline: one bare post per item to one shard and back (no job): the cross-shard door.
void BM_BarePostOneShard(benchmark::State& st) {
  Shards s(1);
  std::atomic<std::uint64_t> done{0};
  std::uint64_t target = 0;
  for (auto _ : st) {
    for (int k = 0; k < kBatch * kInFlight; ++k) {
      s.group.post(0, loop::make_task([&done] {
                     done.fetch_add(1);
                     done.notify_all();
                   }));
    }
    target += kBatch * kInFlight;
    wait_for(done, target);
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(target));
}

BENCHMARK(BM_LoopbackJobsInline);
BENCHMARK(BM_LoopbackJobsOneShard)->UseRealTime();
BENCHMARK(BM_LoopbackJobsAllShards)->UseRealTime();
BENCHMARK(BM_BarePostOneShard)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
