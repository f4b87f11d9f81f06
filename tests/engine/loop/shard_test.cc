// Shard and ShardGroup: the cross-thread door, shutdown order, clean loop close, signals.
//
// No sleeps: tests wait on condition variables; every test case runs under a Watchdog that aborts
// the process (a reported crash, not a hang) if the case is not done within kDeadline.
#include <catch2/catch.hpp>

#include <pthread.h>
#include <uv.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/loop/shard.h"
#include "engine/loop/shard_group.h"
#include "engine/loop/start_barrier.h"

namespace mplane::loop {
namespace {

constexpr auto kDeadline = std::chrono::seconds(10);

// Aborts the test binary if not destroyed within kDeadline.
class Watchdog {
 public:
  explicit Watchdog(const char* what) : what_(what), thread_([this] { watch(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

 private:
  void watch() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kDeadline, [this] { return done_; })) {
      std::fprintf(stderr, "deadline exceeded: %s\n", what_);
      std::abort();
    }
  }
  const char* what_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// Counts down from n; wait() returns false if zero is not reached before kDeadline.
class Countdown {
 public:
  explicit Countdown(int n) : barrier_(static_cast<std::size_t>(n)) {}
  void count_down() { barrier_.done(); }
  [[nodiscard]] bool wait() { return barrier_.wait_for(kDeadline); }

 private:
  StartBarrier barrier_;
};

// Runs `f` on `shard` and waits for it; false if the post was refused or the deadline passed.
template <class F>
bool run_on(Shard& shard, F f) {
  Countdown done(1);
  if (!shard.post(make_task([&] {
        f();
        done.count_down();
      }))) {
    return false;
  }
  return done.wait();
}

uv_handle_t* as_handle(void* h) { return static_cast<uv_handle_t*>(h); }

TEST_CASE("Shard refuses posts before start and after stop, deleting the task",
          "[engine][loop][shard]") {
  Watchdog dog("post refusal");
  auto alive = std::make_shared<int>(0);
  Shard shard(0);
  CHECK_FALSE(shard.post(make_task([alive] { ++*alive; })));
  CHECK(alive.use_count() == 1);  // deleted on refusal, on this thread

  REQUIRE(shard.start());
  CHECK_FALSE(shard.start());  // once only
  REQUIRE(run_on(shard, [&] { ++*alive; }));
  CHECK(*alive == 1);

  shard.stop();
  shard.stop();                                               // idempotent
  CHECK_FALSE(shard.post(make_task([alive] { ++*alive; })));  // refused as soon as stop() returns
  CHECK(alive.use_count() == 1);
  shard.join();
  shard.join();  // idempotent
  CHECK_FALSE(shard.post(make_task([alive] { ++*alive; })));
  CHECK(*alive == 1);
  CHECK(shard.exit_status());
  CHECK(Shard::current() == nullptr);
}

TEST_CASE("Shard stopped before start refuses to start", "[engine][loop][shard]") {
  Shard shard(0);
  shard.stop();
  auto st = shard.start();
  REQUIRE_FALSE(st);
  CHECK(st.error() == "Shard::start: stopped");
  shard.join();  // never started: returns at once
}

TEST_CASE("Posts from several threads run exactly once, in order, on their shard's thread",
          "[engine][loop][shard]") {
  Watchdog dog("multi-producer posts");
  constexpr int kShards = 3;
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 5000;
  ShardGroup group(kShards);
  REQUIRE(group.size() == kShards);
  REQUIRE(group.start());

  std::vector<std::thread::id> shard_thread(kShards);
  {
    Countdown learned(kShards);
    CHECK(group.post_all([&](std::size_t i) {
      return make_task([&, i] {
        shard_thread[i] = std::this_thread::get_id();
        learned.count_down();
      });
    }) == kShards);
    REQUIRE(learned.wait());
  }
  for (const auto& id : shard_thread) CHECK(id != std::this_thread::get_id());

  // runs[p][s]: written only on the shard thread that ran (p, s); read after `all_done`.
  std::vector<std::vector<int>> runs(kProducers, std::vector<int>(kPerProducer, 0));
  std::vector<std::vector<int>> last_seq(kShards, std::vector<int>(kProducers, -1));
  std::atomic<int> misplaced{0};
  std::atomic<int> out_of_order{0};
  Countdown all_done(kProducers * kPerProducer);

  std::vector<std::thread> producers;
  producers.reserve(kProducers);
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int s = 0; s < kPerProducer; ++s) {
        const std::size_t target = static_cast<std::size_t>(s % kShards);
        const bool ok =
            group.post(target, make_task([&, p, s, target] {
                         Shard* cur = Shard::current();
                         if (cur != &group.shard(target) || cur->index() != target ||
                             std::this_thread::get_id() != shard_thread[target]) {
                           ++misplaced;
                         }
                         int& last = last_seq[target][static_cast<std::size_t>(p)];
                         if (s <= last) ++out_of_order;
                         last = s;
                         ++runs[static_cast<std::size_t>(p)][static_cast<std::size_t>(s)];
                         all_done.count_down();
                       }));
        if (!ok) ++misplaced;
      }
    });
  }
  for (auto& t : producers) t.join();
  REQUIRE(all_done.wait());
  CHECK(misplaced == 0);
  CHECK(out_of_order == 0);
  int not_once = 0;
  for (const auto& v : runs) {
    for (int n : v) not_once += n != 1;
  }
  CHECK(not_once == 0);
  CHECK_FALSE(group.post(kShards, make_task([] {})));  // out of range

  group.stop_all();
  group.join_all();
  std::uint64_t tasks_run = 0;
  for (std::size_t i = 0; i < kShards; ++i) {
    CHECK(group.shard(i).exit_status());
    tasks_run += group.shard(i).counters().tasks_run;
    CHECK(group.shard(i).counters().wakeups >= 1);
  }
  CHECK(tasks_run == kShards + kProducers * kPerProducer);
}

TEST_CASE("Every task accepted before stop() runs, even those still queued at stop",
          "[engine][loop][shard]") {
  Watchdog dog("accepted tasks run");
  constexpr int kTasks = 10000;
  Shard shard(0);
  REQUIRE(shard.start());
  int ran = 0;  // shard thread only until join
  for (int i = 0; i < kTasks; ++i) REQUIRE(shard.post(make_task([&] { ++ran; })));
  shard.stop();
  shard.join();
  CHECK(ran == kTasks);
  CHECK(shard.counters().tasks_run == kTasks);
  CHECK(shard.exit_status());
}

TEST_CASE("The shard thread is named and Shard::current() is set only there",
          "[engine][loop][shard]") {
  Watchdog dog("thread name");
  CHECK(Shard::current() == nullptr);
  Shard shard(7);
  REQUIRE(shard.start());
  std::string name;
  Shard* seen = nullptr;
  REQUIRE(run_on(shard, [&] {
    char buf[16] = {};
    pthread_getname_np(pthread_self(), buf, sizeof buf);
    name = buf;
    seen = Shard::current();
  }));
  CHECK(name == "mplane-shard-7");
  CHECK(seen == &shard);
}

TEST_CASE("A task calling uv_stop() does not end the shard", "[engine][loop][shard]") {
  Watchdog dog("uv_stop in task");
  Shard shard(0);
  REQUIRE(shard.start());
  REQUIRE(shard.post(make_task([] { uv_stop(Shard::current()->loop()); })));
  bool ran = false;
  REQUIRE(run_on(shard, [&] { ran = true; }));
  CHECK(ran);
}

// Handles left on the loop by a "careless owner", plus one owner that closes its own heap handle
// from a shutdown hook and frees it in the close callback (STYLE C7).
struct LoopLitter {
  uv_timer_t repeating{};
  uv_timer_t unreferenced{};
  uv_check_t check{};
  uv_async_t async{};
  uv_timer_t* owned = nullptr;
  int owned_closed = 0;
};

TEST_CASE("stop() runs hooks on the shard before closing every handle, the loop closes",
          "[engine][loop][shard]") {
  Watchdog dog("shutdown order");
  Shard shard(0);
  LoopLitter litter;
  std::vector<std::string> order;  // shard thread only until join
  std::thread::id hook_thread;
  std::thread::id shard_thread;
  bool handles_open_in_hook = false;
  int setup_errors = 0;  // Catch2 assertions are not thread-safe: count on the shard, check here

  REQUIRE(shard.start());
  REQUIRE(run_on(shard, [&] {
    uv_loop_t* loop = shard.loop();
    shard_thread = std::this_thread::get_id();
    auto noop_timer = [](uv_timer_t*) {};
    setup_errors += (uv_timer_init(loop, &litter.repeating) != 0);
    setup_errors += (uv_timer_start(&litter.repeating, noop_timer, 60000, 60000) != 0);
    setup_errors += (uv_timer_init(loop, &litter.unreferenced) != 0);
    setup_errors += (uv_timer_start(&litter.unreferenced, noop_timer, 60000, 0) != 0);
    uv_unref(as_handle(&litter.unreferenced));
    setup_errors += (uv_check_init(loop, &litter.check) != 0);
    setup_errors += (uv_check_start(&litter.check, [](uv_check_t*) {}) != 0);
    setup_errors += (uv_async_init(loop, &litter.async, [](uv_async_t*) {}) != 0);
    litter.owned = new uv_timer_t{};
    setup_errors += (uv_timer_init(loop, litter.owned) != 0);
    litter.owned->data = &litter;
    setup_errors += (uv_timer_start(litter.owned, noop_timer, 60000, 0) != 0);

    shard.add_shutdown_hook([&] {  // registered first: runs last
      order.push_back("owner");
      uv_close(as_handle(litter.owned), [](uv_handle_t* h) {
        ++static_cast<LoopLitter*>(h->data)->owned_closed;
        delete reinterpret_cast<uv_timer_t*>(h);
      });
    });
    shard.add_shutdown_hook([&] {
      order.push_back("observer");
      hook_thread = std::this_thread::get_id();
      handles_open_in_hook = uv_is_active(as_handle(&litter.repeating)) &&
                             !uv_is_closing(as_handle(&litter.repeating)) &&
                             Shard::current() == &shard;
      shard.add_shutdown_hook([&] { order.push_back("added by a hook"); });
    });
  }));

  CHECK(setup_errors == 0);
  shard.stop();
  shard.join();
  REQUIRE(shard.exit_status());  // uv_loop_close() == 0
  CHECK(order == std::vector<std::string>{"observer", "added by a hook", "owner"});
  CHECK(hook_thread == shard_thread);
  CHECK(handles_open_in_hook);
  CHECK(litter.owned_closed == 1);
  CHECK(uv_is_closing(as_handle(&litter.repeating)));
  CHECK(uv_is_closing(as_handle(&litter.unreferenced)));
  CHECK(uv_is_closing(as_handle(&litter.check)));
  CHECK(uv_is_closing(as_handle(&litter.async)));
}

struct Flood {
  Shard* shard = nullptr;
  uv_timer_t timer{};
  std::uint64_t tasks_when_timer_fired = 0;
  std::uint64_t wakeups_before = 0;
  int ran = 0;
};

TEST_CASE("The wake-up budget lets a timer fire in the middle of a flood of posts",
          "[engine][loop][shard]") {
  Watchdog dog("wake-up budget");
  constexpr int kFlood = 4 * Shard::kTasksPerWakeup;
  Shard shard(0);
  Flood flood;
  flood.shard = &shard;
  REQUIRE(shard.start());
  Countdown done(kFlood);
  REQUIRE(shard.post(make_task([&] {
    flood.wakeups_before = shard.counters().wakeups;
    // All pushed before this wake-up returns: without a budget they would all run in it.
    for (int i = 0; i < kFlood; ++i) {
      shard.post(make_task([&] {
        ++flood.ran;
        done.count_down();
      }));
    }
    uv_timer_init(shard.loop(), &flood.timer);
    flood.timer.data = &flood;
    uv_timer_start(
        &flood.timer,
        [](uv_timer_t* t) {
          auto* f = static_cast<Flood*>(t->data);
          f->tasks_when_timer_fired = f->shard->counters().tasks_run;
          uv_close(as_handle(t), nullptr);
        },
        0, 0);
  })));
  REQUIRE(done.wait());
  shard.stop();
  shard.join();
  CHECK(flood.ran == kFlood);
  CHECK(flood.tasks_when_timer_fired > 0);
  CHECK(flood.tasks_when_timer_fired < static_cast<std::uint64_t>(kFlood));
  CHECK(shard.counters().wakeups - flood.wakeups_before >= 4);
  CHECK(shard.exit_status());
}

TEST_CASE("install_signal_handlers: SIGINT/SIGTERM stop and join every shard, process survives",
          "[engine][loop][shard][signal]") {
  Watchdog dog("signal shutdown");
  const int signum = GENERATE(SIGTERM, SIGINT);
  ShardGroup group(2);
  CHECK_FALSE(group.install_signal_handlers());  // not started
  REQUIRE(group.start());
  REQUIRE(group.install_signal_handlers());
  REQUIRE(group.install_signal_handlers());  // idempotent
  std::atomic<int> hooks_run{0};
  for (std::size_t i = 0; i < group.size(); ++i) {
    REQUIRE(
        run_on(group.shard(i), [&, i] { group.shard(i).add_shutdown_hook([&] { ++hooks_run; }); }));
  }

  REQUIRE(raise(signum) == 0);  // handled by libuv's handler: the process must not terminate
  group.run_until_stopped();

  CHECK(hooks_run == 2);
  for (std::size_t i = 0; i < group.size(); ++i) {
    CHECK(group.shard(i).exit_status());
    CHECK_FALSE(group.shard(i).post(make_task([] {})));
  }
}

}  // namespace
}  // namespace mplane::loop
