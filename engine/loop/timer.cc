#include "engine/loop/timer.h"

namespace mplane::loop {

Timer::Timer(uv_loop_t* loop) : handle_(new uv_timer_t) {
  uv_timer_init(loop, handle_);  // cannot fail on Unix: it only initialises the struct
  handle_->data = this;
}

void Timer::start(std::chrono::milliseconds delay, std::function<void()> fire) {
  arm(delay, std::chrono::milliseconds(0), std::move(fire));
}

void Timer::start_repeating(std::chrono::milliseconds period, std::function<void()> fire) {
  arm(period, period, std::move(fire));
}

void Timer::arm(std::chrono::milliseconds delay, std::chrono::milliseconds repeat,
                std::function<void()> fire) {
  if (handle_ == nullptr) return;
  fire_ = std::move(fire);
  uv_timer_start(handle_, on_fire, static_cast<std::uint64_t>(delay.count()),
                 static_cast<std::uint64_t>(repeat.count()));
}

void Timer::stop() {
  if (handle_ == nullptr) return;
  uv_timer_stop(handle_);
  fire_ = nullptr;
}

void Timer::close() {
  if (handle_ == nullptr) return;
  handle_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(handle_),
           [](uv_handle_t* h) noexcept { delete reinterpret_cast<uv_timer_t*>(h); });
  handle_ = nullptr;
  fire_ = nullptr;
}

// `fire` is moved out while it runs: it may start the timer again, stop, close or destroy it.
// The handle's memory is still valid after it returns (freed only by the close callback).
void Timer::on_fire(uv_timer_t* handle) noexcept {
  auto* self = static_cast<Timer*>(handle->data);
  if (self == nullptr || !self->fire_) return;
  auto fire = std::move(self->fire_);
  self->fire_ = nullptr;
  fire();
  // Still repeating with nothing new started: the same function fires next time.
  if (handle->data == self && uv_is_active(reinterpret_cast<uv_handle_t*>(handle)) &&
      !self->fire_) {
    self->fire_ = std::move(fire);
  }
}

}  // namespace mplane::loop
