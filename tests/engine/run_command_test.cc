// `mplane run`, in-process: table and JSON output, receipts waited for, clear errors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/cli/command.h"
#include "tests/engine/cli_support.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

using Run = test::CliRun;

Run run(const std::vector<std::string>& args) { return test::run_cli(cli::run_main, args); }

std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("mplane_run_test_" + name);
  std::ofstream(path) << text;
  return path.string();
}

const char* const kLoopback = R"({"specification": "measure", "version": 1, "label": "loop-0",
  "registry": "http://mplane.corvid.ch/registry/loopback", "when": "now",
  "parameters": {"test.input": "hello"}, "results": ["test.output"]})";

TEST_CASE("mplane run prints a result table, or JSON", "[engine][cli][run]") {
  const std::string spec = write_temp("loop.json", kLoopback);
  Run table = run({"run", spec});
  CHECK(table.status == 0);
  CHECK_THAT(table.out, Catch::StartsWith("result loop-0  when "));
  CHECK_THAT(table.out, Catch::Contains("test.output\nhello\n(1 row)\n"));
  Run json = run({"run", spec, "--json"});
  CHECK(json.status == 0);
  auto parsed = test::parse(json.out);
  REQUIRE(parsed.ok());
  CHECK((*parsed)->message.kind == model::MessageKind::kResult);
  CHECK((*parsed)->message.columns[0].values[0].as_string() == "hello");
}

TEST_CASE("mplane run waits for a receipt's result", "[engine][cli][run]") {
  const std::string spec = write_temp("nap.json", R"({"specification": "measure", "version": 1,
    "label": "nap", "registry": "http://ict-mplane.eu/registry/core", "when": "now + 1s",
    "results": ["duration.ms"]})");
  Run r = run({"run", spec, "--config", (test::source_dir() / "conf/component.conf").string()});
  CHECK(r.status == 0);
  CHECK_THAT(r.err, Catch::StartsWith("mplane run: receipt "));
  CHECK_THAT(r.out, Catch::Contains("duration.ms"));
}

TEST_CASE("mplane run: errors are one clear line", "[engine][cli][run]") {
  Run none = run({"run", write_temp("none.json", R"({"specification": "measure", "version": 1,
    "registry": "http://ict-mplane.eu/registry/core", "when": "now", "results": ["octets.ip"]})")});
  CHECK(none.status == 1);
  CHECK(none.err == "mplane run: No service registered for specification\n");
  Run notspec = run({"run", test::vector_path("16_result_ping_average.json").string()});
  CHECK(notspec.status == 1);
  CHECK_THAT(notspec.err, Catch::Contains("not a specification but a result"));
  Run only = run({"run", write_temp("loop2.json", kLoopback), "--service", "sleep"});
  CHECK(only.status == 1);
  CHECK(only.err == "mplane run: No service registered for specification\n");
  Run badconf = run({"run", write_temp("loop3.json", kLoopback), "--config", "/nonexistent.conf"});
  CHECK(badconf.status == 1);
  CHECK_THAT(badconf.err, Catch::StartsWith("mplane run: /nonexistent.conf"));
  CHECK(run({"run"}).status == 2);
  Run help = run({"run", "--help"});
  CHECK(help.status == 0);
  CHECK_THAT(help.out, Catch::Contains("--config FILE"));
}

// `text` without the lines that hold the measured interval (it differs from run to run).
std::string without_when(const std::string& text) {
  std::istringstream in(text);
  std::string out, line;
  while (std::getline(in, line)) {
    if (line.find("when") == std::string::npos) out += line + "\n";
  }
  return out;
}

TEST_CASE("mplane run: a large result streams, printed as it would be whole",
          "[engine][cli][run]") {
  const std::string spec = write_temp("count.json", R"({"specification": "measure", "version": 1,
    "label": "count", "registry": "http://mplane-engine.org/registry/engine", "when": "now",
    "parameters": {"test.count": "2500", "test.input": "x"},
    "results": ["test.sequence", "test.output"]})");
  // The same service, its result kept whole (default threshold) and streamed past 10 rows.
  const std::string whole = write_temp("whole.conf", "[service_counter]\n");
  const std::string streamed =
      write_temp("streamed.conf", "[engine]\nstream-after-rows = 10\n[service_counter]\n");
  for (const char* format : {"--json", ""}) {
    std::vector<std::string> args = {"run", spec, "--config", whole};
    if (*format) args.push_back(format);
    const Run a = run(args);
    args[3] = streamed;
    const Run b = run(args);
    CHECK(a.status == 0);
    CHECK(b.status == 0);
    CHECK(b.out.size() == a.out.size());
    // The table too (its title line, with the interval, comes last past kHeldRows rows).
    CHECK(without_when(b.out) == without_when(a.out));
  }
  Run json = run({"run", spec, "--config", streamed, "--json"});
  auto parsed = test::parse(json.out);
  REQUIRE(parsed.ok());
  CHECK((*parsed)->message.row_count == 2500);
}

}  // namespace
}  // namespace mplane
