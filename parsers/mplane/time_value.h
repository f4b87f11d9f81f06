// Time points and durations with the Python RI's textual forms (PROTOCOL.md §2.2).
//
// All times are UTC, microsecond resolution, counted from 1970-01-01 00:00:00. No function
// here reads a clock: "now" is always an argument (STYLE C10).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "parsers/base/result.h"

namespace mplane::model {

// Microseconds since the Unix epoch, UTC.
using MicrosSinceEpoch = std::int64_t;
// A span of time in microseconds. The temporal-scope grammar only carries whole seconds.
using Micros = std::int64_t;

constexpr Micros kMicrosPerSecond = 1'000'000;
// The RI's `inf` duration: 100000 days.
constexpr Micros kInfiniteDuration = 100000LL * 86400LL * kMicrosPerSecond;
// Longest duration parse_duration() accepts (10^7 days, ~27,000 years): any sum of a
// representable time and a few durations then stays far from int64 overflow.
constexpr Micros kMaxDuration = 10'000'000LL * 86400LL * kMicrosPerSecond;
// Representable times, as Python's datetime: 0001-01-01 00:00:00 … 9999-12-31 23:59:59.999999.
constexpr MicrosSinceEpoch kMinTime = -62'135'596'800LL * kMicrosPerSecond;
constexpr MicrosSinceEpoch kMaxTime = 253'402'300'799LL * kMicrosPerSecond + 999'999;

enum class TimeKind : std::uint8_t { kAbsolute, kPast, kNow, kFuture };

// A point in a temporal scope or a `time` value: an absolute instant or one of the special
// times `past`, `now`, `future` (whose `us` is 0 and meaningless).
struct TimePoint {
  TimeKind kind = TimeKind::kAbsolute;
  MicrosSinceEpoch us = 0;

  static constexpr TimePoint absolute(MicrosSinceEpoch t) { return {TimeKind::kAbsolute, t}; }
  static constexpr TimePoint past() { return {TimeKind::kPast, 0}; }
  static constexpr TimePoint now() { return {TimeKind::kNow, 0}; }
  static constexpr TimePoint future() { return {TimeKind::kFuture, 0}; }
  bool is_absolute() const { return kind == TimeKind::kAbsolute; }
  friend bool operator==(const TimePoint& a, const TimePoint& b) {
    return a.kind == b.kind && (a.kind != TimeKind::kAbsolute || a.us == b.us);
  }
};

// Parses a time as the RI's parse_time does: `past`/`now`/`future`, else the prefix matching
// `(\d+-\d+-\d+)(\s+\d+:\d+(:\d+)?)?(\.\d+)?` (trailing text ignored, as the RI does), with a
// 4-digit year, 1–6 fractional digits, and calendar validation. Errors name the input.
Result<TimePoint> parse_time(std::string_view text);

// Appends the RI's emission: `YYYY-MM-DD HH:MM:SS.ffffff`, or `past`/`now`/`future`.
void append_time(std::string& out, TimePoint t);
std::string format_time(TimePoint t);

// Writes exactly 26 characters (`YYYY-MM-DD HH:MM:SS.ffffff`) for an absolute time at `out`.
// Hot path of the result writer: no allocation. Times outside [kMinTime, kMaxTime] are clamped.
void write_time26(char* out, MicrosSinceEpoch t) noexcept;

// Calendar helpers (proleptic Gregorian, UTC).
MicrosSinceEpoch make_time(int year, int month, int day, int hour, int minute, int second,
                           int micros) noexcept;
struct CivilTime {
  int year, month, day, hour, minute, second, micros;
  int weekday;  // Sunday = 0 … Saturday = 6 (the crontab numbering)
};
CivilTime civil_time(MicrosSinceEpoch t) noexcept;

// Parses a duration `[<n>d][<n>h][<n>m][<n>s]` (units in this order, at least one) or `inf`.
// Strict, unlike the RI (which silently reads garbage as 0 s): anything else, or a total above
// kMaxDuration, is an error.
Result<Micros> parse_duration(std::string_view text);

// Appends the RI's emission: whole seconds decomposed greedily into d/h/m/s, zero units
// omitted, `0s` for zero; `inf` comes out as `100000d`.
void append_duration(std::string& out, Micros d);
std::string format_duration(Micros d);

}  // namespace mplane::model
