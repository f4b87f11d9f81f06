// loop::Timer: one-shot and repeating, restarted, stopped, closed and destroyed from its own
// callback; the loop closes cleanly after each (no handle left behind).
#include <catch2/catch.hpp>

#include <uv.h>

#include <chrono>
#include <memory>

#include "engine/loop/timer.h"

namespace mplane::loop {
namespace {

using std::chrono::milliseconds;

// A private loop, run a bounded number of iterations (a timer left running fails the test
// instead of hanging it), closed at the end.
class TestLoop {
 public:
  TestLoop() { REQUIRE(uv_loop_init(&loop_) == 0); }
  ~TestLoop() {
    if (!closed_) uv_loop_close(&loop_);
  }
  TestLoop(const TestLoop&) = delete;
  TestLoop& operator=(const TestLoop&) = delete;
  uv_loop_t* get() { return &loop_; }
  // True when the loop ran out of work within `iterations`.
  bool run_to_end(int iterations = 100) {
    for (int i = 0; i < iterations; ++i) {
      if (uv_run(&loop_, UV_RUN_ONCE) == 0) return true;
    }
    return false;
  }
  // Every handle closed and freed: uv_loop_close succeeds.
  bool closes() {
    closed_ = run_to_end() && uv_loop_close(&loop_) == 0;
    return closed_;
  }

 private:
  uv_loop_t loop_{};
  bool closed_ = false;
};

TEST_CASE("a one-shot timer fires once", "[engine][loop][timer]") {
  TestLoop loop;
  Timer timer(loop.get());
  int fired = 0;
  timer.start(milliseconds(1), [&] { ++fired; });
  CHECK(loop.run_to_end());
  CHECK(fired == 1);
  timer.close();  // the handle is freed once the loop runs its close callback
  CHECK(loop.closes());
}

TEST_CASE("a repeating timer fires until stopped", "[engine][loop][timer]") {
  TestLoop loop;
  Timer timer(loop.get());
  int fired = 0;
  timer.start_repeating(milliseconds(1), [&] {
    if (++fired == 3) timer.stop();
  });
  CHECK(loop.run_to_end());
  CHECK(fired == 3);
  timer.close();  // the handle is freed once the loop runs its close callback
  CHECK(loop.closes());
}

TEST_CASE("a timer started again from its callback runs the new function",
          "[engine][loop][timer]") {
  TestLoop loop;
  Timer timer(loop.get());
  int first = 0;
  int second = 0;
  timer.start_repeating(milliseconds(1), [&] {
    ++first;
    timer.start(milliseconds(1), [&] { ++second; });
  });
  CHECK(loop.run_to_end());
  CHECK(first == 1);
  CHECK(second == 1);
  timer.close();  // the handle is freed once the loop runs its close callback
  CHECK(loop.closes());
}

TEST_CASE("a timer destroyed by its own callback is freed once closed", "[engine][loop][timer]") {
  TestLoop loop;
  auto timer = std::make_unique<Timer>(loop.get());
  int fired = 0;
  timer->start_repeating(milliseconds(1), [&] {
    ++fired;
    timer.reset();
  });
  CHECK(loop.closes());
  CHECK(fired == 1);
  CHECK(timer == nullptr);
}

TEST_CASE("a timer destroyed or closed before it fires never fires", "[engine][loop][timer]") {
  std::unique_ptr<Timer> closed;  // outlives the loop: its destructor leaves the handle alone
  TestLoop loop;
  int fired = 0;
  {
    Timer destroyed(loop.get());
    destroyed.start(milliseconds(1), [&] { ++fired; });
  }
  closed = std::make_unique<Timer>(loop.get());
  closed->start(milliseconds(1), [&] { ++fired; });
  closed->close();
  closed->start(milliseconds(1), [&] { ++fired; });  // inert once closed
  CHECK(loop.closes());
  CHECK(fired == 0);
}

}  // namespace
}  // namespace mplane::loop
