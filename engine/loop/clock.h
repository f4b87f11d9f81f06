// Clocks (STYLE C10): three kinds of time, never mixed.
//
//  * Loop time, `uv_now(loop)`: milliseconds, cached once per loop iteration. Use it for timers
//    only; it is not provided here (timers read it from their loop).
//  * Wall time, `WallClock`: UTC microseconds since the Unix epoch. Use it for temporal scopes
//    (the `when` of a specification, result timestamps). It can jump (NTP steps, manual changes),
//    so never subtract two wall times to measure an interval.
//  * Monotonic time, `MonoClock`: nanoseconds on CLOCK_MONOTONIC (the clock behind uv_hrtime()
//    and std::chrono::steady_clock on Linux). Use it for everything reported as a measurement
//    (RTTs, handshake durations) and for intervals in general.
//
// The two time types are distinct std::chrono time points: subtracting a WallTime from a MonoTime
// does not compile. Logic takes `now` as an argument or holds a `const WallClock&` /
// `const MonoClock&` injected by its owner, so tests drive it with a ManualClock and never sleep.
//
// Threading: every clock here may be read from any thread. The method names differ
// (`wall_now()`, `mono_now()`) so that ManualClock can implement both interfaces and so that a call
// site says which time it reads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "parsers/base/result.h"

namespace mplane::loop {

// UTC, microseconds since 1970-01-01T00:00:00Z (leap seconds not counted, as in POSIX).
using WallTime = std::chrono::sys_time<std::chrono::microseconds>;
// CLOCK_MONOTONIC nanoseconds; the epoch is unspecified (boot on Linux): compare, never print.
using MonoTime = std::chrono::time_point<std::chrono::steady_clock, std::chrono::nanoseconds>;

// Source of wall time. Implementations: SystemWallClock; tests: ManualClock.
class WallClock {
 public:
  virtual ~WallClock() = default;
  // The current UTC time. Never fails.
  virtual WallTime wall_now() const noexcept = 0;
};

// Source of monotonic time. Implementations: SteadyMonoClock; tests: ManualClock.
class MonoClock {
 public:
  virtual ~MonoClock() = default;
  // The current monotonic time; never smaller than a value returned earlier. Never fails.
  virtual MonoTime mono_now() const noexcept = 0;
};

// clock_gettime(CLOCK_REALTIME), truncated to microseconds. Stateless; share one freely.
class SystemWallClock final : public WallClock {
 public:
  // WallClock
  WallTime wall_now() const noexcept override;
};

// uv_hrtime() (CLOCK_MONOTONIC, nanoseconds). Stateless; share one freely.
class SteadyMonoClock final : public MonoClock {
 public:
  // MonoClock
  MonoTime mono_now() const noexcept override;
};

// A clock that moves only when told to, for tests. Implements both interfaces; the two times are
// independent (set_wall() models an NTP step and does not move monotonic time). Starts at
// `wall_start` / MonoTime{} (zero). Reads and writes are atomic, so a test thread may move the
// clock while a shard reads it; a reader sees each value it could have seen in some order of the
// calls, but wall and mono are not updated together as one snapshot.
class ManualClock final : public WallClock, public MonoClock {
 public:
  explicit ManualClock(WallTime wall_start = WallTime{}) noexcept;

  // WallClock
  WallTime wall_now() const noexcept override;
  // MonoClock
  MonoTime mono_now() const noexcept override;

  // Sets wall time; it may go backwards (as a real wall clock may).
  void set_wall(WallTime t) noexcept;
  // Sets monotonic time. Fails, leaving the clock unchanged, if `t` is earlier than now.
  [[nodiscard]] Status<> set_mono(MonoTime t) noexcept;
  // Time passes: both clocks move by `d`. Wall time keeps sub-microsecond remainders, so many
  // small steps add up exactly. Fails, leaving the clock unchanged, if `d` is negative.
  [[nodiscard]] Status<> advance(std::chrono::nanoseconds d) noexcept;

 private:
  std::atomic<std::int64_t> wall_ns_;  // nanoseconds since the epoch; read as microseconds
  std::atomic<std::int64_t> mono_ns_;
};

}  // namespace mplane::loop
