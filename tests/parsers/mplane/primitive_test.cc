// Primitive values (PROTOCOL.md §2.2, §2.3): the RI's accepted, rejected and emitted forms.
#include "parsers/mplane/primitive.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

namespace mplane::model {
namespace {

using std::partial_ordering;

std::string python_repr(double v) {
  char buf[kMaxScalarChars];
  return std::string(buf, format_python_float(buf, v));
}

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST_CASE("prim names round-trip, the spec's `bool` is not a prim", "[parsers][primitive]") {
  auto [name, prim] = GENERATE(table<std::string_view, Prim>({
      {"string", Prim::kString},
      {"natural", Prim::kNatural},
      {"real", Prim::kReal},
      {"boolean", Prim::kBoolean},
      {"time", Prim::kTime},
      {"address", Prim::kAddress},
      {"url", Prim::kUrl},
  }));
  INFO(name);
  CHECK(prim_name(prim) == name);
  CHECK(prim_from_name(name) == prim);
  CHECK_FALSE(prim_from_name("bool").has_value());
  CHECK_FALSE(prim_from_name("Natural").has_value());
  CHECK_FALSE(prim_from_name("").has_value());
}

TEST_CASE("`*` is no value for every prim", "[parsers][primitive]") {
  auto prim = GENERATE(Prim::kString, Prim::kNatural, Prim::kReal, Prim::kBoolean, Prim::kTime,
                       Prim::kAddress, Prim::kUrl);
  auto v = parse_value(prim, "*");
  REQUIRE(v.ok());
  CHECK(v->is_none());
  CHECK(format_value(*v) == "*");
}

TEST_CASE("natural accepts what int(float(s)) accepts", "[parsers][primitive]") {
  auto [text, expected] = GENERATE(table<std::string_view, std::uint64_t>({
      {"42", 42},
      {" 7", 7},
      {"7 \t\n", 7},
      {"100.0", 100},
      {"1e2", 100},
      {"1E2", 100},
      {"4.7", 4},
      {"-0.5", 0},  // int(float("-0.5")) is 0
      {"-0.0", 0},
      {"+5", 5},
      {"-0", 0},
      {"007", 7},
      {".5", 0},
      {"5.", 5},
      {"1_000", 1000},
      {"1_0e1", 100},
      {"0", 0},
      // Exact where the RI rounds through a double (it would give 9007199254740992).
      {"9007199254740993", 9007199254740993},
      {"9223372036854775807", 9223372036854775807},
      // The unsigned 64-bit range (issue 10, item 9): u64 counters.
      {"9223372036854775808", 9223372036854775808ULL},
      {"18446744073709551615", 18446744073709551615ULL},
      {" 18_446_744_073_709_551_615 ", 18446744073709551615ULL},
      {"-0000", 0},
      {"9.3e18", 9300000000000000000ULL},
      {"1.8446744073709550e19", 18446744073709549568ULL},  // the largest double below 2^64
      {"1e18", 1000000000000000000},
  }));
  INFO(text);
  auto v = parse_value(Prim::kNatural, text);
  REQUIRE(v.ok());
  CHECK(v->kind() == ValueKind::kNatural);
  CHECK(v->as_natural() == expected);
}

TEST_CASE("natural rejects what int(float(s)) rejects", "[parsers][primitive]") {
  auto text = GENERATE(as<std::string_view>{}, "0x10", "inf", "-inf", "nan", "", " ", "4.x", "1e",
                       "e1", ".", "+", "1__0", "_1", "1_", "1_.5", "1e_5", "1 2", "1,5", "True",
                       "nan(1)", "\xd9\xa3");
  INFO(text);
  auto v = parse_value(Prim::kNatural, text);
  REQUIRE_FALSE(v.ok());
  CHECK(v.error() == "'" + std::string(text) + "' is not a valid natural");
}

TEST_CASE("natural refuses negative values and values past 2^64-1, naming them",
          "[parsers][primitive]") {
  // int(float(s)) of these is a negative int or one above 2^64-1: the RI keeps any Python int.
  auto text = GENERATE(as<std::string_view>{}, "-5", "-4.7", "-1", "-9223372036854775808",
                       "-18446744073709551616", "18446744073709551616", "1_8446744073709551616",
                       "99999999999999999999999", "1.8446744073709552e19", "2e19", "1e300");
  INFO(text);
  auto v = parse_value(Prim::kNatural, text);
  REQUIRE_FALSE(v.ok());
  CHECK(v.error() == "'" + std::string(text) +
                         "' is not a valid natural (out of range 0 ... 18446744073709551615)");
  Value fast;
  CHECK_FALSE(try_parse_value_fast(Prim::kNatural, text, fast));
}

TEST_CASE("real accepts what float(s) accepts", "[parsers][primitive]") {
  auto [text, expected] = GENERATE(table<std::string_view, double>({
      {"3.14", 3.14},
      {"4.2e6", 4.2e6},
      {"-0.5", -0.5},
      {" 12.5 ", 12.5},
      {"1e3", 1000.0},
      {"+.5", 0.5},
      {"5.", 5.0},
      {"1_000.000_1", 1000.0001},
      {"1_0e1_0", 1e11},
      {"inf", kInf},
      {"INF", kInf},
      {"Infinity", kInf},
      {"+inf", kInf},
      {"-inf", -kInf},
      {"1e400", kInf},
      {"-1e400", -kInf},
      {"1e-400", 0.0},
      {"5e-324", 5e-324},
      {"1e-310", 1e-310},
      {"9007199254740993", 9007199254740992.0},
      {"0.1000000000000000055511151231257827021181583404541015625", 0.1},
  }));
  INFO(text);
  auto v = parse_value(Prim::kReal, text);
  REQUIRE(v.ok());
  CHECK(v->kind() == ValueKind::kReal);
  CHECK(v->as_real() == expected);
}

TEST_CASE("real keeps the sign of zero and reads nan", "[parsers][primitive]") {
  auto [text, negative] = GENERATE(table<std::string_view, bool>(
      {{"-0", true}, {"0", false}, {"-0.0", true}, {"-1e-400", true}, {"0e5", false}}));
  INFO(text);
  auto v = parse_value(Prim::kReal, text);
  REQUIRE(v.ok());
  CHECK(v->as_real() == 0.0);
  CHECK(std::signbit(v->as_real()) == negative);
  auto nan = GENERATE(as<std::string_view>{}, "nan", "NaN", "-nan", " +nan ");
  INFO(nan);
  auto n = parse_value(Prim::kReal, nan);
  REQUIRE(n.ok());
  CHECK(std::isnan(n->as_real()));
}

TEST_CASE("real rejects what float(s) rejects", "[parsers][primitive]") {
  auto text = GENERATE(as<std::string_view>{}, "", "  ", "0x10", "1e", "1e+", ".", ".e1", "1..2",
                       "1.2.3", "nan(1)", "infin", "in f", "--1", "+-1", "1__0", "_1", "1_", "1e_5",
                       "1_e5", "abc", "1,5", "1 2",
                       "\x1c"
                       "7",
                       "1.0f");
  INFO(text);
  auto v = parse_value(Prim::kReal, text);
  REQUIRE_FALSE(v.ok());
  CHECK(v.error() == "'" + std::string(text) + "' is not a valid real");
}

TEST_CASE("boolean accepts exactly True/1/False/0", "[parsers][primitive]") {
  auto [text, expected] = GENERATE(
      table<std::string_view, bool>({{"True", true}, {"1", true}, {"False", false}, {"0", false}}));
  INFO(text);
  auto v = parse_value(Prim::kBoolean, text);
  REQUIRE(v.ok());
  CHECK(v->kind() == ValueKind::kBool);
  CHECK(v->as_bool() == expected);
  CHECK(format_value(*v) == (expected ? "True" : "False"));
}

TEST_CASE("boolean rejects everything else", "[parsers][primitive]") {
  auto text =
      GENERATE(as<std::string_view>{}, "true", "false", "TRUE", " True", "yes", "2", "1.0", "");
  INFO(text);
  auto v = parse_value(Prim::kBoolean, text);
  REQUIRE_FALSE(v.ok());
  CHECK(v.error() == "Invalid boolean value " + std::string(text));
}

TEST_CASE("string and url borrow their text unchanged", "[parsers][primitive]") {
  auto prim = GENERATE(Prim::kString, Prim::kUrl);
  std::string_view text = GENERATE(as<std::string_view>{}, "eth0", " b", "", "http://x/", "**");
  INFO(text);
  auto v = parse_value(prim, text);
  REQUIRE(v.ok());
  CHECK(v->kind() == ValueKind::kString);
  CHECK(v->as_string().data() == text.data());
  CHECK(v->as_string().size() == text.size());
  CHECK(format_value(*v) == text);
}

TEST_CASE("address values: no prefix, the RI's error text", "[parsers][primitive]") {
  auto v = parse_value(Prim::kAddress, "2001:0DB8:0:0::2");
  REQUIRE(v.ok());
  CHECK(v->kind() == ValueKind::kAddress);
  CHECK(format_value(*v) == "2001:db8::2");
  auto bad = parse_value(Prim::kAddress, "198.51.100.0/24");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error() == "'198.51.100.0/24' does not appear to be an IPv4 or IPv6 address");
}

TEST_CASE("time values are parsed by parse_time and written with 6 digits",
          "[parsers][primitive]") {
  auto [text, emitted] = GENERATE(table<std::string_view, std::string_view>({
      {"2014-08-25 14:51:02.623", "2014-08-25 14:51:02.623000"},
      {"past", "past"},
      {"now", "now"},
      {"future", "future"},
  }));
  INFO(text);
  auto v = parse_value(Prim::kTime, text);
  REQUIRE(v.ok());
  CHECK(v->kind() == ValueKind::kTime);
  CHECK(format_value(*v) == emitted);
  CHECK_FALSE(parse_value(Prim::kTime, "yesterday").ok());
}

TEST_CASE("format_python_float is Python's repr()", "[parsers][primitive]") {
  auto [v, repr] = GENERATE(table<double, std::string_view>({
      {4.2e6, "4200000.0"},
      {1000.0, "1000.0"},
      {0.1, "0.1"},
      {1e16, "1e+16"},
      {1e15, "1000000000000000.0"},
      {-0.5, "-0.5"},
      {-0.0, "-0.0"},
      {0.0, "0.0"},
      {1e-05, "1e-05"},
      {0.0001, "0.0001"},
      {0.00012, "0.00012"},
      {1.2345e-7, "1.2345e-07"},
      {3.14, "3.14"},
      {12.5, "12.5"},
      {408.0, "408.0"},
      {47.3769, "47.3769"},
      {1.5e300, "1.5e+300"},
      {-1e22, "-1e+22"},
      {123456789012345678.0, "1.2345678901234568e+17"},
      {9999999999999998.0, "9999999999999998.0"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {2.5e-100, "2.5e-100"},
      {kInf, "inf"},
      {-kInf, "-inf"},
      {std::numeric_limits<double>::quiet_NaN(), "nan"},
      {-std::numeric_limits<double>::quiet_NaN(), "nan"},
  }));
  CHECK(python_repr(v) == repr);
}

TEST_CASE("format_python_float round-trips every finite double", "[parsers][primitive]") {
  std::mt19937_64 rng(20240531);
  std::uniform_real_distribution<double> nice(-1e6, 1e6);
  int checked = 0;
  for (int i = 0; i < 200000; ++i) {
    double v = i % 2 ? std::bit_cast<double>(rng()) : nice(rng);
    if (!std::isfinite(v)) continue;
    std::string text = python_repr(v);
    double back = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), back);
    bool same = r.ec == std::errc() && r.ptr == text.data() + text.size() &&
                std::bit_cast<std::uint64_t>(back) == std::bit_cast<std::uint64_t>(v);
    if (!same) FAIL("no round trip: " << text);
    auto parsed = parse_value(Prim::kReal, text);  // and through our own parser
    if (!parsed.ok() ||
        std::bit_cast<std::uint64_t>(parsed->as_real()) != std::bit_cast<std::uint64_t>(v)) {
      FAIL("parse_value disagrees: " << text);
    }
    ++checked;
  }
  CHECK(checked > 190000);
}

TEST_CASE("format_scalar writes the RI's canonical text", "[parsers][primitive]") {
  Address a;
  a.family = 4;
  a.bytes[0] = 192;
  a.bytes[3] = 7;
  auto [v, text] = GENERATE_COPY(table<Value, std::string_view>({
      {Value::none(), "*"},
      {Value::natural(42), "42"},
      {Value::natural(9223372036854775808ULL), "9223372036854775808"},
      {Value::natural(std::numeric_limits<std::uint64_t>::max()), "18446744073709551615"},
      {Value::real(80.0), "80.0"},
      {Value::real(1e3), "1000.0"},
      {Value::boolean(true), "True"},
      {Value::boolean(false), "False"},
      {Value::time(TimePoint::absolute(1408978262623000)), "2014-08-25 14:51:02.623000"},
      {Value::time(TimePoint::past()), "past"},
      {Value::address(a), "192.0.0.7"},
      {Value::string("eth0"), "eth0"},
  }));
  char buf[kMaxScalarChars];
  CHECK(std::string_view(buf, format_scalar(buf, v)) == text);
  std::string out = "x=";
  append_value(out, v);
  CHECK(out == "x=" + std::string(text));
}

Value nat(std::uint64_t v) { return Value::natural(v); }
Value real(double v) { return Value::real(v); }
Value addr(std::string_view text) { return Value::address(*parse_address(text)); }
Value abs_time(std::int64_t us) { return Value::time(TimePoint::absolute(us)); }

TEST_CASE("compare_values is typed (§2.3)", "[parsers][primitive]") {
  constexpr auto kLess = partial_ordering::less;
  constexpr auto kEq = partial_ordering::equivalent;
  constexpr auto kGreater = partial_ordering::greater;
  constexpr auto kNone = partial_ordering::unordered;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto [a, b, expected] = GENERATE_COPY(table<Value, Value, partial_ordering>({
      {nat(1), nat(2), kLess},
      {nat(32768), nat(32768), kEq},
      {nat(1), real(1.0), kEq},
      {real(1.0), nat(1), kEq},
      {nat(1), real(1.5), kLess},
      {real(1.5), nat(1), kGreater},
      {nat(0), real(-0.5), kGreater},
      {nat(0), real(-0.0), kEq},
      {nat(9007199254740993), real(9007199254740992.0), kGreater},
      {nat(9223372036854775807), real(9223372036854775808.0), kLess},
      {nat(9223372036854775808ULL), real(9223372036854775808.0), kEq},
      {nat(9223372036854775808ULL), nat(9223372036854775807), kGreater},
      {nat(18446744073709551615ULL), nat(9223372036854775808ULL), kGreater},
      {nat(18446744073709551615ULL), real(18446744073709551616.0), kLess},
      {nat(18446744073709549568ULL), real(18446744073709549568.0), kEq},
      {nat(0), real(-1e19), kGreater},
      {nat(0), real(kInf), kLess},
      {nat(0), real(nan), kNone},
      {real(0.0), real(-0.0), kEq},
      {real(nan), real(nan), kNone},
      {real(-kInf), real(kInf), kLess},
      {addr("10.0.0.1"), addr("10.0.0.254"), kLess},
      {addr("10.0.1.1"), addr("10.0.0.254"), kGreater},
      {addr("192.0.2.19"), addr("192.0.2.19"), kEq},
      {addr("9.255.255.255"), addr("10.0.0.0"), kLess},
      {addr("2001:db8::2"), addr("2001:0DB8:0:0::2"), kEq},
      {addr("2001:db8::1"), addr("2001:db8::2"), kLess},
      {addr("::ffff:10.0.0.1"), addr("10.0.0.1"), kNone},
      {abs_time(5), abs_time(7), kLess},
      {abs_time(7), abs_time(7), kEq},
      {Value::time(TimePoint::past()), abs_time(-1000), kLess},
      {Value::time(TimePoint::future()), abs_time(1LL << 60), kGreater},
      {Value::time(TimePoint::past()), Value::time(TimePoint::now()), kLess},
      {Value::time(TimePoint::now()), Value::time(TimePoint::future()), kLess},
      {Value::time(TimePoint::now()), Value::time(TimePoint::now()), kEq},
      {Value::time(TimePoint::past()), Value::time(TimePoint::past()), kEq},
      {Value::time(TimePoint::now()), abs_time(0), kNone},
      {Value::string("a"), Value::string("b"), kLess},
      {Value::string("b"), Value::string("ab"), kGreater},
      {Value::string("a"), Value::string("a "), kLess},
      {Value::string(""), Value::string(""), kEq},
      {Value::string("\x7f"), Value::string("\xc3\xa9"), kLess},  // U+007F < U+00E9
      {Value::string("eth0"), Value::string("eth0"), kEq},
      {Value::boolean(true), Value::boolean(true), kEq},
      {Value::boolean(true), Value::boolean(false), kNone},
      {Value::none(), Value::none(), kNone},
      {Value::none(), nat(0), kNone},
      {nat(1), Value::string("1"), kNone},
      {nat(1), Value::boolean(true), kNone},
      {abs_time(0), nat(0), kNone},
  }));
  CHECK(compare_values(a, b) == expected);
  CHECK(values_equal(a, b) == (expected == kEq));
}

}  // namespace
}  // namespace mplane::model
