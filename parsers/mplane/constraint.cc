#include "parsers/mplane/constraint.h"

#include <algorithm>

namespace mplane::model {
namespace {

constexpr std::string_view kRangeSep = " ... ";

Status<> parse_range(Prim prim, std::string_view text, std::size_t sep, std::vector<Value>& out) {
  std::string_view lo_text = text.substr(0, sep);
  std::string_view hi_text = text.substr(sep + kRangeSep.size());
  if (hi_text.find(kRangeSep) != std::string_view::npos) {
    return fail("'" + std::string(text) + "' is not a valid range: too many ' ... '");
  }
  auto lo = parse_value(prim, lo_text);
  if (!lo) return fail(lo.error());
  auto hi = parse_value(prim, hi_text);
  if (!hi) return fail(hi.error());
  if (lo->is_none() || hi->is_none()) {
    return fail("'" + std::string(text) + "' is not a valid range: '*' as a bound");
  }
  if (compare_values(*lo, *hi) == std::partial_ordering::unordered) {
    return fail("'" + std::string(text) + "' is not a valid range: bounds are not comparable");
  }
  if (compare_values(*lo, *hi) == std::partial_ordering::greater) std::swap(*lo, *hi);
  out = {*lo, *hi};
  return Ok{};
}

Result<Value> parse_member(Prim prim, std::string_view text, bool& prefix) {
  if (prim == Prim::kAddress && text.find('/') != std::string_view::npos) {
    auto a = parse_address(text, /*allow_prefix=*/true);
    if (!a) return fail(a.error());
    prefix = true;
    return Value::address(*a);
  }
  return parse_value(prim, text);
}

}  // namespace

Constraint Constraint::single(const Value& v) {
  Constraint c;
  c.kind_ = ConstraintKind::kSet;
  c.values_ = {v};
  return c;
}

Result<Constraint> Constraint::parse(Prim prim, std::string_view text) {
  Constraint c;
  if (text == "*") return c;
  std::size_t sep = text.find(kRangeSep);
  if (sep != std::string_view::npos && sep > 0) {
    auto r = parse_range(prim, text, sep, c.values_);
    if (!r) return fail(r.error());
    c.kind_ = ConstraintKind::kRange;
    return c;
  }
  bool prefix = false;
  std::size_t begin = 0;
  while (true) {
    std::size_t comma = text.find(',', begin);
    auto v = parse_member(prim, text.substr(begin, comma - begin), prefix);
    if (!v) return fail(v.error());
    if (v->is_none())
      return fail("'" + std::string(text) + "' is not a valid constraint: '*' in a set");
    c.values_.push_back(*v);
    if (comma == std::string_view::npos) break;
    begin = comma + 1;
  }
  c.kind_ = prefix ? ConstraintKind::kPrefix : ConstraintKind::kSet;
  return c;
}

bool Constraint::matches(const Value& v) const noexcept {
  if (kind_ == ConstraintKind::kAny) return true;
  if (v.is_none()) return false;
  if (kind_ == ConstraintKind::kRange) {
    auto lo = compare_values(values_[0], v);
    auto hi = compare_values(v, values_[1]);
    return (lo == std::partial_ordering::less || lo == std::partial_ordering::equivalent) &&
           (hi == std::partial_ordering::less || hi == std::partial_ordering::equivalent);
  }
  return std::any_of(values_.begin(), values_.end(), [&](const Value& member) {
    if (member.kind() == ValueKind::kAddress && v.kind() == ValueKind::kAddress) {
      return member.as_address().contains(v.as_address());
    }
    return values_equal(member, v);
  });
}

std::optional<Value> Constraint::single_value() const noexcept {
  if (kind_ == ConstraintKind::kSet && values_.size() == 1) return values_[0];
  if (kind_ == ConstraintKind::kRange && values_equal(values_[0], values_[1])) return values_[0];
  return std::nullopt;
}

void Constraint::append_canonical(std::string& out) const {
  if (kind_ == ConstraintKind::kAny) {
    out += '*';
    return;
  }
  if (kind_ == ConstraintKind::kRange) {
    append_value(out, values_[0]);
    out += kRangeSep;
    append_value(out, values_[1]);
    return;
  }
  for (std::size_t i = 0; i < values_.size(); ++i) {
    if (i) out += ',';
    append_value(out, values_[i]);
  }
}

std::string Constraint::canonical() const {
  std::string s;
  append_canonical(s);
  return s;
}

}  // namespace mplane::model
