// The skip mechanism itself (tests/skip_support.h): a skipping test case is reported as skipped
// (exit code 77, one "SKIPPED: why" line) and, where skips are forbidden (MPLANE_NO_SKIP=1, as in
// CI), fails naming its reason. The test binary runs itself on a hidden probe case.
#include <catch2/catch.hpp>

#include "tests/process_support.h"
#include "tests/skip_support.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

// Hidden (not run by default): always skips.
TEST_CASE("skip probe", "[.skip-probe]") { MPLANE_SKIP("the probe always skips"); }

std::string self_path() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

TEST_CASE("a skipping test is reported as skipped, with its reason", "[skip]") {
  test::TempFile out("");
  test::Process p(test::Program{self_path(), {"MPLANE_NO_SKIP=0"}}, {"[.skip-probe]"}, out.path);
  CHECK(p.wait_for(30'000) == test::kSkipExitCode);
  CHECK_THAT(p.err(), Catch::Contains("SKIPPED: the probe always skips"));
}

TEST_CASE("where skips are forbidden a skipping test fails, naming its reason", "[skip]") {
  test::TempFile out("");
  test::Process p(test::Program{self_path(), {"MPLANE_NO_SKIP=1"}}, {"[.skip-probe]"}, out.path);
  const int status = p.wait_for(30'000);
  CHECK(status != 0);
  CHECK(status != test::kSkipExitCode);
  CHECK_THAT(p.out(), Catch::Contains("MPLANE_NO_SKIP=1 forbids skipping: the probe"));
}

}  // namespace
}  // namespace mplane
