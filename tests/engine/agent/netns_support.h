// Test fixtures for the tun agent: a network namespace made for one test and always removed, the
// skip checks (root, /dev/net/tun), and a libuv loop run until a condition with a deadline.
#pragma once

#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "tests/skip_support.h"

// Skips unless root with /dev/net/tun (MPLANE_NO_SKIP=1 makes that a failure).
#define MPLANE_REQUIRE_TUN(why)                            \
  do {                                                     \
    MPLANE_REQUIRE_ROOT(why);                              \
    if (!std::filesystem::exists("/dev/net/tun"))          \
      MPLANE_SKIP("no /dev/net/tun: " + std::string(why)); \
  } while (0)

namespace mplane::test {

// `ip netns add mplane-test-PID-N` for the test's lifetime; `ip netns del` in the destructor
// (which also destroys the tun devices still inside, once their fds are closed).
class TestNetns {
 public:
  TestNetns()
      : name_("mplane-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter_)) {
    ok_ = std::system(("ip netns add " + name_ + " 2>/dev/null").c_str()) == 0;
  }
  ~TestNetns() {
    if (ok_) (void)std::system(("ip netns del " + name_).c_str());
  }
  TestNetns(const TestNetns&) = delete;
  TestNetns& operator=(const TestNetns&) = delete;
  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  bool ok_ = false;
  static inline std::atomic<int> counter_{0};
};

// Runs `loop` until `done()` or `timeout_ms` passed (a timer bounds every wait); done()'s value.
inline bool run_until(uv_loop_t* loop, const std::function<bool()>& done, int timeout_ms = 5000) {
  uv_timer_t timer;
  uv_timer_init(loop, &timer);
  bool expired = false;
  timer.data = &expired;
  uv_timer_start(
      &timer, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; },
      static_cast<std::uint64_t>(timeout_ms), 0);
  while (!done() && !expired) uv_run(loop, UV_RUN_ONCE);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);
  return done();
}

}  // namespace mplane::test
