// Timer: an owned libuv timer. The uv_timer_t lives on the heap and is freed by its close
// callback, once libuv is done with it, so the owner may destroy a Timer at any moment on the
// loop's thread, from the timer's own callback too (STYLE: free a handle only after close_cb).
//
// Loop-thread only, like the loop. An owner that may be destroyed off the loop's thread (or
// after the loop is gone) calls close() on the loop's thread first, e.g. in a shard's shutdown
// hook; start() and stop() then do nothing, and the destructor leaves the closed handle alone.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>

namespace mplane::loop {

class Timer {
 public:
  explicit Timer(uv_loop_t* loop);
  ~Timer() { close(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Calls `fire` once after `delay` (loop time), replacing what was started before.
  void start(std::chrono::milliseconds delay, std::function<void()> fire);
  // Calls `fire` every `period` (the first time after one period), replacing what was started
  // before, until stop(), another start or the Timer's end.
  void start_repeating(std::chrono::milliseconds period, std::function<void()> fire);
  void stop();
  // Closes the handle now; the Timer stays, inert.
  void close();

 private:
  void arm(std::chrono::milliseconds delay, std::chrono::milliseconds repeat,
           std::function<void()> fire);
  static void on_fire(uv_timer_t* handle) noexcept;

  uv_timer_t* handle_;  // null once closed
  std::function<void()> fire_;
};

}  // namespace mplane::loop
