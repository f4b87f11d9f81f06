// Runs a Scheduler on a libuv loop: one timer armed for the scheduler's next deadline, and
// the wall clock injected.
//
// Work that is due now (a service that yields with ctx.at(now)) runs from an idle handle, once
// per loop turn after the turn's I/O, not from a 0 ms timer: libuv (1.44) runs a timer that a
// timer callback re-arms for 0 ms again in the same timers phase, so a job that yields would
// hold the loop until it ends (no I/O, no signal, no interrupt).
//
// Loop-thread only. The driver embeds a uv_timer_t: call close() and let the loop run its close
// callback before destroying the driver (STYLE C7).
#pragma once

#include <uv.h>

#include "engine/loop/clock.h"
#include "engine/sched/scheduler.h"

namespace mplane::runtime {

class SchedulerDriver {
 public:
  SchedulerDriver(uv_loop_t* loop, sched::Scheduler& scheduler, const loop::WallClock& clock);
  SchedulerDriver(const SchedulerDriver&) = delete;
  SchedulerDriver& operator=(const SchedulerDriver&) = delete;

  // Initialises the timer. Errors name the libuv error.
  Status<> start();
  model::MicrosSinceEpoch now() const;
  // Runs what is due and re-arms the timer: call after every scheduler call made from outside
  // the driver's own timer (submissions, redemptions, interrupts).
  void pump();
  // Closes the timer; idempotent. The driver may be destroyed once the loop has run.
  void close();

 private:
  static void on_timer(uv_timer_t* timer) noexcept;
  static void on_due(uv_idle_t* idle) noexcept;
  void rearm();

  uv_loop_t* loop_;
  sched::Scheduler& scheduler_;
  const loop::WallClock& clock_;
  uv_timer_t timer_{};
  uv_idle_t due_{};
  bool started_ = false;
  bool closing_ = false;
};

}  // namespace mplane::runtime
