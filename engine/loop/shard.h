// Shard: one thread running one libuv loop, and the only door into it from other threads
// (STYLE C8).
//
// Everything a shard owns (its loop, the handles on it, the objects that embed them, its counters)
// is touched only by the shard's thread. Other threads may call exactly three members: post(),
// stop() and join() (the last only from outside the shard). Work crosses threads as a Task pushed
// into the shard's lock-free inbox followed by uv_async_send() on the shard's wake-up handle.
// Wake-ups coalesce, so the wake-up callback drains the inbox, at most kTasksPerWakeup tasks per
// callback (STYLE C9), re-arming itself when more remain so timers and I/O are not starved.
//
// Lifecycle:
//   Shard shard(0);
//   if (auto st = shard.start(); !st) { ... st.error() ... }
//   shard.post(make_task([] { uv_loop_t* loop = Shard::current()->loop(); ... }));
//   shard.stop();   // any thread, any number of times
//   shard.join();   // not from the shard's own thread
//
// Shutdown, in this order, on the shard's thread:
//   1. stop() closes the door: every later post() returns false. Tasks accepted before that
//      (post() returned true) all still run, in inbox order.
//   2. Shutdown hooks run, last registered first, so owners interrupt jobs, flush, and uv_close()
//      their handles (their close callbacks free their objects, STYLE C7).
//   3. Every handle still open is closed with uv_walk + uv_close(handle, nullptr): a safety net
//      for handles whose owner registered no hook. Their memory is not freed by anyone here, so it
//      must be embedded in, or owned by, an object that outlives the shard.
//   4. The loop runs until uv_loop_close() returns 0 (see exit_status()), the thread exits.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/loop/mpsc_queue.h"
#include "parsers/base/result.h"

namespace mplane::loop {

// Per-shard counters: one cache line per shard so shards never share a line (STYLE C8). Written
// only by the shard's thread; read them from a task posted to the shard, or after join().
struct alignas(64) ShardCounters {
  std::uint64_t tasks_run = 0;  // tasks whose run() returned (including those run at shutdown)
  std::uint64_t wakeups = 0;    // wake-up callbacks (coalesced uv_async_send()s)
};

class Shard {
 public:
  using ShutdownHook = std::function<void()>;

  // Most tasks one wake-up callback runs before yielding to the rest of the loop (STYLE C9). A
  // task is a few hundred nanoseconds to a few microseconds, so 1024 keeps one callback well under
  // a millisecond: loop timers (millisecond resolution) stay on time under a flood of posts.
  static constexpr int kTasksPerWakeup = 1024;

  // `index` names the shard (thread name "mplane-shard-<index>") and is returned by index().
  // Nothing is started: posts are refused until start() succeeds.
  explicit Shard(std::size_t index) noexcept;
  // Stops and joins the shard if it is running. Must not run on the shard's own thread (aborts).
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // Initialises the loop and its wake-up handle, then starts the thread. Call once, from the
  // owning thread. Fails (with the libuv error text) if the loop, the async handle or the thread
  // cannot be created, if start() was already called, or if stop() came first; on failure the
  // shard holds no resources and refuses posts (a task another thread managed to post while the
  // failed start() was in progress is deleted without running).
  [[nodiscard]] Status<> start() noexcept;

  // THE cross-thread door. Any thread, including the shard's own. Takes ownership of `task`
  // (non-null, allocated with new). Returns true if the task was accepted: it will run exactly
  // once on the shard's thread and then be deleted there, even if stop() comes in between.
  // Returns false, after deleting `task` on the calling thread, if the shard is not started or
  // stop() has been called. Tasks pushed from one thread run in the order they were pushed.
  bool post(Task* task) noexcept;
  bool post(TaskPtr task) noexcept { return post(task.release()); }

  // Asks the shard to shut down (see the file comment). Any thread, idempotent, does not wait:
  // join() does. From the moment stop() returns, every post() is refused. Before start() it only
  // makes start() fail.
  void stop() noexcept;

  // Waits for the shard's thread to exit (after stop(), from any thread). Returns at once if the
  // thread was never started or was already joined. Must not be called from the shard's own thread
  // (that would deadlock: aborts instead). Not thread-safe against itself: one joiner.
  void join() noexcept;

  // --- Shard thread only (or, where said, after join()) ---

  // The shard running on the calling thread, or nullptr outside any shard thread.
  static Shard* current() noexcept;
  // The shard's loop. Use it only on the shard's thread.
  uv_loop_t* loop() noexcept { return &loop_; }
  std::size_t index() const noexcept { return index_; }
  // Registers `hook` to run on the shard's thread at shutdown, before handles are closed. Call it
  // on the shard's thread, or before start(). Hooks run once, last registered first; a hook may
  // register further hooks (they run in the same pass). A hook may still use the loop, close
  // handles and post to other shards; posts to this shard are refused by then.
  void add_shutdown_hook(ShutdownHook hook);
  // Shard thread, or after join().
  const ShardCounters& counters() const noexcept { return counters_; }
  // After join(): Ok if the loop closed cleanly (uv_loop_close() == 0), else why not.
  const Status<>& exit_status() const noexcept { return exit_status_; }

 private:
  // gate_ = kClosed bit | number of post()/stop() calls between their check and their
  // uv_async_send(). Shutdown waits for the count to reach zero before closing the async handle,
  // so no thread ever calls uv_async_send() on a closed handle or a closed loop.
  static constexpr std::uint64_t kClosed = std::uint64_t{1} << 63;

  static void thread_main(void* arg) noexcept;
  static void on_wakeup_cb(uv_async_t* handle) noexcept;
  void run() noexcept;
  void on_wakeup() noexcept;
  void run_task(Task* task) noexcept;
  void shut_down() noexcept;
  void wait_for_posters() noexcept;
  void run_shutdown_hooks() noexcept;
  Status<> close_loop() noexcept;
  bool closed() const noexcept;

  const std::size_t index_;
  alignas(64) std::atomic<std::uint64_t> gate_{kClosed};  // closed until start() opens it
  std::atomic<bool> stop_requested_{false};
  MpscQueue<Task> inbox_;
  uv_loop_t loop_{};
  uv_async_t wakeup_{};
  uv_thread_t thread_{};
  bool started_ = false;  // owner thread only
  bool joined_ = false;   // owner thread only
  std::vector<ShutdownHook> shutdown_hooks_;
  Status<> exit_status_ = Ok{};
  ShardCounters counters_;
};

}  // namespace mplane::loop
