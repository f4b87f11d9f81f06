// The scheduler on a manual clock: job semantics, periodic/repeated/crontab row counts,
// nothing early, nothing lost, interrupts, duplicates, overload and bounded memory.
#include <catch2/catch.hpp>

#include <random>

#include "engine/sched/scheduler.h"
#include "engine/services/loopback_service.h"
#include "engine/services/sleep_service.h"
#include "parsers/mplane/token.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

using model::kMicrosPerSecond;
using model::MessageKind;
using sched::Scheduler;

using test::kT0;

// A test service: one row (the current time) per period of its scope, on scheduler timers.
class TickService final : public sched::Service {
 public:
  explicit TickService(const std::string& when = "now ... future / 1s") {
    auto cap = test::parse(R"({"capability": "measure", "label": "tick", "version": 1,
      "registry": "http://ict-mplane.eu/registry/core", "when": ")" +
                           when + R"(",
      "results": ["time"]})");
    REQUIRE(cap.ok());
    cap_ = std::move(cap.value());
  }
  const model::Message& capability() const override { return cap_->message; }
  std::string name() const override { return "tick"; }

  void start(sched::JobContext& ctx) override {
    const model::When& w = *ctx.specification().when;
    const model::Interval iv = w.resolve(ctx.now());
    const model::Micros period = w.period().value_or(0);
    if (period == 0 || (iv.end && *iv.end <= ctx.now())) {
      tick(ctx);
      ctx.finish();
      return;
    }
    schedule(ctx, ctx.now(), iv.end, period);
  }

 private:
  static void tick(sched::JobContext& ctx) {
    const model::Value row[] = {model::Value::time(model::TimePoint::absolute(ctx.now()))};
    ctx.add_row(row);
  }
  void schedule(sched::JobContext& ctx, model::MicrosSinceEpoch t,
                std::optional<model::MicrosSinceEpoch> end, model::Micros period) {
    if (end && t >= *end) return;  // the end of the scope interrupts the job
    ctx.at(t, [this, &ctx, t, end, period] {
      tick(ctx);
      schedule(ctx, t + period, end, period);
    });
  }
  std::unique_ptr<json::OwnedMessage> cap_;
};

std::vector<sched::ServicePtr> services() {
  std::vector<sched::ServicePtr> s;
  s.push_back(std::move(services::LoopbackService::create(test::registries()).value()));
  s.push_back(std::move(services::SleepService::create(test::registries(), 0).value()));
  s.push_back(std::make_unique<TickService>());
  return s;
}

// Keeps the parsed specifications alive for the test.
struct Specs {
  std::vector<std::unique_ptr<json::OwnedMessage>> kept;
  const model::Message& operator()(const std::string& json) {
    auto m = test::parse(json);
    if (!m) FAIL(m.error().describe(json));
    kept.push_back(std::move(m.value()));
    return kept.back()->message;
  }
};

std::string loopback(const std::string& input, const std::string& when = "now") {
  return R"({"specification": "measure", "registry": "http://mplane.corvid.ch/registry/loopback",
    "when": ")" +
         when + R"(", "parameters": {"test.input": ")" + input +
         R"("}, "results": ["test.output"]})";
}
std::string sleep_spec(const std::string& when) {
  return R"({"specification": "measure", "registry": "http://ict-mplane.eu/registry/core",
    "label": "nap", "when": ")" +
         when + R"(", "results": ["duration.ms"]})";
}
std::string tick_spec(const std::string& when) {
  return R"({"specification": "measure", "registry": "http://ict-mplane.eu/registry/core",
    "label": "ticks", "when": ")" +
         when + R"(", "results": ["time"]})";
}

// Runs the scheduler's timers up to `until`, in steps, like a shard would.
void run_until(Scheduler& s, model::MicrosSinceEpoch until) {
  while (auto next = s.next_deadline()) {
    if (*next > until) break;
    s.advance(*next);
  }
  s.advance(until);
}

std::string token_of(const sched::Reply& r) { return std::string(r->token.value_or("")); }

TEST_CASE("loopback answers at once with the result", "[engine][sched]") {
  Scheduler s(services(), {}, nullptr);
  Specs specs;
  const model::Message& spec = specs(loopback("hello"));
  sched::Reply r = s.submit(spec, "", kT0);
  REQUIRE(r->kind == MessageKind::kResult);
  CHECK(token_of(r) == model::pv_hash(spec));
  REQUIRE(r->row_count == 1);
  CHECK(r->columns[0].values[0].as_string() == "hello");
  CHECK(r->when->is_definite());
  CHECK(model::validate(*r).ok());
}

TEST_CASE("receipt, redemption while running, result after the scope", "[engine][sched]") {
  sched::SchedulerOptions o;
  o.retention = 60 * kMicrosPerSecond;
  Scheduler s(services(), o, nullptr);
  Specs specs;
  sched::Reply r = s.submit(specs(sleep_spec("now + 10s")), "", kT0);
  REQUIRE(r->kind == MessageKind::kReceipt);
  const std::string token = token_of(r);
  run_until(s, kT0 + 5 * kMicrosPerSecond);
  CHECK(s.redeem(token, kT0 + 5 * kMicrosPerSecond)->kind == MessageKind::kReceipt);
  run_until(s, kT0 + 10 * kMicrosPerSecond);
  sched::Reply done = s.redeem(token, kT0 + 10 * kMicrosPerSecond);
  REQUIRE(done->kind == MessageKind::kResult);
  CHECK(done->columns[0].values[0].as_natural() == 10000);
  CHECK(done->when->canonical() == "2030-01-01 12:00:00.000000 ... 2030-01-01 12:00:10.000000");
  CHECK(s.redeem(token, kT0 + 11 * kMicrosPerSecond)->kind == MessageKind::kResult);  // retained
  run_until(s, kT0 + 11 * kMicrosPerSecond + o.retention);
  sched::Reply gone = s.redeem(token, kT0 + 12 * kMicrosPerSecond + o.retention);
  CHECK(gone->kind == MessageKind::kException);
  CHECK(gone->exception_text == "Unknown job");
}

TEST_CASE("by default a collected result is forgotten at once, as the RI does", "[engine][sched]") {
  Scheduler s(services(), {}, nullptr);
  Specs specs;
  sched::Reply r = s.submit(specs(sleep_spec("now + 1s")), "", kT0);
  const std::string token = token_of(r);
  run_until(s, kT0 + 2 * kMicrosPerSecond);
  CHECK(s.ready(token));
  CHECK(s.redeem(token, kT0 + 2 * kMicrosPerSecond)->kind == MessageKind::kResult);
  CHECK(s.redeem(token, kT0 + 2 * kMicrosPerSecond)->exception_text == "Unknown job");
  // A result in the reply to its specification is collected too.
  sched::Reply at_once = s.submit(specs(loopback("x")), "", kT0 + 3 * kMicrosPerSecond);
  REQUIRE(at_once->kind == MessageKind::kResult);
  CHECK(s.redeem(token_of(at_once), kT0 + 3 * kMicrosPerSecond)->exception_text == "Unknown job");
}

TEST_CASE("an interrupt stops the job and returns what was measured", "[engine][sched]") {
  Scheduler s(services(), {}, nullptr);
  Specs specs;
  sched::Reply r = s.submit(specs(tick_spec("now ... future / 1s")), "", kT0);
  REQUIRE(r->kind == MessageKind::kReceipt);
  run_until(s, kT0 + 4 * kMicrosPerSecond + 500000);
  sched::Reply stopped = s.interrupt(token_of(r), kT0 + 4 * kMicrosPerSecond + 500000);
  REQUIRE(stopped->kind == MessageKind::kResult);
  CHECK(stopped->row_count == 5);  // ticks at 0, 1, 2, 3, 4 s
  run_until(s, kT0 + 60 * kMicrosPerSecond);
  CHECK(s.redeem(token_of(r), kT0 + 60 * kMicrosPerSecond)->row_count == 5);  // nothing after
  CHECK(s.interrupt("nope", kT0)->exception_text == "Unknown job");
}

TEST_CASE("specifications that match nothing, or may not run", "[engine][sched]") {
  Scheduler s(services(), {}, nullptr);
  Specs specs;
  sched::Reply none = s.submit(specs(R"({"specification": "measure", "registry":
    "http://ict-mplane.eu/registry/core", "when": "now", "results": ["octets.ip"]})"),
                               "", kT0);
  CHECK(none->kind == MessageKind::kException);
  CHECK(none->exception_text == "No service registered for specification");
  CHECK(none->exception_token.has_value());
  s.set_access_hook([](std::string_view who, const model::Message& cap) {
    return who == "admin" || cap.label != "test-loopback";
  });
  CHECK(s.submit(specs(loopback("x")), "guest", kT0)->exception_text ==
        "User has no permission to request this capability");
  CHECK(s.submit(specs(loopback("x")), "admin", kT0)->kind == MessageKind::kResult);
  // A past scope does not follow a `now ... future` capability (as in the RI)...
  CHECK(s.submit(specs(sleep_spec("2020-01-01 00:00:00 ... 2020-01-01 01:00:00")), "", kT0)
            ->exception_text == "No service registered for specification");
  // ...and against a `past ... future` one it is expired: said, rather than a dead receipt.
  std::vector<sched::ServicePtr> v;
  v.push_back(std::make_unique<TickService>("past ... future"));
  Scheduler history(std::move(v), {}, nullptr);
  sched::Reply expired =
      history.submit(specs(tick_spec("2020-01-01 00:00:00 ... 2020-01-01 01:00:00")), "", kT0);
  CHECK_THAT(std::string(expired->exception_text), Catch::StartsWith("Expired specification"));
  CHECK(s.handle(specs(test::read_file(test::vector_path("16_result_ping_average.json"))), "", kT0)
            ->exception_text == "Unexpected message type");
}

TEST_CASE("duplicates: receipt while running, a new run once finished", "[engine][sched]") {
  Scheduler s(services(), {}, nullptr);
  Specs specs;
  const model::Message& spec = specs(sleep_spec("now + 5s"));
  sched::Reply first = s.submit(spec, "", kT0);
  sched::Reply again = s.submit(spec, "", kT0 + kMicrosPerSecond);
  CHECK(again->kind == MessageKind::kReceipt);
  CHECK(token_of(again) == token_of(first));
  CHECK(s.stats().submitted == 1);
  run_until(s, kT0 + 5 * kMicrosPerSecond);
  CHECK(s.ready(token_of(first)));
  sched::Reply rerun = s.submit(spec, "", kT0 + 5 * kMicrosPerSecond);
  CHECK(s.stats().submitted == 2);
  CHECK(token_of(rerun) == token_of(first));
}

TEST_CASE("overload: a bounded number of waiting jobs, then a clear exception", "[engine][sched]") {
  sched::SchedulerOptions opts;
  opts.max_jobs = 3;
  Scheduler s(services(), opts, nullptr);
  Specs specs;
  for (int i = 0; i < 3; ++i) {
    CHECK(s.submit(specs(sleep_spec("now + " + std::to_string(10 + i) + "s")), "", kT0)->kind ==
          MessageKind::kReceipt);
  }
  sched::Reply over = s.submit(specs(sleep_spec("now + 20s")), "", kT0);
  CHECK(over->kind == MessageKind::kException);
  CHECK_THAT(std::string(over->exception_text), Catch::StartsWith("Overloaded: 3 jobs"));
  CHECK(s.stats().overloaded == 1);
  run_until(s, kT0 + 15 * kMicrosPerSecond);
  CHECK(s.submit(specs(sleep_spec("now + 20s")), "", kT0 + 15 * kMicrosPerSecond)->kind ==
        MessageKind::kReceipt);
}

TEST_CASE("periodic scopes: one row per period, nothing early, nothing lost", "[engine][sched]") {
  std::mt19937 rng(42);
  for (int round = 0; round < 50; ++round) {
    Scheduler s(services(), {}, nullptr);
    Specs specs;
    const int period = 1 + static_cast<int>(rng() % 5);
    const int periods = 1 + static_cast<int>(rng() % 20);
    const int delay = static_cast<int>(rng() % 30);
    const model::MicrosSinceEpoch start = kT0 + delay * kMicrosPerSecond;
    const std::string when = model::format_time(model::TimePoint::absolute(start)) + " + " +
                             std::to_string(period * periods) + "s / " + std::to_string(period) +
                             "s";
    CAPTURE(when);
    sched::Reply r = s.submit(specs(tick_spec(when)), "", kT0);
    const std::string token = token_of(r);
    model::MicrosSinceEpoch t = kT0;
    const model::MicrosSinceEpoch end = start + period * periods * kMicrosPerSecond;
    while (t < end + 2 * kMicrosPerSecond) {
      t += 1 + static_cast<model::Micros>(rng() % (3 * kMicrosPerSecond));
      run_until(s, t);
      const model::Micros elapsed = std::min(t, end - 1) - start;
      const long due =
          t < start ? 0 : std::min<long>(periods, elapsed / (period * kMicrosPerSecond) + 1);
      sched::Reply now = s.redeem(token, t);
      const std::size_t rows = now->kind == MessageKind::kResult ? now->row_count : 0;
      if (now->kind == MessageKind::kReceipt) {
        CHECK(static_cast<long>(rows) <= due);  // nothing early
      } else {
        CHECK(t >= end);                                   // finished only at the end of the scope
        CHECK(rows == static_cast<std::size_t>(periods));  // nothing lost
        break;
      }
    }
    CHECK(!s.ready(token));  // collected: forgotten
  }
}

TEST_CASE("repeated scopes give an envelope of one result per occurrence", "[engine][sched]") {
  Scheduler s(services(), {}, nullptr);
  Specs specs;
  sched::Reply r = s.submit(
      specs(
          tick_spec("repeat 2030-01-01 12:00:00 ... 2030-01-01 12:00:50 / 10s { now + 3s / 1s }")),
      "", kT0);
  CHECK(r->kind == MessageKind::kReceipt);  // the first occurrence runs for 3 s
  run_until(s, kT0 + 25 * kMicrosPerSecond);
  sched::Reply partial = s.redeem(token_of(r), kT0 + 25 * kMicrosPerSecond);
  REQUIRE(partial->kind == MessageKind::kEnvelope);
  CHECK(partial->contents.size() == 3);  // 12:00:00, :10, :20 have finished
  run_until(s, kT0 + 60 * kMicrosPerSecond);
  sched::Reply all = s.redeem(token_of(r), kT0 + 60 * kMicrosPerSecond);
  REQUIRE(all->kind == MessageKind::kEnvelope);
  REQUIRE(all->contents.size() == 6);  // 0, 10, 20, 30, 40, 50 s
  for (const model::Message& m : all->contents) CHECK(m.row_count == 3);
  CHECK(all->when->canonical() ==
        "2030-01-01 12:00:00.000000 ... 2030-01-01 12:00:50.000000 / 10s");
  CHECK(all->contents[1].when->canonical() ==
        "2030-01-01 12:00:10.000000 ... 2030-01-01 12:00:13.000000");
}

TEST_CASE("crontab scopes fire on matching seconds only", "[engine][sched]") {
  Scheduler s(services(), {}, nullptr);
  Specs specs;
  // Every minute at second 30, for five minutes.
  sched::Reply r = s.submit(specs(tick_spec("repeat 2030-01-01 12:00:00 ... 2030-01-01 12:05:00 "
                                            "cron 30 * * * * * { now + 2s / 1s }")),
                            "", kT0);
  run_until(s, kT0 + 10 * 60 * kMicrosPerSecond);
  sched::Reply all = s.redeem(token_of(r), kT0 + 10 * 60 * kMicrosPerSecond);
  REQUIRE(all->kind == MessageKind::kEnvelope);
  REQUIRE(all->contents.size() == 5);
  CHECK(all->contents[0].when->canonical() ==
        "2030-01-01 12:00:30.000000 ... 2030-01-01 12:00:32.000000");
  CHECK(all->contents[4].row_count == 2);
}

TEST_CASE("interrupting a repeated specification stops its occurrences", "[engine][sched]") {
  Scheduler s(services(), {}, nullptr);
  Specs specs;
  sched::Reply r =
      s.submit(specs(tick_spec("repeat now ... future / 10s { now + 3s / 1s }")), "", kT0);
  run_until(s, kT0 + 21 * kMicrosPerSecond);
  sched::Reply stopped = s.interrupt(token_of(r), kT0 + 21 * kMicrosPerSecond);
  REQUIRE(stopped->kind == MessageKind::kEnvelope);
  CHECK(stopped->contents.size() == 3);  // 0 and 10 complete, 20 cut after 2 ticks
  CHECK(stopped->contents[2].row_count == 2);
  run_until(s, kT0 + 100 * kMicrosPerSecond);
  CHECK(s.redeem(token_of(r), kT0 + 100 * kMicrosPerSecond)->contents.size() == 3);
  CHECK(s.next_deadline() > kT0 + 100 * kMicrosPerSecond);  // only the retention timer is left
}

TEST_CASE("a withdrawn capability answers with its withdrawal", "[engine][sched]") {
  Scheduler s(services(), {}, nullptr);
  Specs specs;
  CHECK(!s.withdraw("no-such-label"));
  REQUIRE(s.withdraw("test-loopback"));
  sched::Reply r = s.submit(specs(loopback("x")), "", kT0);
  REQUIRE(r->kind == MessageKind::kWithdrawal);
  CHECK(token_of(r) == model::mpcv_hash(s.services()[0]->capability()));
  CHECK(model::validate(*r).ok());
  CHECK(s.withdrawals().size() == 1);
  CHECK(s.submit(specs(sleep_spec("now + 1s")), "", kT0)->kind == MessageKind::kReceipt);
}

TEST_CASE("rows stream to a listener as they are measured", "[engine][sched]") {
  Scheduler s(services(), {}, nullptr);
  Specs specs;
  sched::Reply r = s.submit(specs(tick_spec("now + 5s / 1s")), "", kT0);
  std::vector<model::MicrosSinceEpoch> seen;
  REQUIRE(s.stream_rows(token_of(r), [&](std::span<const model::Value> row) {
    seen.push_back(row[0].as_time().us);
  }));
  run_until(s, kT0 + 2 * kMicrosPerSecond);
  CHECK(seen.size() == 2);  // the tick at 0 s came before the subscription
  run_until(s, kT0 + 10 * kMicrosPerSecond);
  CHECK(seen.size() == 4);
  CHECK(seen.back() == kT0 + 4 * kMicrosPerSecond);
  CHECK(!s.stream_rows(token_of(r), [](std::span<const model::Value>) {}));  // completed
}

TEST_CASE("pruning keeps memory bounded whatever the number of submissions", "[engine][sched]") {
  sched::SchedulerOptions opts;
  opts.max_retained_results = 100;
  opts.result_retention = 60 * kMicrosPerSecond;
  Scheduler s(services(), opts, nullptr);
  Specs specs;
  for (int i = 0; i < 20000; ++i) {
    const model::MicrosSinceEpoch t = kT0 + i * 1000;
    sched::Reply r = s.submit(specs(loopback("input-" + std::to_string(i))), "", t);
    REQUIRE(r->kind == MessageKind::kResult);
    CHECK(s.stats().retained <= 100);
    if (specs.kept.size() > 1000) specs.kept.clear();
  }
  CHECK(s.stats().active == 0);
  CHECK(s.stats().pruned >= 19900);
  run_until(s, kT0 + 3600 * kMicrosPerSecond);
  CHECK(s.stats().retained == 0);
  CHECK(!s.next_deadline().has_value());
}

}  // namespace
}  // namespace mplane
