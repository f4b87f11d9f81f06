// Time points and durations in the RI's textual forms (PROTOCOL.md §2.2).
//
// Calendar arithmetic uses Howard Hinnant's days-from-civil algorithms (proleptic Gregorian,
// no tables, no libc time functions), so formatting never allocates nor touches the locale.
#include "parsers/mplane/time_value.h"

#include <charconv>

namespace mplane::model {
namespace {

constexpr std::int64_t kSecondsPerDay = 86400;
constexpr Micros kMicrosPerDay = kSecondsPerDay * kMicrosPerSecond;
// Error texts quote at most this many input bytes: a peer must not get a huge echo back.
constexpr std::size_t kMaxQuoted = 200;

constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

constexpr std::int64_t days_from_civil(std::int64_t y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Date {
  std::int64_t year;
  int month, day;
};

constexpr Date civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2), m, d};
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(1, 1, 1) * kMicrosPerDay == kMinTime);
static_assert((days_from_civil(9999, 12, 31) + 1) * kMicrosPerDay - 1 == kMaxTime);

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(std::int64_t y, int m) {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// The digit run at s[i], advancing i past it.
std::string_view take_digits(std::string_view s, std::size_t& i) {
  const std::size_t from = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  return s.substr(from, i - from);
}

bool take_char(std::string_view s, std::size_t& i, char c) {
  if (i >= s.size() || s[i] != c) return false;
  ++i;
  return true;
}

std::string quoted(std::string_view text) {
  std::string out = "'";
  out.append(text.substr(0, kMaxQuoted));
  if (text.size() > kMaxQuoted) out += "...";
  return out += '\'';
}

// ---- parse_time ----------------------------------------------------------------------------

// The digit runs of the RI's pattern `(\d+-\d+-\d+)(\s+\d+:\d+(:\d+)?)?(\.\d+)?`.
struct TimeDigits {
  std::string_view year, month, day, hour, minute, second, fraction;
};

// `\s+\d+:\d+(:\d+)?` at s[i]; on a match sets the fields and advances i. An ISO `T` is taken as
// the separator too: the RI silently drops such a time (reads midnight); we read it correctly.
void match_clock(std::string_view s, std::size_t& i, TimeDigits& f) {
  std::size_t j = i;
  if (!take_char(s, j, 'T')) {
    while (j < s.size() && is_space(s[j])) ++j;
    if (j == i) return;
  }
  const std::string_view hour = take_digits(s, j);
  if (hour.empty() || !take_char(s, j, ':')) return;
  const std::string_view minute = take_digits(s, j);
  if (minute.empty()) return;
  f.hour = hour;
  f.minute = minute;
  i = j;
  if (take_char(s, j, ':') && !take_digits(s, j).empty()) {
    f.second = s.substr(i + 1, j - i - 1);
    i = j;
  }
}

// Matches the pattern at the start of s (trailing text is ignored, as by the RI).
bool match_time_prefix(std::string_view s, TimeDigits& f) {
  std::size_t i = 0;
  f.year = take_digits(s, i);
  if (f.year.empty() || !take_char(s, i, '-')) return false;
  f.month = take_digits(s, i);
  if (f.month.empty() || !take_char(s, i, '-')) return false;
  f.day = take_digits(s, i);
  if (f.day.empty()) return false;
  match_clock(s, i, f);
  std::size_t j = i;
  if (take_char(s, j, '.')) f.fraction = take_digits(s, j);
  return true;
}

// A 1–`max_len` digit field in [lo, hi] (what strptime's %m, %d, %H, %M, %S accept).
bool field_in(std::string_view digits, std::size_t max_len, int lo, int hi, int& out) {
  if (digits.empty() || digits.size() > max_len) return false;
  const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  return r.ec == std::errc() && out >= lo && out <= hi;
}

// Empty when the fields form a valid civil time, else the reason.
const char* convert_time(const TimeDigits& f, CivilTime& c) {
  c = CivilTime{};
  if (!f.fraction.empty() && f.second.empty()) return "fraction without seconds";
  if (!field_in(f.year, 4, 1, 9999, c.year) || f.year.size() != 4)
    return "year must be 4 digits, 0001..9999";
  if (!field_in(f.month, 2, 1, 12, c.month)) return "month must be 1..12";
  if (!field_in(f.day, 2, 1, days_in_month(c.year, c.month), c.day))
    return "day is out of range for month";
  if (!f.hour.empty() && !field_in(f.hour, 2, 0, 23, c.hour)) return "hour must be 0..23";
  if (!f.minute.empty() && !field_in(f.minute, 2, 0, 59, c.minute)) return "minute must be 0..59";
  if (!f.second.empty() && !field_in(f.second, 2, 0, 59, c.second)) return "second must be 0..59";
  if (f.fraction.size() > 6) return "more than 6 fractional digits";
  for (std::size_t k = 0; k < 6; ++k) {
    c.micros = c.micros * 10 + (k < f.fraction.size() ? f.fraction[k] - '0' : 0);
  }
  return "";
}

// ---- formatting ----------------------------------------------------------------------------

void write_digits(char* out, std::int64_t v, int width) noexcept {
  for (int k = width - 1; k >= 0; --k) {
    out[k] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// ---- parse_duration ------------------------------------------------------------------------

struct DurationUnit {
  char name;
  std::int64_t seconds;
};
constexpr DurationUnit kUnits[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
constexpr std::int64_t kMaxDurationSeconds = kMaxDuration / kMicrosPerSecond;

// Index of the unit named c at or after `from`, or -1 (unknown unit or out of order).
int unit_index(char c, int from) {
  for (int u = from; u < 4; ++u) {
    if (kUnits[u].name == c) return u;
  }
  return -1;
}

Result<Micros> duration_error(std::string_view text, const char* why) {
  return fail(quoted(text) + " does not appear to be an mPlane duration (" + why + ")");
}

}  // namespace

// ---- calendar ------------------------------------------------------------------------------

MicrosSinceEpoch make_time(int year, int month, int day, int hour, int minute, int second,
                           int micros) noexcept {
  const std::int64_t secs =
      days_from_civil(year, month, day) * kSecondsPerDay + hour * 3600LL + minute * 60LL + second;
  return secs * kMicrosPerSecond + micros;
}

CivilTime civil_time(MicrosSinceEpoch t) noexcept {
  const std::int64_t days = floor_div(t, kMicrosPerDay);
  const std::int64_t in_day = t - days * kMicrosPerDay;
  const Date d = civil_from_days(days);
  const auto secs = static_cast<int>(in_day / kMicrosPerSecond);
  CivilTime c{};
  c.year = static_cast<int>(d.year);
  c.month = d.month;
  c.day = d.day;
  c.hour = secs / 3600;
  c.minute = secs / 60 % 60;
  c.second = secs % 60;
  c.micros = static_cast<int>(in_day % kMicrosPerSecond);
  c.weekday = static_cast<int>(((days + 4) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
  return c;
}

// ---- times ---------------------------------------------------------------------------------

Result<TimePoint> parse_time(std::string_view text) {
  if (text == "past") return TimePoint::past();
  if (text == "now") return TimePoint::now();
  if (text == "future") return TimePoint::future();
  TimeDigits f;
  if (!match_time_prefix(text, f)) {
    return fail(quoted(text) + " does not appear to be an mPlane timestamp");
  }
  CivilTime c;
  const char* why = convert_time(f, c);
  if (*why != '\0') {
    return fail(quoted(text) + " does not appear to be an mPlane timestamp (" + why + ")");
  }
  return TimePoint::absolute(
      make_time(c.year, c.month, c.day, c.hour, c.minute, c.second, c.micros));
}

void write_time26(char* out, MicrosSinceEpoch t) noexcept {
  t = t < kMinTime ? kMinTime : (t > kMaxTime ? kMaxTime : t);
  const std::int64_t days = floor_div(t, kMicrosPerDay);
  const std::int64_t in_day = t - days * kMicrosPerDay;
  const Date d = civil_from_days(days);
  const std::int64_t secs = in_day / kMicrosPerSecond;
  write_digits(out, d.year, 4);
  out[4] = '-';
  write_digits(out + 5, d.month, 2);
  out[7] = '-';
  write_digits(out + 8, d.day, 2);
  out[10] = ' ';
  write_digits(out + 11, secs / 3600, 2);
  out[13] = ':';
  write_digits(out + 14, secs / 60 % 60, 2);
  out[16] = ':';
  write_digits(out + 17, secs % 60, 2);
  out[19] = '.';
  write_digits(out + 20, in_day % kMicrosPerSecond, 6);
}

void append_time(std::string& out, TimePoint t) {
  switch (t.kind) {
    case TimeKind::kPast:
      out += "past";
      return;
    case TimeKind::kNow:
      out += "now";
      return;
    case TimeKind::kFuture:
      out += "future";
      return;
    case TimeKind::kAbsolute:
      break;
  }
  char buf[26];
  write_time26(buf, t.us);
  out.append(buf, sizeof buf);
}

std::string format_time(TimePoint t) {
  std::string out;
  append_time(out, t);
  return out;
}

// ---- durations -----------------------------------------------------------------------------

Result<Micros> parse_duration(std::string_view text) {
  if (text == "inf") return kInfiniteDuration;
  if (text.empty()) return duration_error(text, "empty");
  std::int64_t total = 0;
  int next_unit = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const std::string_view n = take_digits(text, i);
    if (n.empty() || i >= text.size()) return duration_error(text, "expected <number><unit>");
    const int u = unit_index(text[i], next_unit);
    if (u < 0) return duration_error(text, "units are d, h, m, s in this order");
    std::int64_t v = 0;
    const auto r = std::from_chars(n.data(), n.data() + n.size(), v);
    if (r.ec != std::errc() || v > (kMaxDurationSeconds - total) / kUnits[u].seconds) {
      return duration_error(text, "too long");
    }
    total += v * kUnits[u].seconds;
    next_unit = u + 1;
  }
  return total * kMicrosPerSecond;
}

void append_duration(std::string& out, Micros d) {
  std::int64_t secs = d / kMicrosPerSecond;  // truncated, like the RI's int(total_seconds())
  if (secs <= 0) {
    out += "0s";
    return;
  }
  for (const DurationUnit& u : kUnits) {
    if (secs < u.seconds) continue;
    append_int(out, secs / u.seconds);
    out += u.name;
    secs %= u.seconds;
  }
}

std::string format_duration(Micros d) {
  std::string out;
  append_duration(out, d);
  return out;
}

}  // namespace mplane::model
