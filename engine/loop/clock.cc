#include "engine/loop/clock.h"

#include <time.h>
#include <uv.h>

#include <cstdio>
#include <cstdlib>

namespace mplane::loop {

WallTime SystemWallClock::wall_now() const noexcept {
  timespec ts{};
  // CLOCK_REALTIME always exists and `ts` is valid: a failure here is a broken platform (C3 tier
  // 3).
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
    std::fprintf(stderr, "mplane: clock_gettime(CLOCK_REALTIME) failed\n");
    std::abort();
  }
  const std::chrono::microseconds us =
      std::chrono::seconds(ts.tv_sec) +
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::nanoseconds(ts.tv_nsec));
  return WallTime(us);
}

MonoTime SteadyMonoClock::mono_now() const noexcept {
  return MonoTime(std::chrono::nanoseconds(static_cast<std::int64_t>(uv_hrtime())));
}

ManualClock::ManualClock(WallTime wall_start) noexcept
    : wall_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(wall_start.time_since_epoch())
                   .count()),
      mono_ns_(0) {}

WallTime ManualClock::wall_now() const noexcept {
  const std::chrono::nanoseconds ns(wall_ns_.load(std::memory_order_acquire));
  // floor, not truncation toward zero: times before 1970 stay ordered.
  return WallTime(std::chrono::floor<std::chrono::microseconds>(ns));
}

MonoTime ManualClock::mono_now() const noexcept {
  return MonoTime(std::chrono::nanoseconds(mono_ns_.load(std::memory_order_acquire)));
}

void ManualClock::set_wall(WallTime t) noexcept {
  wall_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count(),
                 std::memory_order_release);
}

Status<> ManualClock::set_mono(MonoTime t) noexcept {
  const std::int64_t want = t.time_since_epoch().count();
  std::int64_t cur = mono_ns_.load(std::memory_order_acquire);
  do {
    if (want < cur) return fail("ManualClock::set_mono: monotonic time cannot go backwards");
  } while (!mono_ns_.compare_exchange_weak(cur, want, std::memory_order_acq_rel));
  return Ok{};
}

Status<> ManualClock::advance(std::chrono::nanoseconds d) noexcept {
  if (d.count() < 0) return fail("ManualClock::advance: negative duration");
  mono_ns_.fetch_add(d.count(), std::memory_order_acq_rel);
  wall_ns_.fetch_add(d.count(), std::memory_order_acq_rel);
  return Ok{};
}

}  // namespace mplane::loop
