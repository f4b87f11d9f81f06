// ShardGroup: the process's shards, one per core (STYLE C8), started, addressed and stopped
// together, and (for the main group only) shut down cleanly on SIGINT / SIGTERM.
//
//   ShardGroup group(0);                       // one shard per hardware thread
//   if (auto st = group.start(); !st) return fail(st.error());
//   if (auto st = group.install_signal_handlers(); !st) return fail(st.error());
//   group.post_all([](std::size_t i) { return make_task([i] { /* set up shard i */ }); });
//   group.run_until_stopped();                 // main thread: returns after SIGINT/SIGTERM
//
// Threading: post(), post_all() and stop_all() may be called from any thread, shard threads
// included. The other members belong to the owning thread; join_all() and run_until_stopped()
// must not be called from a shard thread.
#pragma once

#include <uv.h>

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/loop/mpsc_queue.h"
#include "engine/loop/shard.h"
#include "parsers/base/result.h"

namespace mplane::loop {

class ShardGroup {
 public:
  // Creates `shard_count` shards, indexed 0..n-1 (0 means std::thread::hardware_concurrency(),
  // or 1 if that is unknown). Nothing is started.
  explicit ShardGroup(std::size_t shard_count = 0);
  // Stops and joins every shard. Must not run on a shard thread (aborts).
  ~ShardGroup();
  ShardGroup(const ShardGroup&) = delete;
  ShardGroup& operator=(const ShardGroup&) = delete;

  // Starts every shard. On failure, stops and joins the shards already started and returns the
  // first error; the group then refuses all posts. Call once, from the owning thread.
  [[nodiscard]] Status<> start() noexcept;

  std::size_t size() const noexcept { return shards_.size(); }
  // The shard at `index` (< size()). The reference is valid as long as the group.
  Shard& shard(std::size_t index) noexcept { return *shards_[index]; }

  // Posts `task` to shard `shard_index`, as Shard::post(): any thread; takes ownership; returns
  // false (after deleting the task) if the index is out of range or that shard is not accepting.
  bool post(std::size_t shard_index, Task* task) noexcept;
  bool post(std::size_t shard_index, TaskPtr task) noexcept {
    return post(shard_index, task.release());
  }

  // Posts `factory(i)` to every shard i, in index order. `factory` is called on the calling thread
  // and returns a TaskPtr (see make_task). Returns how many shards accepted their task.
  template <class Factory>
  std::size_t post_all(Factory&& factory) {
    static_assert(std::is_convertible_v<std::invoke_result_t<Factory&, std::size_t>, TaskPtr>,
                  "post_all: factory(std::size_t) must return a TaskPtr");
    std::size_t accepted = 0;
    for (std::size_t i = 0; i < shards_.size(); ++i) {
      if (shards_[i]->post(TaskPtr(factory(i)))) ++accepted;
    }
    return accepted;
  }

  // Shard::stop() on every shard. Any thread (including a shard, or the signal callback),
  // idempotent, does not wait.
  void stop_all() noexcept;
  // Shard::join() on every shard. Owning thread (not a shard thread).
  void join_all() noexcept;
  // For the main thread of a process: blocks until every shard has stopped (after stop_all(),
  // from a task, another thread, or a signal; see install_signal_handlers()) and been joined.
  void run_until_stopped() noexcept { join_all(); }

  // Makes SIGINT and SIGTERM call stop_all() instead of killing the process: uv_signal_t handles
  // on shard 0, started (and, at shard 0's shutdown, closed) on its thread. Call after start(),
  // from the owning thread; it waits until the handlers are in place, so a signal raised after it
  // returns is handled. Idempotent.
  //
  // Only the process's main group may call it: signal dispositions are process-wide, libuv
  // delivers a signal to every uv_signal_t watching it, and once shard 0 has shut down the
  // default disposition (terminate) is back. Fails if the group is not running or libuv refuses.
  [[nodiscard]] Status<> install_signal_handlers() noexcept;

 private:
  static void on_signal_cb(uv_signal_t* handle, int signum) noexcept;
  Status<> start_signal_handles() noexcept;  // on shard 0

  std::vector<std::unique_ptr<Shard>> shards_;
  bool started_ = false;
  bool signals_installed_ = false;
  // Owned by shard 0's thread once initialised; embedded here because the group outlives its
  // shards (the destructor joins them).
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
};

}  // namespace mplane::loop
