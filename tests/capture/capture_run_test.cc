// run_capture: a whole capture to its end on one shard or several, each shard's records to its
// own output; the same records whatever the number of shards; errors as values.
#include <catch2/catch.hpp>

#include <algorithm>
#include <thread>

#include "capture/capture_run.h"
#include "capture/output/flow_columns.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

// Keeps each record as its CSV line; checks it is called from one thread only.
struct Collect final : capture::RecordOutput {
  std::vector<std::string> lines;
  std::thread::id thread;
  bool one_thread = true;
  int flushes = 0;
  void add(const capture::FlowRecord& r) override {
    if (thread == std::thread::id()) thread = std::this_thread::get_id();
    one_thread = one_thread && thread == std::this_thread::get_id();
    std::string line;
    capture::append_csv_row(line, r);
    lines.push_back(line);
  }
  void flush() override { ++flushes; }
  bool failed() const override { return false; }
};

struct Run {
  capture::RunReport report;
  std::vector<std::string> lines;  // sorted, all shards
};

Run run_on(const std::string& file, std::size_t shards) {
  capture::RunOptions o;
  o.source.file = (test::pcaps_dir() / file).string();
  o.shards = shards;
  std::vector<Collect> outs(shards);
  std::vector<capture::RecordOutput*> ptrs;
  ptrs.reserve(shards);
  for (Collect& c : outs) ptrs.push_back(&c);
  auto report = capture::run_capture(o, ptrs);
  REQUIRE(report.ok());
  Run r{*report, {}};
  for (const Collect& c : outs) {
    CHECK(c.one_thread);
    CHECK(c.flushes >= 1);
    r.lines.insert(r.lines.end(), c.lines.begin(), c.lines.end());
  }
  std::sort(r.lines.begin(), r.lines.end());
  return r;
}

TEST_CASE("run_capture: the same records on one shard and on several", "[capture][run]") {
  for (const char* file : {"ndpi__netflix.pcap", "ndpi__alexa-app.pcapng"}) {
    INFO(file);
    const Run one = run_on(file, 1);
    REQUIRE(!one.lines.empty());
    CHECK(one.report.error.empty());
    CHECK(one.report.counters.packets > 0);
    for (std::size_t shards : {2, 3}) {
      const Run many = run_on(file, shards);
      CHECK(many.lines == one.lines);
      CHECK(many.report.counters.packets == one.report.counters.packets);
    }
  }
}

TEST_CASE("run_capture: a missing file or a wrong output count is an error", "[capture][run]") {
  capture::RunOptions o;
  o.source.file = "/nonexistent/file.pcap";
  Collect c;
  capture::RecordOutput* out = &c;
  auto r = capture::run_capture(o, std::span<capture::RecordOutput* const>(&out, 1));
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error(), Catch::Contains("/nonexistent/file.pcap"));
  o.shards = 2;
  auto r2 = capture::run_capture(o, std::span<capture::RecordOutput* const>(&out, 1));
  REQUIRE_FALSE(r2.ok());
  CHECK_THAT(r2.error(), Catch::Contains("one output per shard"));
}

}  // namespace
}  // namespace mplane
