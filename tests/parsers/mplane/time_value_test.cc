// Times and durations in the RI's textual forms (PROTOCOL.md §2.2).
#include "parsers/mplane/time_value.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

using namespace mplane::model;

namespace {

std::string reformat(std::string_view text) {
  auto r = parse_time(text);
  INFO(text);
  REQUIRE(r.ok());
  return format_time(r.value());
}

MicrosSinceEpoch at(std::string_view text) {
  auto r = parse_time(text);
  INFO(text);
  REQUIRE(r.ok());
  REQUIRE(r.value().is_absolute());
  return r.value().us;
}

}  // namespace

TEST_CASE("parse_time accepts the RI forms and emits 6 fractional digits", "[parsers][time]") {
  auto [input, expected] = GENERATE(table<const char*, const char*>({
      {"2014-01-01", "2014-01-01 00:00:00.000000"},
      {"2014-01-01 10:00", "2014-01-01 10:00:00.000000"},
      {"2014-1-2 3:04:05.5", "2014-01-02 03:04:05.500000"},
      {"2014-08-25 14:51:02.623", "2014-08-25 14:51:02.623000"},
      {"2009-02-20 13:02:15", "2009-02-20 13:02:15.000000"},
      {"2030-01-01 12:00:00.019", "2030-01-01 12:00:00.019000"},
      {"2030-01-01 12:00:01.5", "2030-01-01 12:00:01.500000"},
      {"2030-01-01 12:00:00.000001", "2030-01-01 12:00:00.000001"},
      {"2030-01-01 12:00:00.999999", "2030-01-01 12:00:00.999999"},
      {"2014-01-01 \t  10:00:00", "2014-01-01 10:00:00.000000"},  // \s+ between date and time
      {"2016-02-29", "2016-02-29 00:00:00.000000"},
      {"2000-02-29 23:59:59", "2000-02-29 23:59:59.000000"},
      {"1969-12-31 23:59:59.999999", "1969-12-31 23:59:59.999999"},
      {"0001-01-01", "0001-01-01 00:00:00.000000"},
      {"9999-12-31 23:59:59.999999", "9999-12-31 23:59:59.999999"},
      // Trailing text after the matched prefix is ignored, as by the RI.
      {"2013-07-30 23:19:42Z", "2013-07-30 23:19:42.000000"},
      {"2014-01-01 10:00:00+01:00", "2014-01-01 10:00:00.000000"},  // offset dropped, not applied
      {"2014-01-01 10", "2014-01-01 00:00:00.000000"},
      {"2014-01-01 10:00:", "2014-01-01 10:00:00.000000"},
      {"2014-01-01 10:00:00.", "2014-01-01 10:00:00.000000"},
      {"2014-01-01 10:00:00 ... and more", "2014-01-01 10:00:00.000000"},
      // ISO `T`: the RI reads midnight; we read the time (PROTOCOL.md §2.2 rule 4: "support it
      // properly").
      {"2014-01-01T10:00:00", "2014-01-01 10:00:00.000000"},
      {"2014-01-01T10:00:00.25Z", "2014-01-01 10:00:00.250000"},
      {"2014-01-01Tnoon", "2014-01-01 00:00:00.000000"},
      {"past", "past"},
      {"now", "now"},
      {"future", "future"},
  }));
  CHECK(reformat(input) == expected);
}

TEST_CASE("parse_time special times have their kinds", "[parsers][time]") {
  CHECK(parse_time("past").value() == TimePoint::past());
  CHECK(parse_time("now").value() == TimePoint::now());
  CHECK(parse_time("future").value() == TimePoint::future());
  CHECK(parse_time("2014-01-01").value() == TimePoint::absolute(make_time(2014, 1, 1, 0, 0, 0, 0)));
}

TEST_CASE("parse_time rejects what the RI rejects, naming the input", "[parsers][time]") {
  auto [input, reason] = GENERATE(table<const char*, const char*>({
      {"", ""},
      {"Now", ""},
      {"now ", ""},
      {" 2014-01-01", ""},
      {"yesterday", ""},
      {"2014-01", ""},
      {"2014/01/01", ""},
      {"-2014-01-01", ""},
      {"14-01-01", "year must be 4 digits"},
      {"20140-01-01", "year must be 4 digits"},
      {"0000-01-01", "year must be 4 digits"},
      {"2014-13-01", "month must be 1..12"},
      {"2014-00-10", "month must be 1..12"},
      {"2014-001-01", "month must be 1..12"},
      {"2014-02-30", "day is out of range for month"},
      {"2015-02-29", "day is out of range for month"},
      {"1900-02-29", "day is out of range for month"},
      {"2014-04-31", "day is out of range for month"},
      {"2014-01-32", "day is out of range for month"},
      {"2014-01-00", "day is out of range for month"},
      {"2014-01-001", "day is out of range for month"},
      {"2014-01-01 24:00", "hour must be 0..23"},
      {"2014-01-01 001:00", "hour must be 0..23"},
      {"2014-01-01 23:60", "minute must be 0..59"},
      {"2014-01-01 23:59:60", "second must be 0..59"},
      {"2013-07-30 23:19:42.1234567", "more than 6 fractional digits"},
      {"2014-01-01 12:00.5", "fraction without seconds"},
      {"2014-01-01.5", "fraction without seconds"},
  }));
  auto r = parse_time(input);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error(), Catch::Contains(std::string("'") + input +
                                        "' does not appear to be an mPlane timestamp"));
  CHECK_THAT(r.error(), Catch::Contains(reason));
}

TEST_CASE("parse_time error texts quote at most 200 bytes", "[parsers][time]") {
  const std::string long_text(1000, 'x');
  auto r = parse_time(long_text);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().size() < 300);
  CHECK_THAT(r.error(), Catch::StartsWith("'" + std::string(200, 'x') + "...'"));
}

TEST_CASE("calendar helpers agree with std::chrono", "[parsers][time]") {
  using namespace std::chrono;
  const auto day = GENERATE(-719162LL, -1LL, 0LL, 1LL, 59LL, 11016LL, 19000LL, 21915LL, 2932896LL);
  const year_month_day ymd{sys_days{days{day}}};
  const int y = static_cast<int>(ymd.year());
  const int m = static_cast<int>(static_cast<unsigned>(ymd.month()));
  const int d = static_cast<int>(static_cast<unsigned>(ymd.day()));
  const MicrosSinceEpoch t = make_time(y, m, d, 13, 14, 15, 16);
  CHECK(t == (day * 86400 + 13 * 3600 + 14 * 60 + 15) * kMicrosPerSecond + 16);
  const CivilTime c = civil_time(t);
  CHECK(c.year == y);
  CHECK(c.month == m);
  CHECK(c.day == d);
  CHECK(c.hour == 13);
  CHECK(c.minute == 14);
  CHECK(c.second == 15);
  CHECK(c.micros == 16);
  CHECK(c.weekday == static_cast<int>(weekday{sys_days{days{day}}}.c_encoding()));
}

TEST_CASE("civil_time weekday numbering is crontab's (Sunday = 0)", "[parsers][time]") {
  CHECK(civil_time(0).weekday == 4);                            // 1970-01-01, Thursday
  CHECK(civil_time(at("2030-01-01")).weekday == 2);             // Tuesday
  CHECK(civil_time(at("2030-01-07")).weekday == 1);             // Monday
  CHECK(civil_time(at("2020-06-07 23:59:59")).weekday == 0);    // Sunday
  CHECK(civil_time(at("1969-12-31 23:59:59.5")).weekday == 3);  // Wednesday, before the epoch
  CHECK(civil_time(at("1969-12-31 23:59:59.5")).micros == 500000);
}

TEST_CASE("time range constants are the ends of years 1 and 9999", "[parsers][time]") {
  CHECK(kMinTime == make_time(1, 1, 1, 0, 0, 0, 0));
  CHECK(kMaxTime == make_time(9999, 12, 31, 23, 59, 59, 999999));
}

TEST_CASE("write_time26 writes exactly 26 characters and clamps out-of-range times",
          "[parsers][time]") {
  auto [t, expected] = GENERATE(table<MicrosSinceEpoch, const char*>({
      {0, "1970-01-01 00:00:00.000000"},
      {-1, "1969-12-31 23:59:59.999999"},
      {1'893'499'200'019'000, "2030-01-01 12:00:00.019000"},
      {kMinTime, "0001-01-01 00:00:00.000000"},
      {kMaxTime, "9999-12-31 23:59:59.999999"},
      {kMinTime - 1, "0001-01-01 00:00:00.000000"},
      {kMaxTime + 86'400'000'000, "9999-12-31 23:59:59.999999"},
  }));
  char buf[28];
  buf[26] = '#';
  write_time26(buf, t);
  CHECK(std::string(buf, 26) == expected);
  CHECK(buf[26] == '#');
}

TEST_CASE("append_time appends to existing text", "[parsers][time]") {
  std::string out = "w ";
  append_time(out, TimePoint::absolute(make_time(2014, 1, 1, 0, 0, 0, 0)));
  append_time(out, TimePoint::future());
  CHECK(out == "w 2014-01-01 00:00:00.000000future");
}

TEST_CASE("parse_duration accepts the strict grammar", "[parsers][duration]") {
  auto [input, seconds] = GENERATE(table<const char*, std::int64_t>({
      {"1h", 3600},
      {"3d12h", 3 * 86400 + 12 * 3600},
      {"7m30s", 450},
      {"90s", 90},
      {"0s", 0},
      {"0d0s", 0},
      {"1d1h1m1s", 90061},
      {"1d1s", 86401},
      {"01h", 3600},
      {"100000d", 100000LL * 86400},
      {"inf", 100000LL * 86400},
      {"10000000d", 10000000LL * 86400},
  }));
  auto r = parse_duration(input);
  INFO(input);
  REQUIRE(r.ok());
  CHECK(r.value() == seconds * kMicrosPerSecond);
}

TEST_CASE("parse_duration rejects what the lenient RI would misread", "[parsers][duration]") {
  auto input = GENERATE(as<std::string>{}, "", "xyz", "1h30", "1500ms", "1s1h", "1hh", "h", "1",
                        "1 h", " 1h", "1h ", "-1s", "1.5s", "1H", "infinite", "Inf", "1h1h",
                        "99999999999999999999d", "10000001d", "10000000d1s", "1w");
  auto r = parse_duration(input);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error(),
             Catch::StartsWith("'" + input + "' does not appear to be an mPlane duration"));
}

TEST_CASE("append_duration emits the RI's greedy d/h/m/s form", "[parsers][duration]") {
  auto [micros, expected] = GENERATE(table<Micros, const char*>({
      {0, "0s"},
      {90 * kMicrosPerSecond, "1m30s"},
      {86400 * kMicrosPerSecond, "1d"},
      {90000 * kMicrosPerSecond, "1d1h"},
      {90061 * kMicrosPerSecond, "1d1h1m1s"},
      {3600 * kMicrosPerSecond, "1h"},
      {86401 * kMicrosPerSecond, "1d1s"},
      {kInfiniteDuration, "100000d"},
      {1'500'000, "1s"},  // sub-second part truncated
      {999'999, "0s"},
      {-5 * kMicrosPerSecond, "0s"},
  }));
  CHECK(format_duration(micros) == expected);
}

TEST_CASE("durations round-trip through their canonical text", "[parsers][duration]") {
  const auto text = GENERATE(as<std::string>{}, "3d12h", "7m30s", "1d1h1m1s", "0s", "100000d");
  const Micros d = parse_duration(text).value();
  CHECK(format_duration(d) == text);
  CHECK(parse_duration(format_duration(d)).value() == d);
}
