// The `mplane` command line, run in-process: output lines, exit codes, error lines.
#include <catch2/catch.hpp>

#include <sstream>

#include "engine/cli/command.h"
#include "tests/engine/cli_support.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

using Run = test::CliRun;

Run run(std::vector<std::string> args) { return test::run_cli(cli::run_main, args); }

std::string vec(const char* name) { return test::vector_path(name).string(); }

TEST_CASE("mplane msg check prints one RI-style line per message", "[engine][cli]") {
  Run r = run({"msg", "check", vec("08_specification_ping_absolute.json")});
  CHECK(r.status == 0);
  CHECK(r.out ==
        "<specification: measure (ping-average-ip4-0) when 2030-01-01 12:00:00.000000 + 1m / 1s "
        "token d821d3a1 schema e2ca42e6 p(v)/m/r 2(2)/0/4>\n");
  Run env = run({"msg", "check", vec("26_envelope_multijob_results.json")});
  CHECK(env.status == 0);
  CHECK_THAT(env.out, Catch::StartsWith(
                          "<envelope: message (ping-average-ip4-2) when 2030-01-01 12:00:00.000000 "
                          "/ 1h token 304ce313 contents 2>\n  <result: measure"));
  CHECK_THAT(env.out, Catch::Contains("p/m/r(r) 2/0/4(1)>"));
}

TEST_CASE("mplane msg check stops at the first invalid message", "[engine][cli]") {
  Run r = run({"msg", "check", vec("02_capability_ping_average_ip4.json"),
               vec("29_invalid_unknown_element.json"), vec("08_specification_ping_absolute.json")});
  CHECK(r.status == 1);
  CHECK_THAT(r.out, Catch::Contains("02_capability_ping_average_ip4.json: <capability"));
  CHECK(r.out.find("08_specification") == std::string::npos);
  CHECK_THAT(r.err, Catch::Contains("29_invalid_unknown_element.json: line "));
  CHECK_THAT(
      r.err,
      Catch::EndsWith(
          "parameters.destination.ipv4: Key error: destination.ipv4 not present in registries\n"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("mplane msg token prints token, default-token and schema", "[engine][cli]") {
  Run r = run({"msg", "token", vec("09_specification_ping_relative_token.json")});
  CHECK(r.status == 0);
  CHECK(r.out ==
        "token 5a1b6c3f0e9d4b2a8c7f6e5d4c3b2a19\n"
        "default-token 7df0017342fbcbd726df97c82f789edf\n"
        "schema e2ca42e60e5e998c7b7bc1fc439129b4\n");
  Run exc = run({"msg", "token", vec("25_exception_null_token.json")});
  CHECK(exc.status == 0);
  CHECK(exc.out.empty());
  Run only = run({"msg", "token", vec("21_redemption_token_only.json")});
  CHECK(only.out == "token d821d3a1b9ce56c4826ce01aac92a64c\n");
}

TEST_CASE("mplane msg canon prints the RI layout", "[engine][cli]") {
  Run r = run({"msg", "canon", vec("16_result_ping_average.json")});
  CHECK(r.status == 0);
  CHECK(r.out == test::read_file(test::vector_path("16_result_ping_average.json")));
}

TEST_CASE("msg with --registry FILE adds registries, unknown ones are errors", "[engine][cli]") {
  const std::string registry = (test::source_dir() / "tests/data/test_registry.json").string();
  const std::string spec = (test::source_dir() / "tests/data/extra_spec.json").string();
  Run without = run({"msg", "check", spec});
  CHECK(without.status == 1);
  CHECK_THAT(without.err, Catch::Contains("Key error: test.extra not present in registries"));
  Run ok = run({"msg", "check", "--registry", registry, spec});
  CHECK(ok.status == 0);
  CHECK_THAT(ok.out, Catch::StartsWith("<specification: measure (extra-0)"));
  Run missing = run({"msg", "check", "--registry", "/nope.json", spec});
  CHECK(missing.status == 1);
  CHECK(missing.err == "mplane msg: /nope.json: cannot open registry file\n");
}

TEST_CASE("usage errors exit 2 with one line, --help describes options", "[engine][cli]") {
  CHECK(run({}).status == 2);
  Run unknown = run({"frobnicate"});
  CHECK(unknown.status == 2);
  CHECK(unknown.err == "mplane: unknown command 'frobnicate' (run `mplane --help` for the list)\n");
  Run bad = run({"msg", "check", "--bogus", "x"});
  CHECK(bad.status == 2);
  CHECK(bad.err == "mplane msg check: unknown option --bogus (see mplane msg --help)\n");
  CHECK(run({"msg", "check"}).status == 2);
  Run help = run({"msg", "token", "--help"});
  CHECK(help.status == 0);
  CHECK_THAT(help.out, Catch::Contains("--registry FILE"));
  CHECK_THAT(help.out, Catch::Contains("--explain"));
  Run top = run({"--help"});
  CHECK_THAT(top.out, Catch::Contains("msg"));
  Run missing = run({"msg", "check", "/no/such.json"});
  CHECK(missing.status == 1);
  CHECK(missing.err == "mplane msg: /no/such.json: cannot open file\n");
}

}  // namespace
}  // namespace mplane
