// Primitive values: parsing the RI's textual forms, writing them back, comparing them
// (PROTOCOL.md §2.2, §2.3).
//
// Hot path: a result of 10,000 rows holds ~100k values. Parsing a non-string value allocates
// nothing unless it fails; writing allocates nothing. Numbers go through std::from_chars /
// std::to_chars only (locale-independent, unlike strtod and printf).
//
// Numbers follow Python's float() grammar, which the RI applies to `real` and (before int())
// to `natural`: surrounding whitespace, a `+` or `-` sign, `inf`/`infinity`/`nan` in any case,
// and `_` between two digits (Python >= 3.6; PEP 515) are all accepted; hex, `nan(…)` and
// non-ASCII digits are not (Python takes Unicode decimal digits, e.g. `٣`; we don't).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "parsers/mplane/primitive.h"

namespace mplane::model {
namespace {

constexpr std::string_view kPrimNames[] = {"string", "natural", "real", "boolean",
                                           "time",   "address", "url"};
// Number texts with underscores up to this length are cleaned up on the stack.
constexpr std::size_t kStackNumberChars = 128;
// Past this, the decimal exponent of an out-of-range literal only needs its sign.
constexpr long kExponentClamp = 1'000'000;
constexpr double kTwoPow64 = 18446744073709551616.0;
constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                             1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
constexpr double kFewDecimalsLimit = 562949953421312.0;  // 2^49, see few_decimals()
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// What float() strips (Py_ISSPACE). Python also strips Unicode spaces (U+00A0 …); we don't.
bool is_space(char c) noexcept { return c == ' ' || (c >= '\t' && c <= '\r'); }

std::string_view strip(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

bool iequals(std::string_view s, std::string_view lower) noexcept {
  if (s.size() != lower.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i] >= 'A' && s[i] <= 'Z' ? static_cast<char>(s[i] - 'A' + 'a') : s[i];
    if (c != lower[i]) return false;
  }
  return true;
}

std::string invalid(std::string_view text, std::string_view prim) {
  std::string e = "'";
  e.append(text).append("' is not a valid ").append(prim);
  return e;
}

// Consumes `digit (['_'] digit)*` at `p`; returns the number of digits, or -1 for a `_` that
// is not between two digits.
int scan_digits(const char*& p, const char* e, bool& underscores) noexcept {
  int n = 0;
  while (p != e) {
    if (is_digit(*p)) {
      ++n;
      ++p;
    } else if (*p == '_' && n > 0 && p + 1 != e && is_digit(p[1])) {
      underscores = true;
      ++p;
    } else {
      break;
    }
  }
  return p != e && *p == '_' ? -1 : n;
}

struct DecimalShape {
  bool ok = false;
  bool integer = false;      // digits only: no point, no exponent
  bool underscores = false;  // must be removed before std::from_chars
};

// Checks `digits [. [digits]] [e [sign] digits]` or `. digits [e …]` (sign already removed).
DecimalShape scan_decimal(std::string_view s) noexcept {
  DecimalShape d;
  const char* p = s.data();
  const char* e = p + s.size();
  int int_digits = scan_digits(p, e, d.underscores);
  int frac_digits = 0;
  bool point = p != e && *p == '.';
  if (point) frac_digits = scan_digits(++p, e, d.underscores);
  if (int_digits < 0 || frac_digits < 0 || int_digits + frac_digits == 0) return d;
  bool exponent = p != e && (*p == 'e' || *p == 'E');
  if (exponent) {
    if (++p != e && (*p == '+' || *p == '-')) ++p;
    if (scan_digits(p, e, d.underscores) <= 0) return d;
  }
  d.ok = p == e;
  d.integer = !point && !exponent;
  return d;
}

// For a literal std::from_chars found out of range (no sign, no `_`): does it overflow, or
// underflow? The decimal exponent of its leading digit decides.
bool overflows(std::string_view s) noexcept {
  long magnitude = 0;
  std::size_t i = 0;
  while (i < s.size() && s[i] == '0') ++i;
  for (; i < s.size() && is_digit(s[i]); ++i) ++magnitude;
  if (magnitude == 0 && i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && s[i] == '0'; ++i) --magnitude;
  }
  std::size_t exp_at = s.find_first_of("eE");
  if (exp_at == std::string_view::npos) return magnitude > 0;
  long exponent = 0;
  for (char c : s.substr(exp_at + 1)) {
    if (is_digit(c) && exponent < kExponentClamp) exponent = exponent * 10 + (c - '0');
  }
  if (s[exp_at + 1] == '-') exponent = -exponent;
  return magnitude + exponent > 0;
}

// Calls `f(view)` with `s` minus its underscores (already validated as digit separators).
template <class F>
auto without_underscores(std::string_view s, F f) {
  char stack[kStackNumberChars];
  std::string heap;  // only for absurdly long literals with separators
  char* buf = stack;
  if (s.size() > sizeof stack) {
    heap.resize(s.size());
    buf = heap.data();
  }
  std::size_t n = 0;
  for (char c : s) {
    if (c != '_') buf[n++] = c;
  }
  return f(std::string_view(buf, n));
}

// `s` is a validated decimal with an optional leading `-`. Python rounds out-of-range
// literals to ±inf or ±0; std::from_chars reports them instead.
double decimal_to_double(std::string_view s) noexcept {
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec == std::errc::result_out_of_range) {
    bool negative = s.front() == '-';
    v = overflows(negative ? s.substr(1) : s) ? kInf : 0.0;
    if (negative) v = -v;
  }
  return v;
}

// Removes a sign; true if it was `-`.
bool take_sign(std::string_view& s) noexcept {
  if (s.empty() || (s.front() != '+' && s.front() != '-')) return false;
  bool negative = s.front() == '-';
  s.remove_prefix(1);
  return negative;
}

// The `-` to hand to std::from_chars (which rejects `+`): the sign and the digits.
std::string_view signed_span(std::string_view stripped, std::string_view unsigned_part) noexcept {
  return stripped.front() == '-' ? stripped : unsigned_part;
}

std::optional<double> special_float(std::string_view s, bool negative) noexcept {
  if (iequals(s, "inf") || iequals(s, "infinity")) return negative ? -kInf : kInf;
  if (iequals(s, "nan")) return negative ? -kNaN : kNaN;
  return std::nullopt;
}

// Python float(text); nullopt if Python would raise ValueError.
std::optional<double> python_float(std::string_view text) noexcept {
  std::string_view stripped = strip(text);
  std::string_view s = stripped;
  bool negative = take_sign(s);
  if (auto special = special_float(s, negative)) return special;
  DecimalShape shape = scan_decimal(s);
  if (!shape.ok) return std::nullopt;
  std::string_view span = signed_span(stripped, s);
  if (!shape.underscores) return decimal_to_double(span);
  return without_underscores(span, decimal_to_double);
}

// The digits of an integer literal (its sign removed, `_` too), exactly; nullopt past 2^64-1.
std::optional<std::uint64_t> exact_unsigned(std::string_view digits) noexcept {
  std::uint64_t v = 0;
  auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (r.ec != std::errc()) return std::nullopt;
  return v;
}

// Up to 19 plain digits (no uint64 overflow possible): almost every natural on the wire.
bool plain_digits(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty() || s.size() > 19) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    auto d = static_cast<unsigned char>(c - '0');
    if (d > 9) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

// Digits [. digits] [e …] with nothing around, as the RI emits reals: std::from_chars alone
// agrees with Python here. Anything else (or out of range) takes the full path.
bool simple_float(std::string_view s, double& out) noexcept {
  std::size_t lead = !s.empty() && s[0] == '-';
  if (s.size() <= lead || !is_digit(s[lead])) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::string natural_out_of_range(std::string_view text) {
  return invalid(text, "natural (out of range 0 ... 18446744073709551615)");
}

// int(float(s)) within 0 … 2^64-1 (see parse_value).
Result<Value> parse_natural(std::string_view text) {
  std::uint64_t plain = 0;
  if (plain_digits(text, plain)) return Value::natural(plain);
  std::string_view s = strip(text);
  const bool negative = take_sign(s);
  DecimalShape shape = scan_decimal(s);
  if (shape.ok && shape.integer) {  // `int(float(s))` would round past 2^53: be exact
    auto v = shape.underscores ? without_underscores(s, exact_unsigned) : exact_unsigned(s);
    if (!v || (negative && *v != 0)) return fail(natural_out_of_range(text));
    return Value::natural(*v);
  }
  std::optional<double> d = python_float(text);
  if (!d || !std::isfinite(*d)) return fail(invalid(text, "natural"));  // as int(inf), int(nan)
  double t = std::trunc(*d);  // -0.5 gives -0.0, which is 0
  if (!(t >= 0 && t < kTwoPow64)) return fail(natural_out_of_range(text));
  return Value::natural(static_cast<std::uint64_t>(t));
}

Result<Value> parse_real(std::string_view text) {
  double simple = 0;
  if (simple_float(text, simple)) return Value::real(simple);
  std::optional<double> d = python_float(text);
  if (!d) return fail(invalid(text, "real"));
  return Value::real(*d);
}

Result<Value> parse_boolean(std::string_view text) {
  if (text == "True" || text == "1") return Value::boolean(true);
  if (text == "False" || text == "0") return Value::boolean(false);
  std::string e = "Invalid boolean value ";
  e.append(text);
  return fail(std::move(e));
}

Result<Value> parse_time_value(std::string_view text) {
  auto t = parse_time(text);
  if (!t) return fail(std::move(t).error());
  return Value::time(*t);
}

Result<Value> parse_address_value(std::string_view text) {
  auto a = parse_address(text, /*allow_prefix=*/false);
  if (!a) return fail(std::move(a).error());
  return Value::address(*a);
}

std::size_t write_literal(char* out, std::string_view s) noexcept {
  std::memcpy(out, s.data(), s.size());
  return s.size();
}

// std::to_chars scientific output, split up: digits without the point, and the exponent.
struct Scientific {
  char digits[24];
  int count = 0;
  int exponent = 0;
};

// Digits of `n` (trailing zeros dropped) times 10^-scale.
Scientific from_scaled(std::int64_t n, int scale) noexcept {
  Scientific sci;
  sci.count = static_cast<int>(std::to_chars(sci.digits, sci.digits + sizeof sci.digits, n).ptr -
                               sci.digits);
  sci.exponent = sci.count - 1 - scale;
  while (sci.count > 1 && sci.digits[sci.count - 1] == '0') --sci.count;
  return sci;
}

// Fast path for values with few decimals (`12.5`, `47.3769`, `1000.0`), which std::to_chars
// takes ~45 ns for: the first scale 10^k at which v·10^k is an integer N with N/10^k == v
// gives the shortest round-trip digits. Below 2^49 at most one integer per scale round-trips
// (and the rounded product finds it), so no shorter or closer string exists.
bool few_decimals(double magnitude, Scientific& sci) noexcept {
  for (int k = 0; k < static_cast<int>(std::size(kPow10)); ++k) {
    double p = magnitude * kPow10[k];
    if (!(p < kFewDecimalsLimit)) return false;
    auto n = static_cast<std::int64_t>(p);
    if (static_cast<double>(n) != p || static_cast<double>(n) / kPow10[k] != magnitude) continue;
    sci = from_scaled(n, k);
    return true;
  }
  return false;
}

Scientific scientific(double magnitude) noexcept {
  Scientific fast;
  if (few_decimals(magnitude, fast)) return fast;
  char buf[40];
  char* end = std::to_chars(buf, buf + sizeof buf, magnitude, std::chars_format::scientific).ptr;
  Scientific sci;
  const char* p = buf;
  for (; *p != 'e'; ++p) {
    if (*p != '.') sci.digits[sci.count++] = *p;
  }
  bool negative_exponent = p[1] == '-';
  std::from_chars(p + 2, end, sci.exponent);
  if (negative_exponent) sci.exponent = -sci.exponent;
  return sci;
}

char* write_positional(char* out, const Scientific& sci) noexcept {
  if (sci.exponent < 0) {
    *out++ = '0';
    *out++ = '.';
    for (int i = -1; i > sci.exponent; --i) *out++ = '0';
    std::memcpy(out, sci.digits, static_cast<std::size_t>(sci.count));
    return out + sci.count;
  }
  int int_digits = sci.exponent + 1;
  for (int i = 0; i < int_digits; ++i) *out++ = i < sci.count ? sci.digits[i] : '0';
  *out++ = '.';
  if (sci.count <= int_digits) {
    *out++ = '0';
    return out;
  }
  std::size_t frac = static_cast<std::size_t>(sci.count - int_digits);
  std::memcpy(out, sci.digits + int_digits, frac);
  return out + frac;
}

char* write_exponential(char* out, const Scientific& sci) noexcept {
  *out++ = sci.digits[0];
  if (sci.count > 1) {
    *out++ = '.';
    std::memcpy(out, sci.digits + 1, static_cast<std::size_t>(sci.count - 1));
    out += sci.count - 1;
  }
  *out++ = 'e';
  *out++ = sci.exponent < 0 ? '-' : '+';
  int e = sci.exponent < 0 ? -sci.exponent : sci.exponent;
  if (e < 10) *out++ = '0';
  return std::to_chars(out, out + 4, e).ptr;
}

std::size_t format_time_value(char* out, TimePoint t) noexcept {
  switch (t.kind) {
    case TimeKind::kAbsolute:
      write_time26(out, t.us);
      return 26;
    case TimeKind::kPast:
      return write_literal(out, "past");
    case TimeKind::kNow:
      return write_literal(out, "now");
    case TimeKind::kFuture:
      return write_literal(out, "future");
  }
  return 0;
}

// Exact comparison of a natural with a double (no rounding of either side).
std::partial_ordering compare_natural_double(std::uint64_t n, double d) noexcept {
  if (std::isnan(d)) return std::partial_ordering::unordered;
  if (d >= kTwoPow64) return std::partial_ordering::less;
  if (d < 0) return std::partial_ordering::greater;
  double t = std::trunc(d);
  auto tn = static_cast<std::uint64_t>(t);
  if (n != tn) return n <=> tn;
  return 0.0 <=> d - t;  // exact: t is d without its fraction
}

std::partial_ordering compare_numbers(const Value& a, const Value& b) noexcept {
  bool a_int = a.kind() == ValueKind::kNatural;
  bool b_int = b.kind() == ValueKind::kNatural;
  if (a_int && b_int) return a.as_natural() <=> b.as_natural();
  if (a_int) return compare_natural_double(a.as_natural(), b.as_real());
  if (b_int)
    return 0 <=> compare_natural_double(b.as_natural(),  // NOLINT(modernize-use-nullptr)
                                        a.as_real());
  return a.as_real() <=> b.as_real();
}

// past < {absolute, now} < future; `now` and an absolute time are not comparable.
std::partial_ordering compare_times(TimePoint a, TimePoint b) noexcept {
  auto rank = [](TimeKind k) { return k == TimeKind::kPast ? 0 : k == TimeKind::kFuture ? 2 : 1; };
  int ra = rank(a.kind);
  int rb = rank(b.kind);
  if (ra != rb || ra != 1) return ra <=> rb;
  if (a.kind != b.kind) return std::partial_ordering::unordered;
  return a.us <=> b.us;  // both absolute, or both `now` (us is 0)
}

std::partial_ordering compare_addresses(const Address& a, const Address& b) noexcept {
  if (a.family != b.family) return std::partial_ordering::unordered;
  int c = std::memcmp(a.bytes, b.bytes, a.family == 4 ? 4 : 16);
  if (c != 0) return c <=> 0;
  return a.prefix <=> b.prefix;
}

// Byte order of UTF-8 is code point order (memcmp compares unsigned bytes).
std::partial_ordering compare_strings(std::string_view a, std::string_view b) noexcept {
  std::size_t common = std::min(a.size(), b.size());
  int c = common == 0 ? 0 : std::memcmp(a.data(), b.data(), common);
  if (c != 0) return c <=> 0;
  return a.size() <=> b.size();
}

bool is_number(ValueKind k) noexcept { return k == ValueKind::kNatural || k == ValueKind::kReal; }

}  // namespace

std::string_view prim_name(Prim p) noexcept {
  auto i = static_cast<std::size_t>(p);
  return i < std::size(kPrimNames) ? kPrimNames[i] : std::string_view("?");
}

std::optional<Prim> prim_from_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < std::size(kPrimNames); ++i) {
    if (kPrimNames[i] == name) return static_cast<Prim>(i);
  }
  return std::nullopt;
}

Result<Value> parse_value(Prim p, std::string_view text) {
  if (text == "*") return Value::none();
  switch (p) {
    case Prim::kString:
    case Prim::kUrl:
      return Value::string(text);
    case Prim::kNatural:
      return parse_natural(text);
    case Prim::kReal:
      return parse_real(text);
    case Prim::kBoolean:
      return parse_boolean(text);
    case Prim::kTime:
      return parse_time_value(text);
    case Prim::kAddress:
      return parse_address_value(text);
  }
  return fail(invalid(text, "value of an unknown primitive"));
}

namespace {

// Plain decimal digits, at most 19 of them: no overflow possible.
bool fast_natural(std::string_view t, Value& out) noexcept {
  std::uint64_t v = 0;
  if (!plain_digits(t, v)) return false;
  out = Value::natural(v);
  return true;
}

// [-]digits[.digits] with at most 15 significant digits: mantissa and 10^k are exact doubles,
// so one division is correctly rounded (Clinger's fast path), as Python's float() is.
bool clinger_real(std::string_view t, Value& out) noexcept {
  const bool neg = !t.empty() && t[0] == '-';
  std::size_t i = neg ? 1 : 0;
  std::int64_t mantissa = 0;
  int digits = 0, fraction = -1;
  for (; i < t.size(); ++i) {
    if (is_digit(t[i])) {
      mantissa = mantissa * 10 + (t[i] - '0');
      if (++digits > 15) return false;
      if (fraction >= 0) ++fraction;
    } else if (t[i] == '.' && fraction < 0) {
      fraction = 0;
    } else {
      return false;
    }
  }
  if (digits == 0) return false;
  const double v = static_cast<double>(mantissa) / kPow10[fraction < 0 ? 0 : fraction];
  out = Value::real(neg ? -v : v);
  return true;
}

// Digits, one '.', an exponent: what from_chars and Python's float() read identically.
bool fast_real(std::string_view t, Value& out) noexcept {
  if (clinger_real(t, out)) return true;
  if (t.empty() || t.size() > 32) return false;
  const std::size_t start = t[0] == '-' ? 1 : 0;
  if (t.size() <= start || !is_digit(t[start])) return false;
  for (char c : t.substr(start)) {
    if (!is_digit(c) && c != '.' && c != 'e' && c != 'E' && c != '-' && c != '+') return false;
  }
  double d = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
  if (ec != std::errc() || ptr != t.data() + t.size()) return false;
  out = Value::real(d);
  return true;
}

// Exactly `YYYY-MM-DD HH:MM:SS.ffffff`, the RI's emission, with calendar checks. Branch-free
// digit checks: this runs once per time value of every result row.
bool fast_time(std::string_view t, Value& out) noexcept {
  if (t.size() != 26) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(t.data());
  unsigned bad = 0;
  auto digit = [&](int i) {
    const unsigned d = static_cast<unsigned>(p[i]) - '0';
    bad |= d > 9 ? 1u : 0u;
    return static_cast<int>(d);
  };
  auto two = [&](int i) { return digit(i) * 10 + digit(i + 1); };
  bad |=
      (p[4] ^ '-') | (p[7] ^ '-') | (p[10] ^ ' ') | (p[13] ^ ':') | (p[16] ^ ':') | (p[19] ^ '.');
  const int year = two(0) * 100 + two(2);
  const int month = two(5), day = two(8), hour = two(11), minute = two(14), second = two(17);
  const int micros = two(20) * 10000 + two(22) * 100 + two(24);
  if (bad != 0) return false;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > kDays[month - 1]) return false;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return false;
  if (hour > 23 || minute > 59 || second > 59) return false;
  out = Value::time(TimePoint::absolute(make_time(year, month, day, hour, minute, second, micros)));
  return true;
}

// Dotted quad without leading zeros.
bool fast_ipv4(std::string_view t, Value& out) noexcept {
  Address a;
  a.family = 4;
  a.prefix = 32;
  std::size_t i = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (i >= t.size() || t[i] != '.') return false;
      ++i;
    }
    const std::size_t start = i;
    unsigned v = 0;
    while (i < t.size() && is_digit(t[i]) && i - start < 3)
      v = v * 10 + static_cast<unsigned>(t[i++] - '0');
    if (i == start || v > 255 || (i - start > 1 && t[start] == '0')) return false;
    a.bytes[octet] = static_cast<std::uint8_t>(v);
  }
  if (i != t.size()) return false;
  out = Value::address(a);
  return true;
}

}  // namespace

bool try_parse_value_fast(Prim p, std::string_view text, Value& out) noexcept {
  switch (p) {
    case Prim::kString:
    case Prim::kUrl:
      out = text == "*" ? Value::none() : Value::string(text);
      return true;
    case Prim::kNatural:
      return fast_natural(text, out);
    case Prim::kReal:
      return fast_real(text, out);
    case Prim::kBoolean:
      if (text == "True" || text == "1")
        out = Value::boolean(true);
      else if (text == "False" || text == "0")
        out = Value::boolean(false);
      else
        return false;
      return true;
    case Prim::kTime:
      return fast_time(text, out);
    case Prim::kAddress:
      return fast_ipv4(text, out);
  }
  return false;
}

std::size_t format_python_float(char* out, double v) noexcept {
  if (std::isnan(v)) return write_literal(out, "nan");  // Python drops the sign of a NaN
  if (std::isinf(v)) return write_literal(out, v < 0 ? "-inf" : "inf");
  char* p = out;
  if (std::signbit(v)) *p++ = '-';
  Scientific sci = scientific(std::fabs(v));
  bool positional = sci.exponent >= -4 && sci.exponent < 16;
  p = positional ? write_positional(p, sci) : write_exponential(p, sci);
  return static_cast<std::size_t>(p - out);
}

std::size_t format_scalar(char* out, const Value& v) noexcept {
  switch (v.kind()) {
    case ValueKind::kNone:
      return write_literal(out, "*");
    case ValueKind::kNatural:
      return static_cast<std::size_t>(std::to_chars(out, out + 24, v.as_natural()).ptr - out);
    case ValueKind::kReal:
      return format_python_float(out, v.as_real());
    case ValueKind::kBool:
      return write_literal(out, v.as_bool() ? "True" : "False");
    case ValueKind::kTime:
      return format_time_value(out, v.as_time());
    case ValueKind::kAddress:
      return format_address(out, v.as_address());
    case ValueKind::kString:
      return write_literal(out, v.as_string());  // `out` must hold as_string().size() bytes
  }
  return 0;
}

void append_value(std::string& out, const Value& v) {
  if (v.kind() == ValueKind::kString) {
    out.append(v.as_string());
    return;
  }
  char buf[kMaxScalarChars];
  out.append(buf, format_scalar(buf, v));
}

std::string format_value(const Value& v) {
  std::string s;
  append_value(s, v);
  return s;
}

std::partial_ordering compare_values(const Value& a, const Value& b) noexcept {
  if (is_number(a.kind()) && is_number(b.kind())) return compare_numbers(a, b);
  if (a.kind() != b.kind()) return std::partial_ordering::unordered;
  switch (a.kind()) {
    case ValueKind::kTime:
      return compare_times(a.as_time(), b.as_time());
    case ValueKind::kAddress:
      return compare_addresses(a.as_address(), b.as_address());
    case ValueKind::kString:
      return compare_strings(a.as_string(), b.as_string());
    case ValueKind::kBool:
      return a.as_bool() == b.as_bool() ? std::partial_ordering::equivalent
                                        : std::partial_ordering::unordered;
    default:
      return std::partial_ordering::unordered;  // none, and kinds already handled
  }
}

bool values_equal(const Value& a, const Value& b) noexcept {
  return compare_values(a, b) == 0;  // NOLINT(modernize-use-nullptr): the <=> idiom
}

}  // namespace mplane::model
