// The `mplane` command line, run in-process: output lines, exit codes, error lines.
#include <catch2/catch.hpp>

#include <algorithm>
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

// Issue 10, item 16: every subcommand (and sub-subcommand) answers --help with its usage on
// stdout (exit 0) and an unknown option with one line on stderr (exit 2).
TEST_CASE("every subcommand: --help exits 0, an unknown option exits 2 with one line",
          "[engine][cli]") {
  const std::vector<std::vector<std::string>> commands = {
      {"msg"},       {"msg", "check"}, {"msg", "canon"},  {"msg", "token"}, {"run"},
      {"component"}, {"pki"},          {"pki", "init"},   {"pki", "issue"}, {"pki", "identity"},
      {"client"},    {"bench"},        {"bench", "http"}, {"capture"},
  };
  for (const auto& words : commands) {
    CAPTURE(words);
    for (const char* help : {"--help", "-h"}) {
      auto args = words;
      args.push_back(help);
      const Run r = run(args);
      CHECK(r.status == 0);
      CHECK_THAT(r.out, Catch::StartsWith("usage: mplane " + words[0]));
      CHECK(r.err.empty());
    }
    auto args = words;
    args.push_back("--no-such-flag");
    const Run bad = run(args);
    CHECK(bad.status == 2);
    CHECK_THAT(bad.err,
               Catch::StartsWith("mplane " + words[0]) && Catch::Contains("--no-such-flag"));
    CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
  }
  const Run top = run({"--no-such-flag"});
  CHECK(top.status == 2);
  CHECK(std::count(top.err.begin(), top.err.end(), '\n') == 1);
}

// The same rule where the line between the two was crossed: an argument that cannot be right
// whatever the files say is a usage error (2); a file or peer that is wrong is invalid input (1).
TEST_CASE("usage errors exit 2, invalid input exits 1, in every subcommand", "[engine][cli]") {
  const std::pair<std::vector<std::string>, int> cases[] = {
      {{"bench"}, 2},  // the help, on stderr
      {{"bench", "nope"}, 2},
      {{"bench", "http", "--url", "https://127.0.0.1:1/", "--spec", "/no/such.json"}, 2},
      {{"bench", "http", "--url", "http://127.0.0.1:1/", "--spec", "/no/such.json"}, 1},
      {{"bench", "http", "--url", "http://127.0.0.1:1/", "--spec", "x", "--duration", "x"}, 2},
      {{"component", "--config", "/no/such.conf"}, 1},
      {{"component", "--insecure", "--service", "nope"}, 2},
      {{"client", "--url", "http://127.0.0.1:1/", "--timeout", "x", "caps"}, 2},
      {{"client", "--url", "https://127.0.0.1:1/", "--ca", "/no/ca.crt", "caps"}, 2},
      {{"client", "--url", "nope", "caps"}, 2},
      {{"client", "--url", "http://127.0.0.1:1/", "redeem"}, 2},
      {{"client", "--url", "http://127.0.0.1:1/", "submit", "a", "b"}, 2},
      {{"client", "--url", "http://127.0.0.1:1/", "redeem", "t", "--wait=-1"}, 2},
      {{"client", "--url", "http://127.0.0.1:1/", "redeem", "t", "--wait", "soon"}, 2},
      {{"client", "--url", "https://127.0.0.1:1/", "--ca", "/no/ca.crt", "--cert", "/no/c.crt",
        "--key", "/no/c.key", "caps"},
       1},
      {{"client", "--config", "/no/such.conf", "caps"}, 1},
  };
  for (const auto& [args, status] : cases) {
    CAPTURE(args);
    const Run r = run(args);
    CHECK(r.status == status);
    if (args.size() > 1) CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

}  // namespace
}  // namespace mplane
