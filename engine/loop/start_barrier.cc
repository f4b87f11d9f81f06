#include "engine/loop/start_barrier.h"

#include <algorithm>

namespace mplane::loop {

void StartBarrier::done(std::string_view error) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!error.empty() && error_.empty()) error_ = error;
  if (pending_ > 0) --pending_;
  cv_.notify_all();
}

void StartBarrier::forget(std::size_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  pending_ -= std::min(n, pending_);
  cv_.notify_all();
}

Status<> StartBarrier::wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [this] { return pending_ == 0; });
  if (!error_.empty()) return fail(error_);
  return Ok{};
}

bool StartBarrier::wait_for(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return cv_.wait_for(lock, timeout, [this] { return pending_ == 0; });
}

}  // namespace mplane::loop
