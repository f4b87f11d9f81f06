// libFuzzer target for temporal scopes (PROTOCOL.md §2.4).
//
// Property: a parsed scope's canonical text re-parses to the same scope and is a fixed point.
// The only difference allowed is the RI's: a duration-less inner scope (with its period) is
// dropped from the text. Everything that evaluates a scope is then run on it at two fixed
// "now"s; iteration is bounded by a small crontab scan budget.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "parsers/mplane/when.h"

using namespace mplane::model;

namespace {

constexpr MicrosSinceEpoch kNow = 1'893'499'200'000'000;  // 2030-01-01 12:00:00
constexpr MicrosSinceEpoch kEpoch = 0;
constexpr std::int64_t kScanBudgetSeconds = 2 * 86400;
constexpr int kSteps = 4;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// a == b except what the canonical text cannot carry (an inner period without inner duration).
bool same_after_round_trip(const When& a, const When& b) {
  const bool inner_period_kept =
      a.inner_duration() ? a.inner_period() == b.inner_period() : !b.inner_period();
  return a.repeated() == b.repeated() && a.start() == b.start() && a.end() == b.end() &&
         a.duration() == b.duration() && a.period() == b.period() && a.crontab() == b.crontab() &&
         a.inner_duration() == b.inner_duration() && inner_period_kept;
}

// Parses `text`, which must succeed, and checks that it is a canonical fixed point.
When reparse(const std::string& text) {
  auto r = When::parse(text);
  check(r.ok());
  check(r.value().canonical() == text);
  return r.value();
}

void run_semantics(const When& w, const When& other, MicrosSinceEpoch now) {
  const Interval iv = w.resolve(now);
  check(!iv.start || !iv.end || w.end() || *iv.start <= *iv.end);
  (void)w.resolved_duration(now);
  (void)w.is_definite();
  (void)w.in_scope(now, now);
  const TimerDelays d = w.timer_delays(now);
  check(d.start_delay >= 0);
  check(!d.expired || !d.end_delay);
  (void)w.follows(other, now);
  (void)other.follows(w, now);
  (void)reparse(w.envelope_scope(now).canonical());
}

void run_iteration(const When& w, MicrosSinceEpoch from) {
  OccurrenceIterator it(w, from);
  std::int64_t last = kMinTime - 1;
  for (int k = 0; k < kSteps; ++k) {
    const auto t = it.next(kScanBudgetSeconds);
    if (!t) continue;
    check(*t > last && *t <= kMaxTime);
    last = *t;
    const When sub = it.sub_scope(*t);
    check(reparse(sub.canonical()) == sub);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = When::parse(text);
  if (!parsed.ok()) {
    check(!parsed.error().empty());
    return 0;
  }
  const When& w = parsed.value();
  const std::string canonical = w.canonical();
  const When again = reparse(canonical);
  check(same_after_round_trip(w, again));
  check(reparse(again.canonical()) == again);

  const When capability = When::range(TimePoint::now(), TimePoint::future(), kMicrosPerSecond);
  for (const MicrosSinceEpoch now : {kNow, kEpoch}) {
    run_semantics(w, capability, now);
    run_semantics(w, w, now);
    run_iteration(w, now);
  }
  return 0;
}
