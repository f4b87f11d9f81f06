// Skipping a test case that cannot run here. Catch2 v2 has no SKIP: MPLANE_SKIP(why) prints one
// line, "SKIPPED: why", and returns from the test case; the test binary's main
// (tests/catch_main.cc) then exits with kSkipExitCode when every test case it ran skipped, which
// ctest reports as "Skipped" (SKIP_RETURN_CODE in tests/CMakeLists.txt), not "Passed".
//
// Test peers (programs from shared/ beside the repository, e.g. the Python RI in peers/ri) may be
// absent from a clone: MPLANE_REQUIRE_PEER skips then, unless MPLANE_REQUIRE_PEERS=1 (set by CI,
// .ci/run, where shared/ is present), which makes a missing peer a failure.
//
// CI runs as root on a machine with every peer: nothing may skip there. With MPLANE_NO_SKIP=1 (set
// by .ci/run) every MPLANE_SKIP is a failure that names the reason, so a privileged test that
// silently stopped running (a lost capability, a missing device) turns CI red.
#pragma once

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>

namespace mplane::test {

inline constexpr int kSkipExitCode = 77;

// The test cases this process ran (the listener in catch_main.cc records them) and skipped.
struct SkipLedger {
  std::string current;
  std::set<std::string> ran;
  std::set<std::string> skipped;
};

inline SkipLedger& skip_ledger() {
  static SkipLedger ledger;
  return ledger;
}

// Once per test case (a case with sections runs several times).
inline void note_skip(const std::string& why) {
  SkipLedger& l = skip_ledger();
  if (l.skipped.insert(l.current).second) std::cerr << "SKIPPED: " << why << "\n";
}

inline bool peers_required() {
  const char* v = std::getenv("MPLANE_REQUIRE_PEERS");
  return v != nullptr && std::string(v) == "1";
}

inline bool skips_forbidden() {
  const char* v = std::getenv("MPLANE_NO_SKIP");
  return v != nullptr && std::string(v) == "1";
}

}  // namespace mplane::test

#define MPLANE_SKIP(why)                                                              \
  do {                                                                                \
    if (::mplane::test::skips_forbidden())                                            \
      FAIL("this test would skip, and MPLANE_NO_SKIP=1 forbids skipping: " << (why)); \
    ::mplane::test::note_skip(why);                                                   \
    return;                                                                           \
  } while (0)

// A test that needs root (raw sockets, live capture, tun devices): skips with `why` otherwise.
#define MPLANE_REQUIRE_ROOT(why)                                            \
  do {                                                                      \
    if (::geteuid() != 0) MPLANE_SKIP(std::string("needs root: ") + (why)); \
  } while (0)

// `program`: a test peer's program (a path); skips the test case when it is absent.
#define MPLANE_REQUIRE_PEER(program)                                                              \
  do {                                                                                            \
    const std::filesystem::path peer_ = (program);                                                \
    if (!std::filesystem::exists(peer_)) {                                                        \
      if (::mplane::test::peers_required())                                                       \
        FAIL("test peer " << peer_.string() << " is absent and MPLANE_REQUIRE_PEERS=1");          \
      MPLANE_SKIP("test peer " + peer_.string() +                                                 \
                  " is absent (it comes from shared/ beside the repository, MPLANE_SHARED_DIR)"); \
    }                                                                                             \
  } while (0)
