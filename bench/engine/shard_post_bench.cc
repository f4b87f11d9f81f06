// The cost of the cross-thread door (Shard::post) against running the same task on the calling
// thread, so the ratio is visible.
//
//  * BM_RunDirect: task->run() through a Task& (a virtual call) on the benchmark thread, same task
//    object every time: the floor.
//  * BM_AllocRunDelete: make_task + run + delete on the benchmark thread: what a post costs
//    before any thread is crossed (every posted task is a fresh allocation).
//  * BM_CrossShardPost/<batch>: post `batch` tasks to a running shard, then wait until all have
//    run. batch=1 is the round trip (post, wake the shard through its eventfd, run, observe);
//    larger batches show throughput when wake-ups coalesce.
//
// Every task does the same work: one release increment of a counter. Items/s counts tasks. On a
// 2-core machine the shard and the benchmark thread each get a core; the waiting side spins with
// sched_yield (a futex wait would measure the scheduler's wake-up latency instead).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "engine/loop/mpsc_queue.h"
#include "engine/loop/shard.h"

namespace mplane::loop {
namespace {

struct CountTask final : Task {
  explicit CountTask(std::atomic<std::uint64_t>* c) : counter(c) {}
  void run() noexcept override { counter->fetch_add(1, std::memory_order_release); }
  std::atomic<std::uint64_t>* counter;
};

void BM_RunDirect(benchmark::State& state) {
  std::atomic<std::uint64_t> counter{0};
  CountTask task(&counter);
  Task* t = &task;
  benchmark::DoNotOptimize(t);  // keep the call virtual
  for (auto _ : state) t->run();
  if (counter.load() != static_cast<std::uint64_t>(state.iterations())) {
    state.SkipWithError("task did not run once per iteration");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RunDirect);

void BM_AllocRunDelete(benchmark::State& state) {
  std::atomic<std::uint64_t> counter{0};
  for (auto _ : state) {
    Task* t = new CountTask(&counter);
    benchmark::DoNotOptimize(t);
    t->run();
    delete t;
  }
  if (counter.load() != static_cast<std::uint64_t>(state.iterations())) {
    state.SkipWithError("task did not run once per iteration");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AllocRunDelete);

void BM_CrossShardPost(benchmark::State& state) {
  const auto batch = static_cast<std::uint64_t>(state.range(0));
  std::atomic<std::uint64_t> counter{0};
  Shard shard(0);
  if (!shard.start()) {
    state.SkipWithError("shard did not start");
    return;
  }
  std::uint64_t target = 0;
  for (auto _ : state) {
    for (std::uint64_t i = 0; i < batch; ++i) {
      if (!shard.post(new CountTask(&counter))) {
        state.SkipWithError("post refused");
        break;
      }
    }
    target += batch;
    // Spin, yielding: on an idle 2-core machine the shard has the other core; when other work
    // shares the cores, a pure spin would hold the shard's core for a whole scheduler slice.
    while (counter.load(std::memory_order_acquire) < target) std::this_thread::yield();
  }
  shard.stop();
  shard.join();
  if (counter.load() != target || shard.counters().tasks_run != target) {
    state.SkipWithError("tasks run != tasks posted");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(target));
  state.counters["wakeups/task"] =
      target == 0 ? 0.0
                  : static_cast<double>(shard.counters().wakeups) / static_cast<double>(target);
}
BENCHMARK(BM_CrossShardPost)->Arg(1)->Arg(16)->Arg(256)->Arg(4096)->UseRealTime();

}  // namespace
}  // namespace mplane::loop

BENCHMARK_MAIN();
