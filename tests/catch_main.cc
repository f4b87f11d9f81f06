// The one Catch2 main of the unit-test binary. It exits with test::kSkipExitCode when every test
// case it ran skipped (tests/skip_support.h), so that ctest reports those as skipped.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <csignal>

#include "tests/skip_support.h"

namespace {

struct SkipListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    mplane::test::SkipLedger& l = mplane::test::skip_ledger();
    l.current = info.name;
    l.ran.insert(info.name);
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(SkipListener)

int main(int argc, char* argv[]) {
  // As in the `mplane` binary (engine/main.cc): components, clients and test peers in this
  // process write sockets whose peer may have gone; that must be EPIPE, not a dead test run.
  std::signal(SIGPIPE, SIG_IGN);
  const int failed = Catch::Session().run(argc, argv);
  const mplane::test::SkipLedger& l = mplane::test::skip_ledger();
  if (failed == 0 && !l.ran.empty() && l.skipped.size() == l.ran.size()) {
    return mplane::test::kSkipExitCode;
  }
  return failed;
}
