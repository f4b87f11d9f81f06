#include "engine/runtime/scheduler_driver.h"

namespace mplane::runtime {

SchedulerDriver::SchedulerDriver(uv_loop_t* loop, sched::Scheduler& scheduler,
                                 const loop::WallClock& clock)
    : loop_(loop), scheduler_(scheduler), clock_(clock) {}

Status<> SchedulerDriver::start() {
  if (int rc = uv_timer_init(loop_, &timer_); rc != 0) {
    return fail(std::string("scheduler timer: ") + uv_strerror(rc));
  }
  if (int rc = uv_idle_init(loop_, &due_); rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
    return fail(std::string("scheduler idle handle: ") + uv_strerror(rc));
  }
  timer_.data = this;
  due_.data = this;
  started_ = true;
  return Ok{};
}

model::MicrosSinceEpoch SchedulerDriver::now() const {
  return clock_.wall_now().time_since_epoch().count();
}

void SchedulerDriver::pump() {
  scheduler_.advance(now());
  rearm();
}

void SchedulerDriver::rearm() {
  if (!started_ || closing_) return;
  const auto deadline = scheduler_.next_deadline();
  uv_timer_stop(&timer_);
  uv_idle_stop(&due_);
  if (!deadline) return;
  const model::Micros wait = std::max<model::Micros>(0, *deadline - now());
  if (wait == 0) {  // after this loop turn's I/O (see the header)
    uv_idle_start(&due_, &SchedulerDriver::on_due);
    return;
  }
  const auto ms = static_cast<std::uint64_t>((wait + 999) / 1000);  // never early
  uv_timer_start(&timer_, &SchedulerDriver::on_timer, ms, 0);
}

void SchedulerDriver::on_timer(uv_timer_t* timer) noexcept {
  static_cast<SchedulerDriver*>(timer->data)->pump();
}

void SchedulerDriver::on_due(uv_idle_t* idle) noexcept {
  auto* self = static_cast<SchedulerDriver*>(idle->data);
  uv_idle_stop(idle);
  self->pump();
}

void SchedulerDriver::close() {
  if (!started_ || closing_) return;
  closing_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&due_), nullptr);
}

}  // namespace mplane::runtime
