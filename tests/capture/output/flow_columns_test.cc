// The shared text forms of flow records: milliseconds exactly as printf's "%.3f" (the CSV and
// JSON columns were written by printf before; the golden files hold its output), times as
// seconds with six decimals.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

#include "capture/output/flow_columns.h"

namespace mplane::capture {
namespace {

std::string ms_text(double ms) {
  std::string out;
  append_ms(out, ms);
  return out;
}

std::string printf_text(double ms) {
  char buf[400];
  std::snprintf(buf, sizeof buf, "%.3f", ms);
  return buf;
}

TEST_CASE("flow columns: milliseconds as printf writes them", "[capture][columns]") {
  for (double ms : std::initializer_list<double>{0.0, -0.0, 0.0005, 0.0015, 0.0025, 1.0005, 2.0005,
                                                 0.1235, 1e-9, -1e-9, 999.9995, 1e12, 123456789.125,
                                                 std::nan(""), HUGE_VAL, -HUGE_VAL}) {
    CAPTURE(ms);
    CHECK(ms_text(ms) == printf_text(ms));
  }
  std::mt19937_64 rng(20261122);
  for (int i = 0; i < 200'000; ++i) {
    double ms = 0;
    switch (i % 4) {
      case 0:  // an RTT bound: microseconds / 1000
        ms = static_cast<double>(rng() % 100'000'000) / 1000.0;
        break;
      case 1:  // a mean: sums over counts, halves included
        ms = static_cast<double>(rng() % 1'000'000'000) / static_cast<double>(1 + rng() % 64) /
             1000.0;
        break;
      case 2:  // a standard deviation
        ms = std::sqrt(static_cast<double>(rng() % 1'000'000'000)) / 1000.0;
        break;
      default: {  // any finite double
        const std::uint64_t bits = rng();
        std::memcpy(&ms, &bits, sizeof ms);
        if (!std::isfinite(ms)) ms = 1.5;
      }
    }
    CAPTURE(ms);
    REQUIRE(ms_text(ms) == printf_text(ms));
  }
}

TEST_CASE("flow columns: times as seconds with microseconds", "[capture][columns]") {
  std::string out;
  append_time(out, 1'700'000'000'000'001);
  CHECK(out == "1700000000.000001");
  out.clear();
  append_time(out, 999'999);
  CHECK(out == "0.999999");
  out.clear();
  append_time(out, 12'000'000);
  CHECK(out == "12.000000");
}

}  // namespace
}  // namespace mplane::capture
