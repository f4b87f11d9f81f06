// StartBarrier: the one way a thread waits for shards. The owning thread posts `count` tasks
// (building each shard's state, installing a signal handler, …), each of which reports once with
// done(); wait() returns when all have, with the first error any of them reported.
//
//   StartBarrier barrier(group.size());
//   const std::size_t posted = group.post_all([&](std::size_t i) {
//     return make_task([&barrier, i] { barrier.done(set_up(i)); });
//   });
//   barrier.forget(group.size() - posted);  // refused posts never run
//   if (auto st = barrier.wait(); !st) return st;
//
// Threading: done() and forget() from any thread; wait() from a thread that is not one of the
// shards the tasks run on (it would wait for itself).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>

#include "parsers/base/result.h"

namespace mplane::loop {

class StartBarrier {
 public:
  explicit StartBarrier(std::size_t count) noexcept : pending_(count) {}
  StartBarrier(const StartBarrier&) = delete;
  StartBarrier& operator=(const StartBarrier&) = delete;

  // Once per task: its outcome (empty: success).
  void done(std::string_view error = {});
  // `n` of the tasks will never report (their post was refused).
  void forget(std::size_t n);
  // Blocks until every task has reported; the first error reported, if any.
  Status<> wait();
  // The same, giving up after `timeout` (tests): false if a task has not reported by then.
  [[nodiscard]] bool wait_for(std::chrono::milliseconds timeout);

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::size_t pending_;  // guarded by mutex_
  std::string error_;    // guarded by mutex_
};

}  // namespace mplane::loop
