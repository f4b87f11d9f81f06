// Parameter constraints of capabilities (PROTOCOL.md §2.3).
//
// A Constraint borrows the text it was parsed from when its element is a string or url
// (its Values are views): keep that text alive as long as the constraint.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/base/result.h"
#include "parsers/mplane/primitive.h"

namespace mplane::model {

enum class ConstraintKind : std::uint8_t {
  kAny,     // `*`
  kSet,     // one value (a single-value constraint) or several joined by `,`
  kRange,   // `lo ... hi`, inclusive
  kPrefix,  // address `/` length (the protocol has it; the RI does not)
};

class Constraint {
 public:
  static Constraint any() { return {}; }
  static Constraint single(const Value& v);

  // The RI's parse_constraint, plus prefixes for address elements. Errors name the text.
  static Result<Constraint> parse(Prim prim, std::string_view text);

  ConstraintKind kind() const noexcept { return kind_; }
  // Does `v` satisfy the constraint? An absent value satisfies only `*`.
  bool matches(const Value& v) const noexcept;
  // The one value this constraint admits (one-element set, or range with lo == hi).
  std::optional<Value> single_value() const noexcept;
  const std::vector<Value>& values() const noexcept { return values_; }  // set, or {lo, hi}

  // Canonical text: `*`, `lo ... hi` (swapped so lo <= hi), values joined by `,` in the order
  // given (the RI uses Python set order, which is not reproducible: §2.3), `ADDR/LEN`.
  void append_canonical(std::string& out) const;
  std::string canonical() const;

 private:
  ConstraintKind kind_ = ConstraintKind::kAny;
  std::vector<Value> values_;
};

}  // namespace mplane::model
