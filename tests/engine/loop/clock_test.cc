// Clocks: the real ones agree with the OS, the manual one moves only when told to.
#include <catch2/catch.hpp>

#include <time.h>

#include <chrono>

#include "engine/loop/clock.h"

namespace mplane::loop {
namespace {

using std::chrono::microseconds;
using std::chrono::nanoseconds;

TEST_CASE("SystemWallClock reads UTC microseconds since the epoch", "[engine][loop][clock]") {
  SystemWallClock clock;
  const WallClock& wall = clock;
  const auto before = std::chrono::time_point_cast<microseconds>(std::chrono::system_clock::now());
  const WallTime now = wall.wall_now();
  const auto after = std::chrono::time_point_cast<microseconds>(std::chrono::system_clock::now());
  CHECK(before <= now);
  CHECK(now <= after + microseconds(1));
  // After 2020-01-01 (1577836800 s): a sanity check on the epoch and the unit.
  CHECK(now.time_since_epoch().count() > 1577836800LL * 1000000);
}

TEST_CASE("SteadyMonoClock is CLOCK_MONOTONIC in nanoseconds and never goes back",
          "[engine][loop][clock]") {
  SteadyMonoClock clock;
  const MonoClock& mono = clock;
  timespec ts{};
  REQUIRE(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
  const std::int64_t os_ns = ts.tv_sec * 1000000000LL + ts.tv_nsec;
  MonoTime prev = mono.mono_now();
  CHECK(prev.time_since_epoch().count() >= os_ns);
  for (int i = 0; i < 1000; ++i) {
    const MonoTime t = mono.mono_now();
    REQUIRE(t >= prev);
    prev = t;
  }
  // Same epoch as steady_clock on Linux (both CLOCK_MONOTONIC): within a second of each other.
  const auto diff = std::chrono::steady_clock::now() - mono.mono_now();
  CHECK(std::chrono::abs(diff) < std::chrono::seconds(1));
}

TEST_CASE("ManualClock moves only when told to", "[engine][loop][clock]") {
  const WallTime start{microseconds(1893499200000000LL)};  // 2030-01-01T12:00:00Z
  ManualClock clock(start);
  const WallClock& wall = clock;
  const MonoClock& mono = clock;
  CHECK(wall.wall_now() == start);
  CHECK(mono.mono_now() == MonoTime{});

  SECTION("advance moves both clocks; sub-microsecond steps add up on the wall clock") {
    for (int i = 0; i < 4; ++i) REQUIRE(clock.advance(nanoseconds(250)));
    CHECK(mono.mono_now().time_since_epoch() == nanoseconds(1000));
    CHECK(wall.wall_now() == start + microseconds(1));
    REQUIRE(clock.advance(std::chrono::seconds(2)));
    CHECK(wall.wall_now() == start + microseconds(2000001));
    CHECK(mono.mono_now().time_since_epoch() == nanoseconds(2000001000));
  }
  SECTION("negative advance is refused and changes nothing") {
    auto st = clock.advance(nanoseconds(-1));
    REQUIRE_FALSE(st);
    CHECK(st.error() == "ManualClock::advance: negative duration");
    CHECK(mono.mono_now() == MonoTime{});
    CHECK(wall.wall_now() == start);
  }
  SECTION("wall time may step backwards without moving monotonic time") {
    REQUIRE(clock.advance(nanoseconds(5000)));
    clock.set_wall(start - std::chrono::hours(1));
    CHECK(wall.wall_now() == start - std::chrono::hours(1));
    CHECK(mono.mono_now().time_since_epoch() == nanoseconds(5000));
  }
  SECTION("monotonic time may be set forwards but never backwards") {
    REQUIRE(clock.set_mono(MonoTime{nanoseconds(100)}));
    CHECK(mono.mono_now().time_since_epoch() == nanoseconds(100));
    REQUIRE(clock.set_mono(MonoTime{nanoseconds(100)}));  // equal is fine
    auto st = clock.set_mono(MonoTime{nanoseconds(99)});
    REQUIRE_FALSE(st);
    CHECK(mono.mono_now().time_since_epoch() == nanoseconds(100));
    CHECK(wall.wall_now() == start);
  }
  SECTION("wall time before the epoch floors to the earlier microsecond") {
    clock.set_wall(WallTime{microseconds(-3)});
    REQUIRE(clock.advance(nanoseconds(500)));  // -2.5 us
    CHECK(wall.wall_now() == WallTime{microseconds(-3)});
  }
}

}  // namespace
}  // namespace mplane::loop
