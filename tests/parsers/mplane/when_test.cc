// Temporal scopes (PROTOCOL.md §2.4): grammar, canonical text, semantics, iteration, crontab.
#include "parsers/mplane/when.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace mplane::model;

namespace {

// Vector 12's `when` as written and as the RI re-serialises it (vectors/README.md).
constexpr const char* kVector12 =
    "repeat now ... future cron 0 0 * 1,2,3,4,5,6,7 1 * { now + 5s / 1s }";
constexpr const char* kVector12Canonical =
    "repeat now ... future cron 0 0 "
    "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,"
    "34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59 1,2,3,4,5,6,7 "
    "1 1,2,3,4,5,6,7,8,9,10,11,12 { now + 5s / 1s } ";

When must_parse(std::string_view text) {
  auto r = When::parse(text);
  INFO(text << " -> " << (r.ok() ? std::string("ok") : r.error()));
  REQUIRE(r.ok());
  return r.value();
}

MicrosSinceEpoch at(std::string_view text) {
  auto r = parse_time(text);
  INFO(text);
  REQUIRE(r.ok());
  return r.value().us;
}

constexpr Micros secs(std::int64_t n) { return n * kMicrosPerSecond; }

// The first `n` occurrences (fewer if the scope ends), formatted.
std::vector<std::string> occurrences(const When& w, std::string_view from, int n,
                                     std::int64_t budget = 400LL * 86400) {
  OccurrenceIterator it(w, at(from));
  std::vector<std::string> out;
  for (int k = 0; k < n; ++k) {
    const auto t = it.next(budget);
    if (!t) break;
    out.push_back(format_time(TimePoint::absolute(*t)));
  }
  return out;
}

using Strings = std::vector<std::string>;

}  // namespace

// ---- grammar and canonical text ------------------------------------------------------------

TEST_CASE("When canonical text is byte-exact for every form", "[parsers][when]") {
  auto [input, canonical] = GENERATE(table<const char*, const char*>({
      // simple scopes
      {"now", "now"},
      {"past ... now", "past ... now"},
      {"now ... future", "now ... future"},
      {"past ... future", "past ... future"},
      {"now ... future / 1s", "now ... future / 1s"},  // vectors 01, 02
      {"now ... future / 5s", "now ... future / 5s"},
      {"now + 30s / 1s", "now + 30s / 1s"},  // vectors 09, 27
      {"now + 90s", "now + 1m30s"},
      {"now + 0s", "now + 0s"},
      {"now + inf", "now + 100000d"},
      {"now / 10s", "now / 10s"},
      {"past + 1h", "past + 1h"},
      {"2009-02-20 13:02:15", "2009-02-20 13:02:15.000000"},
      {"2030-01-01 12:00:00.000000 + 1m / 1s", "2030-01-01 12:00:00.000000 + 1m / 1s"},  // 08
      {"2030-01-01 12:05:00.000000", "2030-01-01 12:05:00.000000"},                      // 15
      {"2014-01-01 00:00:00.000000 ... 2014-01-02 00:00:00.000000",
       "2014-01-01 00:00:00.000000 ... 2014-01-02 00:00:00.000000"},  // 14
      {"2030-01-01 12:00:00.102000 ... 2030-01-01 12:00:59.876000",
       "2030-01-01 12:00:00.102000 ... 2030-01-01 12:00:59.876000"},  // 16
      {"2030-01-01 12:00:00.019 ... 2030-01-01 12:00:01.5",
       "2030-01-01 12:00:00.019000 ... 2030-01-01 12:00:01.500000"},           // 17
      {"2030-01-01 12:00:00.000000 / 1h", "2030-01-01 12:00:00.000000 / 1h"},  // 26
      {"2030-01-01 12:00:00 ... future / 3600s", "2030-01-01 12:00:00.000000 ... future / 1h"},
      {"now ... 2030-01-01", "now ... 2030-01-01 00:00:00.000000"},
      {"2014-01-01T10:00:00 ... future", "2014-01-01 10:00:00.000000 ... future"},
      {"2013-07-30 23:19:42Z + 1m", "2013-07-30 23:19:42.000000 + 1m"},
      // repeated scopes
      {"repeat now ... future / 1h { now + 5m / 1s } ",
       "repeat now ... future / 1h { now + 5m / 1s } "},  // 10
      {"repeat now ... future / 1h { now + 5m / 1s }",
       "repeat now ... future / 1h { now + 5m / 1s } "},
      {"repeat 2030-01-01 13:00:00.000000 ... 2030-06-01 14:00:00.000000 / 30m { now + 5m / 1s "
       "} ",
       "repeat 2030-01-01 13:00:00.000000 ... 2030-06-01 14:00:00.000000 / 30m { now + 5m / 1s "
       "} "},  // 11
      {"repeat 2030-01-01 13:00 ... 2030-06-01 14:00 / 1800s { now + 300s / 1s }",
       "repeat 2030-01-01 13:00:00.000000 ... 2030-06-01 14:00:00.000000 / 30m { now + 5m / 1s "
       "} "},
      {kVector12, kVector12Canonical},  // 12
      {kVector12Canonical, kVector12Canonical},
      {"repeat now + 1d / 1h", "repeat now + 1d / 1h"},  // 13
      {"repeat now + 1d / 1h { now }", "repeat now + 1d / 1h"},
      {"repeat now + 1d / 1h { now / 10s }", "repeat now + 1d / 1h"},
      {"repeat now + 30m / 1m { now + 5s / 1s }", "repeat now + 30m / 1m { now + 5s / 1s } "},
      {"repeat now + 30m / 1m { now + 5s }", "repeat now + 30m / 1m { now + 5s } "},
      {"repeat now / 1h", "repeat now / 1h"},
      {"repeat past ... future / 1d { now + 0s }", "repeat past ... future / 1d { now + 0s } "},
      {"repeat now ... future cron 0 0 0 * * *",
       "repeat now ... future cron 0 0 0 "
       "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,"
       "24,25,26,27,28,29,30,31 0,1,2,3,4,5,6 1,2,3,4,5,6,7,8,9,10,11,12"},
      {"repeat now ... future cron 30,10,20 5-7 12 15 0 2,1 { now + 10s }",
       "repeat now ... future cron 10,20,30 5,6,7 12 15 0 1,2 { now + 10s } "},
      {"repeat now ... future cron 0  0 12\t* 0 *  ",
       "repeat now ... future cron 0 0 12 "
       "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,"
       "23,24,25,26,27,28,29,30,31 0 1,2,3,4,5,6,7,8,9,10,11,12"},
  }));
  const When w = must_parse(input);
  CHECK(w.canonical() == canonical);
  // The canonical text is a fixed point.
  CHECK(must_parse(canonical).canonical() == canonical);
}

TEST_CASE("When parse fills the model fields", "[parsers][when]") {
  SECTION("absolute start + duration + period (vector 08)") {
    const When w = must_parse("2030-01-01 12:00:00.000000 + 1m / 1s");
    CHECK_FALSE(w.repeated());
    CHECK(w.start() == TimePoint::absolute(at("2030-01-01 12:00:00")));
    CHECK_FALSE(w.end());
    CHECK(w.duration() == secs(60));
    CHECK(w.period() == secs(1));
    CHECK_FALSE(w.crontab());
  }
  SECTION("range") {
    const When w = must_parse("past ... now");
    CHECK(w.start() == TimePoint::past());
    CHECK(w.end() == TimePoint::now());
    CHECK_FALSE(w.duration());
    CHECK_FALSE(w.period());
  }
  SECTION("repeated with inner scope (vector 10)") {
    const When w = must_parse("repeat now ... future / 1h { now + 5m / 1s } ");
    CHECK(w.repeated());
    CHECK(w.start() == TimePoint::now());
    CHECK(w.end() == TimePoint::future());
    CHECK(w.period() == secs(3600));
    CHECK(w.inner_duration() == secs(300));
    CHECK(w.inner_period() == secs(1));
  }
  SECTION("implicit inner scope (vector 13)") {
    const When w = must_parse("repeat now + 1d / 1h");
    CHECK(w.repeated());
    CHECK(w.duration() == secs(86400));
    CHECK_FALSE(w.inner_duration());
    CHECK_FALSE(w.inner_period());
  }
  SECTION("an inner period without inner duration is kept though not written") {
    const When w = must_parse("repeat now + 1d / 1h { now / 10s }");
    CHECK(w.inner_period() == secs(10));
    CHECK_FALSE(w.inner_duration());
  }
  SECTION("crontab (vector 12)") {
    const When w = must_parse(kVector12);
    REQUIRE(w.crontab());
    const Crontab& c = *w.crontab();
    CHECK(c.seconds.count() == 1);
    CHECK(c.seconds[0]);
    CHECK(c.minutes.count() == 1);
    CHECK(c.hours_star);
    CHECK(c.hours.count() == 60);
    CHECK(c.days.count() == 7);
    CHECK(c.days[1]);
    CHECK(c.days[7]);
    CHECK_FALSE(c.days[8]);
    CHECK(c.weekdays.count() == 1);
    CHECK(c.weekdays[1]);
    CHECK(c.months.count() == 12);
    CHECK_FALSE(w.period());
    CHECK(w.inner_duration() == secs(5));
    CHECK(w.inner_period() == secs(1));
  }
}

TEST_CASE("When parse is its own inverse on canonical text", "[parsers][when]") {
  const auto text =
      GENERATE(as<std::string>{}, "now ... future / 1s", kVector12, "repeat now + 1d / 1h",
               "2030-01-01 12:00:00.019 ... 2030-01-01 12:00:01.5",
               "repeat now ... future cron 0 0 * 1,2,3,4,5,6,7 1 * { now + 5s }");
  const When w = must_parse(text);
  CHECK(must_parse(w.canonical()) == w);
}

TEST_CASE("When builders produce the same values as the parser", "[parsers][when]") {
  CHECK(When::singleton(TimePoint::now()) == must_parse("now"));
  CHECK(When::span(TimePoint::now(), secs(30), secs(1)) == must_parse("now + 30s / 1s"));
  CHECK(When::range(TimePoint::now(), TimePoint::future(), secs(1)) ==
        must_parse("now ... future / 1s"));
  CHECK(When::range(TimePoint::past(), TimePoint::now()).canonical() == "past ... now");
  CHECK(When::span(TimePoint::absolute(at("2030-01-01 12:00:00")), secs(60)).canonical() ==
        "2030-01-01 12:00:00.000000 + 1m");
}

TEST_CASE("When parse rejects bad forms with the text and the reason", "[parsers][when]") {
  auto [input, reason] = GENERATE(table<const char*, const char*>({
      {"", "does not appear to be an mPlane timestamp"},
      {"yesterday", "'yesterday' does not appear to be an mPlane timestamp"},
      {"now ... tomorrow", "'tomorrow' does not appear to be an mPlane timestamp"},
      {"now  ... future", "'now ' does not appear to be an mPlane timestamp"},
      {"now ... future + 1h", "'now ... future' does not appear to be an mPlane timestamp"},
      {"now ... future ... past", "more than one ' ... '"},
      {"now / 1s / 2s", "more than one ' / '"},
      {"now + 1s + 2s", "more than one ' + '"},
      {"now + 1h30", "'1h30' does not appear to be an mPlane duration"},
      {"now + 1500ms", "'1500ms' does not appear to be an mPlane duration"},
      {"now ... future / xyz", "'xyz' does not appear to be an mPlane duration"},
      {"now ... future / ", "'' does not appear to be an mPlane duration"},
      {"2014-02-30 ... future", "day is out of range for month"},
      {"foo repeat now / 1h", "'repeat ' must come first"},
      {"repeat now ... future / 1h cron 0 0 0 * * *", "duration and cron set at the same time"},
      {"repeat now ... future / 0s", "period must be positive"},
      {"repeat now ... future / 1h { later + 5m }", "inner when has to be relative to now"},
      {"repeat now ... future / 1h { nowish + 5m }",
       "inner when must be 'now [+ duration] [/ duration]'"},
      {"repeat now ... future / 1h { now ... future }", "inner when must be"},
      {"repeat now ... future / 1h { now + 5m", "inner when not closed by ' }'"},
      {"repeat now ... future / 1h { now + 5m } x", "inner when not closed by ' }'"},
      {"repeat now ... future / 1h { now / 1s / 2s }", "more than one ' / ' in the inner when"},
      {"repeat now ... future / 1h { now + 5x }", "'5x' does not appear to be an mPlane duration"},
      {"repeat now ... future / 1h {now + 5m}",
       "'1h {now + 5m}' does not appear to be an mPlane duration"},
      {"repeat now ... future cron 0 0 0 * *",
       "expected 6 fields (sec min hour mday wday month), got 5"},
      {"repeat now ... future cron 0 0 0 * * * *", "got 7"},
      {"repeat now ... future cron ", "got 0"},
      {"repeat now ... future cron 60 0 0 * * *", "bad seconds field"},
      {"repeat now ... future cron 0 60 0 * * *", "bad minutes field"},
      {"repeat now ... future cron 0 0 60 * * *", "bad hours field"},
      {"repeat now ... future cron 0 0 0 0 * *", "bad days of month field"},
      {"repeat now ... future cron 0 0 0 32 * *", "bad days of month field"},
      {"repeat now ... future cron 0 0 0 * 7 *", "bad weekdays (Sunday = 0) field"},
      {"repeat now ... future cron 0 0 0 * * 0", "bad months field"},
      {"repeat now ... future cron 0 0 0 * * 13", "bad months field"},
      {"repeat now ... future cron 0 0 0 * * 5-3", "bad months field"},
      {"repeat now ... future cron 1-2,5 0 0 * * *", "bad seconds field"},
      {"repeat now ... future cron 1,,2 0 0 * * *", "bad seconds field"},
      {"repeat now ... future cron 1, 0 0 * * *", "bad seconds field"},
      {"repeat now ... future cron -1 0 0 * * *", "bad seconds field"},
      {"repeat now ... future cron 1-2-3 0 0 * * *", "bad seconds field"},
      {"repeat now ... future cron +1 0 0 * * *", "bad seconds field"},
      {"repeat now ... future cron 00001 0 0 * * *", "bad seconds field"},
      {"repeat now ... future cron 0 0 0 * * * cron 0 0 0 * * *", "more than one ' cron '"},
  }));
  auto r = When::parse(input);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error(),
             Catch::StartsWith(std::string("'") + input + "' does not appear to be an mPlane "));
  CHECK_THAT(r.error(), Catch::Contains(reason));
}

TEST_CASE("When parse error for a repeat without period matches the RI's text", "[parsers][when]") {
  auto r = When::parse("repeat now ... future");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() ==
        "'repeat now ... future' does not appear to be an mPlane repeated-when (no duration or "
        "cron set)");
}

// ---- semantics -----------------------------------------------------------------------------

TEST_CASE("When is_definite", "[parsers][when]") {
  auto [input, definite] = GENERATE(table<const char*, bool>({
      {"2030-01-01 12:00:00 + 1m / 1s", true},
      {"2030-01-01 12:05:00", true},
      {"2014-01-01 ... 2014-01-02", true},
      {"repeat 2030-01-01 13:00 ... 2030-06-01 14:00 / 30m { now + 5m / 1s }", true},
      {"now", false},
      {"now + 30s / 1s", false},
      {"now ... future", false},
      {"2030-01-01 ... future", false},
      {"past ... 2030-01-01", false},
      {"repeat now ... future / 1h { now + 5m / 1s }", false},
  }));
  CHECK(must_parse(input).is_definite() == definite);
}

TEST_CASE("When resolve and resolved_duration at an injected now", "[parsers][when]") {
  const MicrosSinceEpoch now = at("2009-02-20 13:30:00");
  SECTION("absolute range") {
    const When w = must_parse("2009-02-20 13:00:00 ... 2009-02-20 15:00:00");
    const Interval iv = w.resolve(now);
    CHECK(iv.start == at("2009-02-20 13:00:00"));
    CHECK(iv.end == at("2009-02-20 15:00:00"));
    CHECK(w.resolved_duration(now) == secs(7200));
  }
  SECTION("now + duration") {
    const When w = must_parse("now + 30m / 15s");
    CHECK(w.resolve(now).start == now);
    CHECK(w.resolve(now).end == at("2009-02-20 14:00:00"));
    CHECK(w.resolved_duration(now) == secs(1800));
  }
  SECTION("singleton") {
    const When w = must_parse("2009-02-20 13:00:00");
    CHECK(w.resolve(now).end == at("2009-02-20 13:00:00"));
    CHECK(w.resolved_duration(now) == 0);
  }
  SECTION("unbounded sides") {
    const Interval inf = must_parse("past ... future").resolve(now);
    CHECK_FALSE(inf.start);
    CHECK_FALSE(inf.end);
    CHECK_FALSE(must_parse("past ... future").resolved_duration(now));
    CHECK_FALSE(must_parse("now ... future").resolved_duration(now));
    CHECK_FALSE(must_parse("past ... now").resolved_duration(now));
    CHECK(must_parse("past ... now").resolve(now).end == now);
    CHECK(must_parse("2009-02-20 13:00 ... now").resolved_duration(now) == secs(1800));
  }
}

TEST_CASE("When in_scope", "[parsers][when]") {
  const MicrosSinceEpoch now = at("2009-02-20 13:30:00");
  const When def = must_parse("2009-02-20 13:00:00 ... 2009-02-20 15:00:00");
  CHECK(def.in_scope(at("2009-02-20 14:15:16"), now));
  CHECK(def.in_scope(at("2009-02-20 13:00:00"), now));  // inclusive
  CHECK(def.in_scope(at("2009-02-20 15:00:00"), now));
  CHECK_FALSE(def.in_scope(at("2009-02-21 14:15:16"), now));
  CHECK_FALSE(def.in_scope(at("2009-02-20 12:59:59.999999"), now));
  const When rel = must_parse("now + 30m / 15s");
  CHECK(rel.in_scope(at("2009-02-20 13:44:45"), now));
  CHECK_FALSE(rel.in_scope(at("2009-02-20 14:00:01"), now));
  CHECK(must_parse("past ... now").in_scope(at("1970-01-01"), now));
  CHECK_FALSE(must_parse("past ... now").in_scope(now + 1, now));
  CHECK(must_parse("repeat now ... future cron 0 0 * 1,2,3,4,5,6,7 1 *")
            .in_scope(at("2009-02-20 13:44:45"), now));
}

TEST_CASE("When follows: the RI rule of fulfills()", "[parsers][when]") {
  auto [spec, cap, now, expected] = GENERATE(table<const char*, const char*, const char*, bool>({
      // vectors: specifications against capabilities 02 / 04 / 06
      {"2030-01-01 12:00:00.000000 + 1m / 1s", "now ... future / 1s", "2029-12-31 00:00",
       true},                                                               // 08
      {"now + 30s / 1s", "now ... future / 1s", "2029-12-31 00:00", true},  // 09
      {"repeat now ... future / 1h { now + 5m / 1s } ", "now ... future / 1s", "2029-12-31",
       true},  // 10
      {"repeat 2030-01-01 13:00 ... 2030-06-01 14:00 / 30m { now + 5m / 1s }",
       "now ... future / 1s", "2029-12-31", true},
      {kVector12, "now ... future / 1s", "2029-12-31", true},                // 12
      {"repeat now + 1d / 1h", "now ... future / 1s", "2029-12-31", false},  // 13
      {"2014-01-01 ... 2014-01-02", "past ... now", "2029-12-31", true},     // 14
      {"2030-01-01 12:05:00", "now ... future", "2029-12-31", true},         // 15
      // period rules
      {"now + 1m / 1s", "now ... future / 5s", "2030-01-01", false},
      {"now + 1m / 5s", "now ... future / 5s", "2030-01-01", true},
      {"now + 1m", "now ... future / 1s", "2030-01-01", false},
      {"now + 1m / 1s", "now ... future", "2030-01-01", true},  // not checked by the RI
      {"repeat now ... future / 1h { now / 10s }", "now ... future / 1s", "2030-01-01", true},
      {"repeat now ... future / 1h { now + 5m / 1s }", "now ... future / 5s", "2030-01-01", false},
      {"repeat now ... future / 1s { now + 5m / 5s }", "now ... future / 5s", "2030-01-01", true},
      // start or absolute end in scope
      {"2020-01-01 ... 2040-01-01", "now ... future", "2030-01-01", true},
      {"2020-01-01 ... 2021-01-01", "now ... future", "2030-01-01", false},
      {"2020-01-01 + 1h", "now ... future", "2030-01-01", false},
      {"2030-01-01 12:00 ... now", "2030-01-01 11:00 ... 2030-01-01 13:00", "2030-01-01 14:00",
       true},
      {"2030-01-01 10:00 ... now", "2030-01-01 11:00 ... 2030-01-01 13:00", "2030-01-01 12:00",
       false},
      {"now + 30m / 15s", "2009-02-20 13:00:00 ... 2009-02-20 15:00:00", "2009-02-20 13:30", true},
      {"repeat now + 30m / 1m { now + 5s / 1s }", "2009-02-20 13:00:00 ... 2009-02-20 15:00:00",
       "2009-02-20 13:30", true},
      {"now + 30m / 15s", "2009-02-20 13:00:00 ... 2009-02-20 15:00:00", "2009-02-20 16:00", false},
      // `now` is in any scope that starts or ends with `now`
      {"now", "past ... now", "2030-01-01", true},
      {"now", "now ... future", "2030-01-01", true},
      {"now + 1h", "past ... future", "2030-01-01", true},
      // `past` / `future` against a bounded side: the RI raises; we answer false, except for
      // `past` in a scope without a lower bound (a query over `past ... now`)
      {"past ... now", "now ... future", "2030-01-01", false},
      {"past ... now", "past ... now", "2030-01-01", true},
      {"past ... now", "past ... 2030-06-01", "2030-01-01", true},
      {"past ... now", "2020-01-01 ... now", "2030-01-01", false},
      {"future", "now ... future", "2030-01-01", false},
      {"past ... future", "past ... future", "2030-01-01", true},
      {"past ... 2030-01-01 12:00", "now ... future", "2030-01-01", true},  // absolute end in scope
  }));
  INFO(spec << " follows " << cap << " at " << now);
  CHECK(must_parse(spec).follows(must_parse(cap), at(now)) == expected);
}

TEST_CASE("When timer_delays: the worked examples with t0 = 12:00", "[parsers][when]") {
  // end_delay -1 = none
  auto [input, start_delay, end_delay, expired] = GENERATE(table<const char*, int, int, bool>({
      {"now", 0, 0, false},
      {"now + 30s", 0, 30, false},
      {"now + 30s / 1s", 0, 30, false},  // vector 09
      {"2030-01-01 12:10:00", 600, 600, false},
      {"2030-01-01 11:00:00", 0, 0, false},           // a past singleton runs at once
      {"2030-01-01 11:00:00 + 30m", 0, 1800, false},  // duration counted from the clamped start
      {"2030-01-01 11:00:00 ... 2030-01-01 11:30:00", 0, -1, true},
      {"2030-01-01 11:00:00 ... 2030-01-01 13:00:00", 0, 3600, false},
      {"now ... future", 0, -1, false},
      {"2030-01-01 12:05:00.000000", 300, 300, false},         // vector 15
      {"2030-01-01 12:00:00.000000 + 1m / 1s", 0, 60, false},  // vector 08
      {"2030-01-01 13:00:00 ... 2030-01-01 15:00:00", 3600, 10800, false},
      {"2030-01-01 13:00:00 ... future", 3600, -1, false},
      {"past ... now", 0, 0, false},
      {"now ... 2030-01-01 11:00:00", 0, -1, true},
      {"repeat now + 30m / 1m { now + 5s / 1s }", 0, 1800, false},
      {"repeat now ... future / 1h { now + 5m / 1s } ", 0, -1, false},
  }));
  INFO(input);
  const TimerDelays d = must_parse(input).timer_delays(at("2030-01-01 12:00:00"));
  CHECK(d.expired == expired);
  CHECK(d.start_delay == secs(start_delay));
  if (end_delay < 0) {
    CHECK_FALSE(d.end_delay);
  } else {
    CHECK(d.end_delay == secs(end_delay));
  }
}

TEST_CASE("When envelope_scope resolves a repeated scope (vector 26)", "[parsers][when]") {
  auto [input, now, expected] = GENERATE(table<const char*, const char*, const char*>({
      {"repeat now ... future / 1h { now + 5m / 1s } ", "2030-01-01 12:00:00",
       "2030-01-01 12:00:00.000000 / 1h"},
      {"repeat now ... future / 1h { now + 5m / 1s } ", "2030-01-01 12:00:00.25",
       "2030-01-01 12:00:00.250000 / 1h"},
      {"repeat 2030-01-01 13:00:00.000000 ... 2030-06-01 14:00:00.000000 / 30m { now + 5m / 1s } ",
       "2030-01-01 12:00", "2030-01-01 13:00:00.000000 ... 2030-06-01 14:00:00.000000 / 30m"},
      {"repeat now + 1d / 1h", "2030-01-01",
       "2030-01-01 00:00:00.000000 ... 2030-01-02 00:00:00.000000 / 1h"},
      {kVector12, "2030-01-01", "2030-01-01 00:00:00.000000"},
      {"repeat past ... now / 1h", "2030-01-01", "past ... 2030-01-01 00:00:00.000000 / 1h"},
      {"repeat 2030-01-02 / 1h", "2030-01-01", "2030-01-02 00:00:00.000000 / 1h"},
  }));
  const When e = must_parse(input).envelope_scope(at(now));
  CHECK(e.canonical() == expected);
  CHECK_FALSE(e.repeated());
}

// ---- iteration -----------------------------------------------------------------------------

TEST_CASE("OccurrenceIterator: periodic repeat from now (vector 10)", "[parsers][when][iter]") {
  const When w = must_parse("repeat now ... future / 1h { now + 5m / 1s } ");
  CHECK(occurrences(w, "2030-01-01 12:00:00", 3) == Strings{"2030-01-01 12:00:00.000000",
                                                            "2030-01-01 13:00:00.000000",
                                                            "2030-01-01 14:00:00.000000"});
  // microseconds of the start are zeroed
  CHECK(occurrences(w, "2030-01-01 12:00:00.700001", 1) == Strings{"2030-01-01 12:00:00.000000"});
  OccurrenceIterator it(w, at("2030-01-01 12:00:00"));
  const auto first = it.next();
  REQUIRE(first);
  CHECK(it.sub_scope(*first).canonical() == "2030-01-01 12:00:00.000000 + 5m / 1s");
  CHECK_FALSE(it.sub_scope(*first).repeated());
  CHECK_FALSE(it.exhausted());
}

TEST_CASE("OccurrenceIterator: absolute outer range (vector 11)", "[parsers][when][iter]") {
  const When w = must_parse(
      "repeat 2030-01-01 13:00:00.000000 ... 2030-06-01 14:00:00.000000 / 30m { now + 5m / 1s } ");
  SECTION("started before: jumps to the outer start") {
    CHECK(occurrences(w, "2030-01-01 12:00:00", 3) == Strings{"2030-01-01 13:00:00.000000",
                                                              "2030-01-01 13:30:00.000000",
                                                              "2030-01-01 14:00:00.000000"});
  }
  SECTION("started late: not re-aligned") {
    CHECK(occurrences(w, "2030-01-01 13:10:00", 2) ==
          Strings{"2030-01-01 13:10:00.000000", "2030-01-01 13:40:00.000000"});
  }
  SECTION("inclusive end, then exhausted") {
    OccurrenceIterator it(w, at("2030-06-01 13:00:00"));
    CHECK(it.next() == at("2030-06-01 13:00:00"));
    CHECK(it.next() == at("2030-06-01 13:30:00"));
    CHECK(it.next() == at("2030-06-01 14:00:00"));
    CHECK_FALSE(it.next());
    CHECK(it.exhausted());
  }
  SECTION("started after the end") {
    OccurrenceIterator it(w, at("2030-06-01 14:00:01"));
    CHECK_FALSE(it.next());
    CHECK(it.exhausted());
  }
}

TEST_CASE("OccurrenceIterator: implicit inner scope gives singletons (vector 13)",
          "[parsers][when][iter]") {
  const When w = must_parse("repeat now + 1d / 1h");
  OccurrenceIterator it(w, at("2030-01-01 00:00:00"));
  std::vector<MicrosSinceEpoch> all;
  while (auto t = it.next()) all.push_back(*t);
  CHECK(it.exhausted());
  REQUIRE(all.size() == 25);  // 00:00 … 24:00 inclusive
  CHECK(all.back() == at("2030-01-02 00:00:00"));
  CHECK(it.sub_scope(all[0]).canonical() == "2030-01-01 00:00:00.000000");
  CHECK(it.sub_scope(all[1]).canonical() == "2030-01-01 01:00:00.000000");
}

TEST_CASE("OccurrenceIterator: the RI's own iterator test", "[parsers][when][iter]") {
  const When w = must_parse("repeat now + 30m / 1m { now + 5s / 1s }");
  OccurrenceIterator it(w, at("2009-02-20 13:30:00"));
  const auto first = it.next();
  const auto second = it.next();
  REQUIRE(first);
  REQUIRE(second);
  const When sub1 = it.sub_scope(*first);
  const When sub2 = it.sub_scope(*second);
  CHECK(sub1.canonical() == "2009-02-20 13:30:00.000000 + 5s / 1s");
  CHECK(sub1.is_definite());
  CHECK(sub1.in_scope(at("2009-02-20 13:30:04"), at("2009-02-20 13:30:00")));
  CHECK_FALSE(sub1.in_scope(at("2009-02-20 13:30:06"), at("2009-02-20 13:30:00")));
  const TimerDelays d1 = sub1.timer_delays(at("2009-02-20 12:00:00"));
  CHECK(d1.start_delay == secs(5400));
  CHECK(d1.end_delay == secs(5405));
  CHECK(sub2.canonical() == "2009-02-20 13:31:00.000000 + 5s / 1s");
  CHECK(sub2.timer_delays(at("2009-02-20 12:00:00")).start_delay == secs(5460));
  CHECK(sub2.follows(must_parse("2009-02-20 13:00:00 ... 2009-02-20 15:00:00"),
                     at("2009-02-20 13:30:00")));
}

TEST_CASE("OccurrenceIterator: sub-scope keeps an inner period without duration, as the RI",
          "[parsers][when][iter]") {
  const When w = must_parse("repeat now + 1d / 1h { now / 10s }");
  OccurrenceIterator it(w, at("2030-01-01 00:00:00"));
  const auto t = it.next();
  REQUIRE(t);
  CHECK(it.sub_scope(*t).canonical() == "2030-01-01 00:00:00.000000 / 10s");
}

TEST_CASE("OccurrenceIterator: crontab first Monday hourly (vector 12)",
          "[parsers][when][iter][cron]") {
  const When w = must_parse(kVector12);
  SECTION("from 2030-01-01") {
    OccurrenceIterator it(w, at("2030-01-01 00:00:00"));
    std::vector<std::string> got;
    for (int k = 0; k < 25; ++k) {
      const auto t = it.next();
      REQUIRE(t);
      got.push_back(format_time(TimePoint::absolute(*t)));
    }
    CHECK(got[0] == "2030-01-07 00:00:00.000000");
    CHECK(got[1] == "2030-01-07 01:00:00.000000");
    CHECK(got[2] == "2030-01-07 02:00:00.000000");
    CHECK(got[23] == "2030-01-07 23:00:00.000000");  // hours 24..59 of the RI text never match
    CHECK(got[24] == "2030-02-04 00:00:00.000000");  // first Monday of February
    CHECK(it.sub_scope(at("2030-01-07 00:00:00")).canonical() ==
          "2030-01-07 00:00:00.000000 + 5s / 1s");
  }
  SECTION("the RI's test: from 2009-02-20 13:30") {
    CHECK(occurrences(w, "2009-02-20 13:30:00", 2) ==
          Strings{"2009-03-02 00:00:00.000000", "2009-03-02 01:00:00.000000"});
  }
}

TEST_CASE("OccurrenceIterator: daily and weekly crontabs", "[parsers][when][iter][cron]") {
  auto [input, from, first, second] =
      GENERATE(table<const char*, const char*, const char*, const char*>({
          {"repeat now ... future cron 0 0 0 * * *", "2020-06-01 12:00:00",
           "2020-06-02 00:00:00.000000", "2020-06-03 00:00:00.000000"},
          {"repeat now ... future cron 0 0 12 * 0 *", "2020-06-01 12:00:00",
           "2020-06-07 12:00:00.000000", "2020-06-14 12:00:00.000000"},
          {"repeat now ... future cron 0 0 12 * 0 *", "2020-06-07 12:00:00",
           "2020-06-07 12:00:00.000000", "2020-06-14 12:00:00.000000"},
          {"repeat now ... future cron 0 0 0 29 * 2", "2021-03-01", "2024-02-29 00:00:00.000000",
           "2028-02-29 00:00:00.000000"},
          {"repeat now ... future cron 15,45 30 23 31 * *", "2030-01-31 23:30:20",
           "2030-01-31 23:30:45.000000", "2030-03-31 23:30:15.000000"},
          {"repeat now ... future cron * * * * * *", "2030-12-31 23:59:59.9",
           "2030-12-31 23:59:59.000000", "2031-01-01 00:00:00.000000"},
      }));
  INFO(input << " from " << from);
  // The default budget (400 days) may run out before a leap day: next() is simply called again.
  const When w = must_parse(input);
  OccurrenceIterator it(w, at(from));
  std::vector<std::string> got;
  for (int calls = 0; calls < 100 && got.size() < 2; ++calls) {
    if (const auto t = it.next()) got.push_back(format_time(TimePoint::absolute(*t)));
  }
  CHECK(got == Strings{first, second});
}

TEST_CASE("OccurrenceIterator: crontab scan agrees with a second-by-second scan",
          "[parsers][when][iter][cron]") {
  const auto text = GENERATE(as<std::string>{}, "5,35 10-12 1,13 * 1-5 *", "0 * * * * *",
                             "59 59 23 * * *", "* 0 0 1,15 * *", "0 0 1-3 * 6 1-2");
  const When w = must_parse("repeat 2030-01-01 00:00:00 ... 2030-01-04 00:00:00 cron " + text);
  const Crontab& cron = *w.crontab();
  std::vector<MicrosSinceEpoch> expected;
  const MicrosSinceEpoch last = at("2030-01-04");
  for (MicrosSinceEpoch t = at("2030-01-01"); t <= last; t += kMicrosPerSecond) {
    if (cron.matches(t)) expected.push_back(t);
  }
  OccurrenceIterator it(w, at("2029-12-01"));
  std::vector<MicrosSinceEpoch> got;
  while (auto t = it.next()) got.push_back(*t);
  INFO(text);
  CHECK(it.exhausted());
  CHECK(got == expected);
}

TEST_CASE("OccurrenceIterator: crontab inside an absolute range keeps the start's microseconds",
          "[parsers][when][iter][cron]") {
  const When w =
      must_parse("repeat 2030-01-01 00:00:00.5 ... 2030-01-01 00:00:03 cron * * * * * *");
  CHECK(occurrences(w, "2029-01-01", 10) == Strings{"2030-01-01 00:00:00.500000",
                                                    "2030-01-01 00:00:01.500000",
                                                    "2030-01-01 00:00:02.500000"});
}

TEST_CASE("OccurrenceIterator: the scan budget bounds a crontab that never matches",
          "[parsers][when][iter][cron]") {
  SECTION("unbounded scope: not exhausted, resumable") {
    const When w = must_parse("repeat now ... future cron 0 0 0 31 * 2");  // 31 February
    OccurrenceIterator it(w, at("2030-01-01"));
    CHECK_FALSE(it.next(400LL * 86400));
    CHECK_FALSE(it.exhausted());
    CHECK_FALSE(it.next(1));
    CHECK_FALSE(it.exhausted());
  }
  SECTION("hours 24..59 never match") {
    const When w = must_parse("repeat now ... future cron 0 0 24-59 * * *");
    OccurrenceIterator it(w, at("2030-01-01"));
    CHECK_FALSE(it.next(30LL * 86400));
    CHECK_FALSE(it.exhausted());
  }
  SECTION("bounded scope: exhausted once the scan passes the end") {
    const When w = must_parse("repeat now + 1d cron 0 0 0 31 * 2");
    OccurrenceIterator it(w, at("2030-01-01"));
    CHECK_FALSE(it.next());
    CHECK(it.exhausted());
  }
  SECTION("a small budget finds the match over several calls") {
    const When w = must_parse("repeat now ... future cron 0 0 12 * * *");
    OccurrenceIterator it(w, at("2030-01-01"));
    std::optional<MicrosSinceEpoch> t;
    int calls = 0;
    while (!t && calls < 100) {
      t = it.next(3600);
      ++calls;
    }
    CHECK(t == at("2030-01-01 12:00:00"));
    CHECK(calls == 2);  // the first call skips the hours 0..11 wholesale and stops at 12:00
  }
}

TEST_CASE("OccurrenceIterator: a non-repeated scope has no occurrences", "[parsers][when][iter]") {
  const When w = must_parse("now ... future / 1s");
  OccurrenceIterator it(w, at("2030-01-01"));
  CHECK(it.exhausted());
  CHECK_FALSE(it.next());
}

TEST_CASE("OccurrenceIterator: occurrences stop at year 9999", "[parsers][when][iter]") {
  const When w = must_parse("repeat 9999-12-31 23:00 ... future / 30m");
  CHECK(occurrences(w, "2030-01-01", 5) ==
        Strings{"9999-12-31 23:00:00.000000", "9999-12-31 23:30:00.000000"});
}

TEST_CASE("Crontab::matches checks every field", "[parsers][when][cron]") {
  const Crontab c = Crontab::parse("0 30 12 1-7 1 1,6").value();
  CHECK(c.matches(at("2030-01-07 12:30:00")));        // Monday 7 January
  CHECK_FALSE(c.matches(at("2030-01-07 12:30:01")));  // second
  CHECK_FALSE(c.matches(at("2030-01-07 12:31:00")));  // minute
  CHECK_FALSE(c.matches(at("2030-01-07 13:30:00")));  // hour
  CHECK_FALSE(c.matches(at("2030-01-14 12:30:00")));  // day of month
  CHECK_FALSE(c.matches(at("2030-01-06 12:30:00")));  // weekday (Sunday)
  CHECK_FALSE(c.matches(at("2030-02-04 12:30:00")));  // month
  CHECK(c.matches(at("2030-06-03 12:30:00")));
  CHECK_FALSE(c.hours_star);
  std::string text;
  c.append_canonical(text);
  CHECK(text == "0 30 12 1,2,3,4,5,6,7 1 1,6");
}
