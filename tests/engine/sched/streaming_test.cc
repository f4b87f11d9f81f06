// Scheduler::take_rows on a manual clock with the counter service: rows measured so far are
// handed over, later ones as they come, none are kept; a backlogged sink pauses the service
// until resume(); a later redemption says where the rows went.
#include <catch2/catch.hpp>

#include "engine/sched/scheduler.h"
#include "engine/services/counter_service.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

using model::kMicrosPerSecond;
using model::MessageKind;
using sched::Scheduler;

using test::kT0;
constexpr std::size_t kBatch = services::CounterService::kRowsPerBatch;

struct RecordingSink final : sched::RowSink {
  void begin(const sched::Reply& h) override {
    header = h;
    ++begins;
  }
  void row(std::span<const model::Value> r) override {
    REQUIRE(r.size() == 2);
    CHECK(r[0].as_natural() == rows);
    ++rows;
  }
  bool backlogged() const override { return full; }
  void finished(const sched::Reply& r) override { final = r; }
  sched::Reply header, final;
  int begins = 0;
  std::size_t rows = 0;
  bool full = false;
};

std::vector<sched::ServicePtr> counter() {
  std::vector<sched::ServicePtr> s;
  s.push_back(std::move(services::CounterService::create(test::registries()).value()));
  return s;
}

std::unique_ptr<json::OwnedMessage> counter_spec(std::size_t count) {
  auto m = test::parse(R"({"specification": "measure", "version": 1, "when": "now",
    "registry": "http://mplane-engine.org/registry/engine",
    "parameters": {"test.count": ")" +
                       std::to_string(count) +
                       R"(", "test.input": "x"}, "results": ["test.sequence", "test.output"]})");
  if (!m) FAIL(m.error().describe(""));
  return std::move(m.value());
}

TEST_CASE("counter: one batch per scheduler turn, every row kept without a sink",
          "[engine][sched][stream]") {
  Scheduler s(counter(), {}, nullptr);
  auto spec = counter_spec(kBatch * 4 + 10);
  const sched::Reply receipt = s.submit(spec->message, "", kT0);
  REQUIRE(receipt->kind == MessageKind::kReceipt);
  const std::string token(*receipt->token);
  const std::size_t first = s.row_count(token);  // whole batches, however many turns submit ran
  CHECK(first % kBatch == 0);
  CHECK(first > 0);
  s.advance(kT0);
  CHECK(s.row_count(token) == first + kBatch);  // timers set while advancing wait for the next turn
  while (!s.ready(token)) s.advance(kT0);
  const sched::Reply result = s.redeem(token, kT0);
  REQUIRE(result->kind == MessageKind::kResult);
  CHECK(result->row_count == kBatch * 4 + 10);
}

// A service that ends by itself: the end of its singleton scope (at once) does not stop it, a
// client interrupt does, with the rows made so far.
TEST_CASE("counter: a singleton scope runs to the end, a client interrupt stops it",
          "[engine][sched][stream]") {
  Scheduler s(counter(), {}, nullptr);
  auto spec = counter_spec(kBatch * 100);
  const sched::Reply receipt = s.submit(spec->message, "", kT0);
  REQUIRE(receipt->kind == MessageKind::kReceipt);
  const std::string token(*receipt->token);
  s.advance(kT0);
  s.advance(kT0);  // the scope's end is due: the rows go on
  CHECK_FALSE(s.ready(token));
  const std::size_t before = s.row_count(token);
  CHECK(before >= 2 * kBatch);
  const sched::Reply stopped = s.interrupt(token, kT0);
  REQUIRE(stopped->kind == MessageKind::kResult);
  CHECK(stopped->row_count >= before);
  CHECK(stopped->row_count < kBatch * 100);
}

TEST_CASE("take_rows: rows go to the sink, none are kept, backpressure pauses the service",
          "[engine][sched][stream]") {
  Scheduler s(counter(), {}, nullptr);
  const std::size_t total = kBatch * 5 + 7;
  auto spec = counter_spec(total);
  const std::string token(*s.submit(spec->message, "", kT0)->token);
  auto sink = std::make_shared<RecordingSink>();
  REQUIRE(s.take_rows(token, sink));
  CHECK(sink->begins == 1);
  REQUIRE(sink->header->kind == MessageKind::kResult);
  CHECK(sink->header->row_count == 0);
  CHECK(sink->header->columns.size() == 2);
  const std::size_t first = sink->rows;  // the rows measured before are handed over at once
  CHECK(first == s.row_count(token));
  CHECK(first > 0);
  CHECK_FALSE(s.take_rows(token, std::make_shared<RecordingSink>()));  // one sink per job

  sink->full = true;
  s.advance(kT0);  // one more batch, then the service sees the backlog and waits
  CHECK(sink->rows == first + kBatch);
  for (int i = 0; i < 3; ++i) s.advance(kT0 + i);
  CHECK(sink->rows == first + kBatch);  // paused: nothing scheduled
  CHECK((!s.next_deadline() || *s.next_deadline() > kT0 + 1000 * kMicrosPerSecond));

  sink->full = false;
  s.resume(token);
  s.resume(token);  // a second resume while running is ignored (no double production)
  while (!sink->final) s.advance(kT0 + 10);
  CHECK(sink->rows == total);
  REQUIRE(sink->final->kind == MessageKind::kResult);
  CHECK(sink->final->row_count == 0);  // the rows went to the sink
  CHECK(sink->final->when.has_value());

  const sched::Reply later = s.redeem(token, kT0 + 20);
  REQUIRE(later->kind == MessageKind::kException);
  CHECK_THAT(std::string(later->exception_text),
             Catch::Contains("streamed to the client that waited for it"));
}

TEST_CASE("take_rows refuses unknown and finished jobs", "[engine][sched][stream]") {
  Scheduler s(counter(), {}, nullptr);
  CHECK_FALSE(s.take_rows("nope", std::make_shared<RecordingSink>()));
  auto spec = counter_spec(3);
  const sched::Reply r = s.submit(spec->message, "", kT0);
  REQUIRE(r->kind == MessageKind::kResult);  // three rows: done in start()
  CHECK_FALSE(s.take_rows(*r->token, std::make_shared<RecordingSink>()));
}

}  // namespace
}  // namespace mplane
