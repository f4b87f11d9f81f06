// Temporal scopes (`when`), PROTOCOL.md §2.4: grammar, the RI's canonical text, resolution
// against an injected "now", containment, the `follows` rule of fulfills(), timer delays and
// iteration of repeated (periodic and crontab) scopes.
//
// A When is a plain value: it owns no external memory and never reads a clock.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "parsers/base/result.h"
#include "parsers/mplane/time_value.h"

namespace mplane::model {

// A crontab: each field is the set of values it matches. Seconds/minutes 0..59, hours 0..23
// (the RI emits `*` as 0..59 for hours; we keep that text for token compatibility, so hour
// values 24..59 parse and never match), days of month 1..31, weekdays 0..6 (Sunday = 0; the
// RI's never-matching 7 is rejected), months 1..12. Empty or reversed ranges are rejected.
struct Crontab {
  std::bitset<60> seconds, minutes, hours;
  std::bitset<32> days;  // bit 0 unused
  std::bitset<7> weekdays;
  std::bitset<13> months;   // bit 0 unused
  bool hours_star = false;  // `*` (or its expansion 0..59) in the hour field (RI bug, see above)

  static Result<Crontab> parse(std::string_view six_fields);
  void append_canonical(std::string& out) const;
  bool matches(MicrosSinceEpoch t) const noexcept;  // whole second t
  friend bool operator==(const Crontab&, const Crontab&) = default;
};

// Absolute interval a scope stands for at a given "now". `end` absent = unbounded (future or
// open-ended); `start` absent = unbounded in the past.
struct Interval {
  std::optional<MicrosSinceEpoch> start;
  std::optional<MicrosSinceEpoch> end;
};

// Delays of RI timer_delays (§2.4.3), relative to now.
struct TimerDelays {
  Micros start_delay = 0;
  std::optional<Micros> end_delay;  // absent: runs until interrupted
  bool expired = false;             // the scope is entirely in the past: nothing runs
};

class When {
 public:
  // Parses any form of the grammar (singleton, + duration, range, period, repeat, cron, inner
  // scope). Strict about durations (unlike the RI). The error names the scope text and why.
  static Result<When> parse(std::string_view text);

  // Builders for code that makes scopes (services, results).
  static When singleton(TimePoint at);
  static When range(TimePoint start, TimePoint end, std::optional<Micros> period = {});
  static When span(TimePoint start, Micros duration, std::optional<Micros> period = {});

  // The RI's canonical serialisation (§2.4.2), byte-exact: it goes into tokens.
  void append_canonical(std::string& out) const;
  std::string canonical() const;

  // Accessors.
  bool repeated() const { return repeated_; }
  TimePoint start() const { return start_; }
  std::optional<TimePoint> end() const { return end_; }
  std::optional<Micros> duration() const { return duration_; }
  std::optional<Micros> period() const { return period_; }  // outer period when repeated
  const std::optional<Crontab>& crontab() const { return cron_; }
  std::optional<Micros> inner_duration() const { return inner_duration_; }
  std::optional<Micros> inner_period() const { return inner_period_; }

  // Semantics (§2.4.3). `now` is the caller's wall-clock UTC.
  bool is_definite() const;                      // start absolute, end absent or absolute
  Interval resolve(MicrosSinceEpoch now) const;  // absolute interval of the (outer) scope
  std::optional<Micros> resolved_duration(MicrosSinceEpoch now) const;  // absent = unbounded
  bool in_scope(MicrosSinceEpoch t, MicrosSinceEpoch now) const;
  // The temporal part of fulfills(): does this (specification) scope follow `capability`?
  bool follows(const When& capability, MicrosSinceEpoch now) const;
  TimerDelays timer_delays(MicrosSinceEpoch now) const;
  // For a result envelope of a repeated scope: `T(start) [... T(end)] [/ period]`, resolved.
  When envelope_scope(MicrosSinceEpoch now) const;

  friend bool operator==(const When&, const When&) = default;

 private:
  friend class OccurrenceIterator;
  bool repeated_ = false;
  TimePoint start_ = TimePoint::now();
  std::optional<TimePoint> end_;
  std::optional<Micros> duration_;
  std::optional<Micros> period_;
  std::optional<Crontab> cron_;
  std::optional<Micros> inner_duration_;
  std::optional<Micros> inner_period_;
};

// Iterates the occurrences of a repeated scope as the RI's When.iterator does: from `from`
// (microseconds zeroed), jumping to the outer start if later; step = outer period (or 1 s
// scanning a crontab); inclusive outer end computed once (and never after kMaxTime). Each
// occurrence is a sub-scope `T(occurrence) [+ inner_duration] [/ inner_period]` (the RI keeps
// an inner period even without inner duration). Crontab scanning is bounded per call by
// `max_scan_seconds` so that a scope that never matches cannot hang the caller. A non-repeated
// scope (which the RI refuses to iterate) yields no occurrence. Keep `repeated` alive.
class OccurrenceIterator {
 public:
  OccurrenceIterator(const When& repeated, MicrosSinceEpoch from);
  OccurrenceIterator(When&& repeated, MicrosSinceEpoch from) = delete;  // would dangle
  // The next occurrence time, or nullopt when the scope is exhausted (or the scan budget ran
  // out without a match: then exhausted() is false and next() may be called again).
  std::optional<MicrosSinceEpoch> next(std::int64_t max_scan_seconds = 400LL * 86400);
  bool exhausted() const { return exhausted_; }
  // The sub-scope of an occurrence.
  When sub_scope(MicrosSinceEpoch occurrence) const;

 private:
  const When* when_;
  MicrosSinceEpoch t_;
  std::optional<MicrosSinceEpoch> end_;
  Micros step_;
  bool exhausted_ = false;
};

}  // namespace mplane::model
