// Temporal scopes (PROTOCOL.md §2.4): parsing, the RI's canonical text, semantics, iteration.
//
// The semantics reproduce the RI's `When` class (mplane/model.py, branch sdk) rule for rule;
// where the RI would raise (a `past` or `future` compared with a datetime, an iterator over a
// non-repeated scope) we return the harmless answer documented at each place instead.
// Longer than the ~200-line guide because it holds one grammar and its semantics together.
#include "parsers/mplane/when.h"

#include <algorithm>
#include <charconv>

namespace mplane::model {
namespace {

constexpr std::string_view kRepeat = "repeat ";
constexpr std::string_view kCron = " cron ";
constexpr std::string_view kInnerOpen = " { ";
constexpr std::string_view kRangeSep = " ... ";
constexpr std::string_view kDurationSep = " + ";
constexpr std::string_view kPeriodSep = " / ";
constexpr std::size_t kMaxQuoted = 200;
constexpr Micros kMicrosPerMinute = 60 * kMicrosPerSecond;
constexpr Micros kMicrosPerHour = 60 * kMicrosPerMinute;
constexpr Micros kMicrosPerDay = 24 * kMicrosPerHour;
// Upper bound of one crontab scan (~3,000 years): keeps `t + budget` far from overflow.
constexpr std::int64_t kMaxScanBudgetSeconds = 100'000'000'000LL;

std::string quoted(std::string_view text) {
  std::string out = "'";
  out.append(text.substr(0, kMaxQuoted));
  if (text.size() > kMaxQuoted) out += "...";
  return out += '\'';
}

std::string not_a(std::string_view text, std::string_view what, std::string_view why) {
  std::string out = quoted(text);
  out.append(" does not appear to be an mPlane ").append(what);
  return out.append(" (").append(why).append(")");
}

// Python's str.split(sep) limited to what we need: the part before the first separator, the
// part after it, and how many parts there are in all.
struct Split {
  std::string_view head, tail;
  int parts = 1;
};

Split split_on(std::string_view s, std::string_view sep) {
  Split r{s, {}, 1};
  std::size_t pos = s.find(sep);
  if (pos == std::string_view::npos) return r;
  r.head = s.substr(0, pos);
  r.tail = s.substr(pos + sep.size());
  r.parts = 2;
  for (pos = s.find(sep, pos + sep.size()); pos != std::string_view::npos;
       pos = s.find(sep, pos + sep.size())) {
    ++r.parts;
  }
  return r;
}

// ---- crontab fields ------------------------------------------------------------------------

bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// A number made of digits only, within [lo, hi].
bool cron_number(std::string_view s, int lo, int hi, int& out) {
  if (s.empty() || s.size() > 4) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  std::from_chars(s.data(), s.data() + s.size(), out);
  return out >= lo && out <= hi;
}

// `*`, `n,m,...` or one inclusive range `n-m`; values in [lo, hi] (N > hi). Returns false on a
// malformed field. Stricter than the RI: no empty or reversed ranges (the RI reads them as the
// empty set, which then matches everything), no values it would silently never match.
template <std::size_t N>
bool parse_cron_field(std::string_view f, int lo, int hi, std::bitset<N>& out) {
  out.reset();
  if (f == "*") {
    for (int v = lo; v <= hi; ++v) out.set(static_cast<std::size_t>(v));
    return true;
  }
  const Split range = split_on(f, "-");
  if (range.parts == 2) {
    int a = 0, b = 0;
    if (!cron_number(range.head, lo, hi, a) || !cron_number(range.tail, lo, hi, b) || a > b)
      return false;
    for (int v = a; v <= b; ++v) out.set(static_cast<std::size_t>(v));
    return true;
  }
  if (range.parts > 2) return false;
  for (std::string_view rest = f;;) {
    const Split item = split_on(rest, ",");
    int v = 0;
    if (!cron_number(item.head, lo, hi, v)) return false;
    out.set(static_cast<std::size_t>(v));
    if (item.parts == 1) return true;
    rest = item.tail;
  }
}

template <std::size_t N>
void append_cron_field(std::string& out, const std::bitset<N>& bits) {
  bool first = true;
  for (std::size_t v = 0; v < N; ++v) {
    if (!bits[v]) continue;
    if (!first) out += ',';
    first = false;
    char buf[4];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
  }
}

// Splits on runs of whitespace like Python's str.split(); at most `max` fields are kept.
int split_fields(std::string_view s, std::string_view* fields, int max) {
  int n = 0;
  std::size_t i = 0;
  while (true) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i == s.size()) return n;
    const std::size_t from = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (n < max) fields[n] = s.substr(from, i - from);
    ++n;
  }
}

// ---- crontab scanning ----------------------------------------------------------------------

// First set bit in [from, limit), or -1.
template <std::size_t N>
int next_bit(const std::bitset<N>& bits, int from, int limit) {
  for (int v = from; v < limit; ++v) {
    if (bits[static_cast<std::size_t>(v)]) return v;
  }
  return -1;
}

MicrosSinceEpoch start_of_next_month(const CivilTime& c) {
  return c.month == 12 ? make_time(c.year + 1, 1, 1, 0, 0, 0, 0)
                       : make_time(c.year, c.month + 1, 1, 0, 0, 0, 0);
}

// `t` (a whole second) if the crontab matches it, else the next second that may match: every
// second skipped is known not to match, so a scan skips whole months, days, hours, minutes.
MicrosSinceEpoch next_candidate(const Crontab& cron, MicrosSinceEpoch t) {
  const CivilTime c = civil_time(t);
  const MicrosSinceEpoch minute = t - c.second * kMicrosPerSecond;
  const MicrosSinceEpoch hour = minute - c.minute * kMicrosPerMinute;
  const MicrosSinceEpoch day = hour - c.hour * kMicrosPerHour;
  if (!cron.months[static_cast<std::size_t>(c.month)]) return start_of_next_month(c);
  if (!cron.days[static_cast<std::size_t>(c.day)] ||
      !cron.weekdays[static_cast<std::size_t>(c.weekday)]) {
    return day + kMicrosPerDay;
  }
  if (!cron.hours[static_cast<std::size_t>(c.hour)]) {
    const int h = next_bit(cron.hours, c.hour + 1, 24);
    return h < 0 ? day + kMicrosPerDay : day + h * kMicrosPerHour;
  }
  if (!cron.minutes[static_cast<std::size_t>(c.minute)]) {
    const int m = next_bit(cron.minutes, c.minute + 1, 60);
    return m < 0 ? hour + kMicrosPerHour : hour + m * kMicrosPerMinute;
  }
  if (!cron.seconds[static_cast<std::size_t>(c.second)]) {
    const int s = next_bit(cron.seconds, c.second + 1, 60);
    return s < 0 ? minute + kMicrosPerMinute : minute + s * kMicrosPerSecond;
  }
  return t;
}

struct Scan {
  std::optional<MicrosSinceEpoch> match;
  MicrosSinceEpoch resume;  // first second not yet tested
};

// The first matching second in [t, limit] (t a whole second).
Scan scan_crontab(const Crontab& cron, MicrosSinceEpoch t, MicrosSinceEpoch limit) {
  while (t <= limit) {
    const MicrosSinceEpoch next = next_candidate(cron, t);
    if (next == t) return {t, t + kMicrosPerSecond};
    t = next;
  }
  return {std::nullopt, t};
}

// ---- parsing -------------------------------------------------------------------------------

// Everything a scope text can carry; When::parse copies it into the When.
struct Parsed {
  bool repeated = false;
  TimePoint start;
  std::optional<TimePoint> end;
  std::optional<Micros> duration, period, inner_duration, inner_period;
  std::optional<Crontab> cron;
};

// Records why a parse step failed; returns false for `return reject(error, "...")`.
bool reject(std::string& error, const char* why) {
  error = why;
  return false;
}

// Moves a parse result into `out`; on failure stores its error and returns false.
template <class T>
bool take(Result<T> r, T& out, std::string& error) {
  if (!r.ok()) {
    error = std::move(r).error();
    return false;
  }
  out = r.value();
  return true;
}

template <class T>
bool take(Result<T> r, std::optional<T>& out, std::string& error) {
  T v{};
  if (!take(std::move(r), v, error)) return false;
  out = v;
  return true;
}

// `point [" ... " point]` or `point " + " duration`, the part of a simple when before ` / `.
bool parse_extent(std::string_view s, Parsed& p, std::string& error) {
  const Split span = split_on(s, kDurationSep);
  if (span.parts > 2) return reject(error, "more than one ' + '");
  if (span.parts == 2) {
    return take(parse_time(span.head), p.start, error) &&
           take(parse_duration(span.tail), p.duration, error);
  }
  const Split range = split_on(s, kRangeSep);
  if (range.parts > 2) return reject(error, "more than one ' ... '");
  if (!take(parse_time(range.head), p.start, error)) return false;
  return range.parts == 1 || take(parse_time(range.tail), p.end, error);
}

// A simple when (or the outer scope of a repeated one): extent [" / " period].
bool parse_simple(std::string_view s, Parsed& p, std::string& error) {
  const Split period = split_on(s, kPeriodSep);
  if (period.parts > 2) return reject(error, "more than one ' / '");
  if (period.parts == 2 && !take(parse_duration(period.tail), p.period, error)) return false;
  return parse_extent(period.head, p, error);
}

// The text between ` { ` and ` }`: "now" [" + " duration] [" / " duration].
bool parse_inner(std::string_view s, Parsed& p, std::string& error) {
  if (!s.starts_with("now")) return reject(error, "inner when has to be relative to now");
  const Split period = split_on(s, kPeriodSep);
  if (period.parts > 2) return reject(error, "more than one ' / ' in the inner when");
  if (period.parts == 2 && !take(parse_duration(period.tail), p.inner_period, error)) return false;
  const Split span = split_on(period.head, kDurationSep);
  if (span.head != "now" || span.parts > 2) {
    return reject(error, "inner when must be 'now [+ duration] [/ duration]'");
  }
  return span.parts == 1 || take(parse_duration(span.tail), p.inner_duration, error);
}

// Splits off and parses ` { inner }` (optionally followed by one space, as the RI writes it);
// returns the outer text in `outer`.
bool parse_inner_part(std::string_view body, std::string_view& outer, Parsed& p,
                      std::string& error) {
  const std::size_t open = body.find(kInnerOpen);
  outer = body.substr(0, open);
  if (open == std::string_view::npos) return true;
  std::string_view inner = body.substr(open + kInnerOpen.size());
  if (inner.ends_with(" } ")) {
    inner.remove_suffix(3);
  } else if (inner.ends_with(" }")) {
    inner.remove_suffix(2);
  } else {
    return reject(error, "inner when not closed by ' }' at the end");
  }
  return parse_inner(inner, p, error);
}

// The RI's rules on the outer scope of a repeated when.
bool check_repeated(const Parsed& p, std::string& error) {
  if (!p.cron && !p.period) return reject(error, "no duration or cron set");
  if (p.cron && p.period) return reject(error, "duration and cron set at the same time");
  // The RI loops forever on a zero period; a scope that cannot be iterated is refused here.
  if (p.period && *p.period <= 0) return reject(error, "period must be positive");
  return true;
}

// The text after "repeat ": outer [" cron " crontab] [" { " inner " }"].
bool parse_repeated(std::string_view body, Parsed& p, std::string& error) {
  p.repeated = true;
  std::string_view outer;
  if (!parse_inner_part(body, outer, p, error)) return false;
  const Split cron = split_on(outer, kCron);
  if (cron.parts > 2) return reject(error, "more than one ' cron '");
  if (cron.parts == 2 && !take(Crontab::parse(cron.tail), p.cron, error)) return false;
  return parse_simple(cron.head, p, error) && check_repeated(p, error);
}

// ---- semantics helpers ---------------------------------------------------------------------

// Where a scope point lies at `now`. `past` is unbounded (nullopt); `future` as a start and
// `past` as an end are nonsense the RI cannot evaluate: they become the ends of time.
std::optional<MicrosSinceEpoch> resolve_start(TimePoint a, MicrosSinceEpoch now) {
  switch (a.kind) {
    case TimeKind::kNow:
      return now;
    case TimeKind::kPast:
      return std::nullopt;
    case TimeKind::kFuture:
      return kMaxTime;
    case TimeKind::kAbsolute:
      break;
  }
  return a.us;
}

std::optional<MicrosSinceEpoch> resolve_end(TimePoint b, MicrosSinceEpoch now) {
  switch (b.kind) {
    case TimeKind::kNow:
      return now;
    case TimeKind::kPast:
      return kMinTime;
    case TimeKind::kFuture:
      return std::nullopt;
    case TimeKind::kAbsolute:
      break;
  }
  return b.us;
}

// RI sort_scope() == 0 for a scope point: `now` is in any scope that starts or ends with `now`;
// `past`/`future` are only comparable with a scope unbounded on both sides (the RI raises a
// TypeError otherwise — an HTTP 500 — which we turn into "not in scope").
bool point_in_scope(const When& scope, TimePoint p, MicrosSinceEpoch now) {
  switch (p.kind) {
    case TimeKind::kNow:
      if (scope.start().kind == TimeKind::kNow) return true;
      if (scope.end() && scope.end()->kind == TimeKind::kNow) return true;
      return scope.in_scope(now, now);
    case TimeKind::kPast:  // before any time: in every scope without a lower bound
      return !scope.resolve(now).start;
    case TimeKind::kFuture: {
      const Interval iv = scope.resolve(now);
      return !iv.start && !iv.end;
    }
    case TimeKind::kAbsolute:
      break;
  }
  return scope.in_scope(p.us, now);
}

MicrosSinceEpoch floor_to_second(MicrosSinceEpoch t) {
  const MicrosSinceEpoch r = t % kMicrosPerSecond;
  return r < 0 ? t - r - kMicrosPerSecond : t - r;
}

}  // namespace

// ---- Crontab -------------------------------------------------------------------------------

Result<Crontab> Crontab::parse(std::string_view six_fields) {
  std::string_view f[6];
  const int n = split_fields(six_fields, f, 6);
  if (n != 6) {
    return fail(
        not_a(six_fields, "crontab",
              "expected 6 fields (sec min hour mday wday month), got " + std::to_string(n)));
  }
  Crontab c;
  // Hours take 0..59 like the RI, whose `*` expands to 0..59: the canonical text must re-parse.
  // Hours 24..59 never match.
  const char* bad = !parse_cron_field(f[0], 0, 59, c.seconds)   ? "seconds"
                    : !parse_cron_field(f[1], 0, 59, c.minutes) ? "minutes"
                    : !parse_cron_field(f[2], 0, 59, c.hours)   ? "hours"
                    : !parse_cron_field(f[3], 1, 31, c.days)    ? "days of month"
                    : !parse_cron_field(f[4], 0, 6, c.weekdays) ? "weekdays (Sunday = 0)"
                    : !parse_cron_field(f[5], 1, 12, c.months)  ? "months"
                                                                : nullptr;
  if (bad != nullptr) {
    return fail(not_a(six_fields, "crontab",
                      std::string("bad ") + bad + " field: '*', a list or one range"));
  }
  c.hours_star = c.hours.all();  // `*` and its canonical expansion 0..59 are the same crontab
  return c;
}

void Crontab::append_canonical(std::string& out) const {
  append_cron_field(out, seconds);
  out += ' ';
  append_cron_field(out, minutes);
  out += ' ';
  append_cron_field(out, hours);
  out += ' ';
  append_cron_field(out, days);
  out += ' ';
  append_cron_field(out, weekdays);
  out += ' ';
  append_cron_field(out, months);
}

bool Crontab::matches(MicrosSinceEpoch t) const noexcept {
  const CivilTime c = civil_time(t);
  return seconds[static_cast<std::size_t>(c.second)] &&
         minutes[static_cast<std::size_t>(c.minute)] && hours[static_cast<std::size_t>(c.hour)] &&
         days[static_cast<std::size_t>(c.day)] && weekdays[static_cast<std::size_t>(c.weekday)] &&
         months[static_cast<std::size_t>(c.month)];
}

// ---- When: parsing and text ----------------------------------------------------------------

Result<When> When::parse(std::string_view text) {
  Parsed p;
  std::string error;
  const bool repeated = text.starts_with(kRepeat);
  if (!repeated && text.find(kRepeat) != std::string_view::npos) {
    return fail(not_a(text, "when", "'repeat ' must come first"));
  }
  const bool ok = repeated ? parse_repeated(text.substr(kRepeat.size()), p, error)
                           : parse_simple(text, p, error);
  if (!ok) return fail(not_a(text, repeated ? "repeated-when" : "when", error));
  When w;
  w.repeated_ = p.repeated;
  w.start_ = p.start;
  w.end_ = p.end;
  w.duration_ = p.duration;
  w.period_ = p.period;
  w.cron_ = p.cron;
  w.inner_duration_ = p.inner_duration;
  w.inner_period_ = p.inner_period;
  return w;
}

When When::singleton(TimePoint at) {
  When w;
  w.start_ = at;
  return w;
}

When When::range(TimePoint start, TimePoint end, std::optional<Micros> period) {
  When w = singleton(start);
  w.end_ = end;
  w.period_ = period;
  return w;
}

When When::span(TimePoint start, Micros duration, std::optional<Micros> period) {
  When w = singleton(start);
  w.duration_ = duration;
  w.period_ = period;
  return w;
}

void When::append_canonical(std::string& out) const {
  if (repeated_) out += kRepeat;
  append_time(out, start_);
  if (end_) {
    out += kRangeSep;
    append_time(out, *end_);
  } else if (duration_) {
    out += kDurationSep;
    append_duration(out, *duration_);
  }
  if (period_) {
    out += kPeriodSep;
    append_duration(out, *period_);
  }
  if (cron_) {
    out += kCron;
    cron_->append_canonical(out);
  }
  if (!inner_duration_) return;  // the RI drops a duration-less inner scope from the text
  out += " { now + ";
  append_duration(out, *inner_duration_);
  if (inner_period_) {
    out += kPeriodSep;
    append_duration(out, *inner_period_);
  }
  out += " } ";  // trailing space: RI INNER_WHEN_SEP_END
}

std::string When::canonical() const {
  std::string out;
  append_canonical(out);
  return out;
}

// ---- When: semantics -----------------------------------------------------------------------

bool When::is_definite() const { return start_.is_absolute() && (!end_ || end_->is_absolute()); }

// RI datetimes(): a missing end is start + duration, or start itself for a singleton. With an
// unbounded (`past`) start the RI fails there; we leave the end unbounded as well.
Interval When::resolve(MicrosSinceEpoch now) const {
  Interval iv;
  iv.start = resolve_start(start_, now);
  if (end_) {
    iv.end = resolve_end(*end_, now);
  } else if (iv.start) {
    iv.end = *iv.start + duration_.value_or(0);
  }
  return iv;
}

std::optional<Micros> When::resolved_duration(MicrosSinceEpoch now) const {
  if (duration_) return duration_;
  if (!end_) return Micros{0};
  if (end_->kind == TimeKind::kFuture) return std::nullopt;
  const Interval iv = resolve(now);
  if (!iv.start || !iv.end) return std::nullopt;
  return *iv.end - *iv.start;
}

bool When::in_scope(MicrosSinceEpoch t, MicrosSinceEpoch now) const {
  const Interval iv = resolve(now);
  return (!iv.start || t >= *iv.start) && (!iv.end || t <= *iv.end);
}

// RI When.follows: only the period rule and the start (or absolute end) are checked.
bool When::follows(const When& capability, MicrosSinceEpoch now) const {
  if (const auto cap_period = capability.period()) {
    const std::optional<Micros> mine = repeated_ ? inner_period_ : period_;
    if (!mine || *mine < *cap_period) return false;
  }
  if (point_in_scope(capability, start_, now)) return true;
  return end_ && end_->is_absolute() && capability.in_scope(end_->us, now);
}

// RI timer_delays. Note the RI's quirk: a duration counts from the clamped start.
TimerDelays When::timer_delays(MicrosSinceEpoch now) const {
  const Interval iv = resolve(now);
  TimerDelays d;
  d.start_delay = iv.start ? std::max<Micros>(0, *iv.start - now) : 0;
  if (end_ && end_->kind != TimeKind::kFuture) {
    d.end_delay = *iv.end - now;
  } else if (duration_) {
    d.end_delay = d.start_delay + *duration_;
  } else if (!end_) {
    d.end_delay = d.start_delay;  // singleton: duration 0
  }
  if (d.end_delay && *d.end_delay < 0) return TimerDelays{0, std::nullopt, true};
  return d;
}

When When::envelope_scope(MicrosSinceEpoch now) const {
  const Interval iv = resolve(now);
  When e;
  e.start_ = iv.start ? TimePoint::absolute(*iv.start) : TimePoint::past();
  const bool bounded = duration_ || (end_ && end_->kind != TimeKind::kFuture);
  if (bounded && iv.end) e.end_ = TimePoint::absolute(*iv.end);
  e.period_ = period_;
  return e;
}

// ---- OccurrenceIterator --------------------------------------------------------------------

// The RI raises on a non-repeated scope; here such an iterator is simply exhausted at once.
// The end is clamped to kMaxTime so that no occurrence needs a five-digit year.
OccurrenceIterator::OccurrenceIterator(const When& repeated, MicrosSinceEpoch from)
    : when_(&repeated),
      t_(floor_to_second(std::clamp(from, kMinTime, kMaxTime))),
      step_(repeated.period_.value_or(kMicrosPerSecond)) {
  const Interval first = repeated.resolve(t_);
  if (first.start && t_ < *first.start) t_ = *first.start;
  const std::optional<MicrosSinceEpoch> end = repeated.resolve(t_).end;  // computed once
  end_ = std::min(end.value_or(kMaxTime), kMaxTime);
  if (repeated.cron_ || step_ <= 0) step_ = kMicrosPerSecond;
  exhausted_ = !repeated.repeated_ || t_ > *end_;
}

std::optional<MicrosSinceEpoch> OccurrenceIterator::next(std::int64_t max_scan_seconds) {
  if (exhausted_ || t_ > *end_) {
    exhausted_ = true;
    return std::nullopt;
  }
  if (!when_->cron_) {
    const MicrosSinceEpoch occurrence = t_;
    t_ += step_;
    return occurrence;
  }
  // Scan whole seconds keeping t_'s sub-second part (non-zero only after a jump to an outer
  // start with microseconds), as the RI steps by exactly 1 s.
  const Micros budget = std::clamp<std::int64_t>(max_scan_seconds, 1, kMaxScanBudgetSeconds);
  const MicrosSinceEpoch frac = t_ - floor_to_second(t_);
  const MicrosSinceEpoch limit = std::min(*end_, t_ + budget * kMicrosPerSecond - 1) - frac;
  const Scan scan = scan_crontab(*when_->cron_, t_ - frac, limit);
  t_ = scan.resume + frac;
  if (scan.match) return *scan.match + frac;
  exhausted_ = t_ > *end_;
  return std::nullopt;
}

When OccurrenceIterator::sub_scope(MicrosSinceEpoch occurrence) const {
  // RI: When(a=t, period=inner_period, duration=inner_duration) — an inner period without an
  // inner duration still gives `T / period`.
  When w = When::singleton(TimePoint::absolute(occurrence));
  w.duration_ = when_->inner_duration_;
  w.period_ = when_->inner_period_;
  return w;
}

}  // namespace mplane::model
