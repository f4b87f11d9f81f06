// Primitive types of the mPlane information model and their textual forms (PROTOCOL.md §2.2).
//
// A Value is a small trivially-copyable tagged union. String and url values are *views*: they
// borrow the bytes they were parsed from (the JSON input or a message arena); whoever holds a
// Value must keep those bytes alive. Numbers stay numbers, times are microseconds, addresses
// are 16 bytes: result columns store Values, never text.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "parsers/base/result.h"
#include "parsers/mplane/time_value.h"

namespace mplane::model {

enum class Prim : std::uint8_t { kString, kNatural, kReal, kBoolean, kTime, kAddress, kUrl };

std::string_view prim_name(Prim p) noexcept;  // "string", "natural", …, "boolean"
std::optional<Prim> prim_from_name(std::string_view name) noexcept;

// An IPv4 or IPv6 address, optionally with a prefix length (only constraints carry one).
struct Address {
  std::uint8_t family = 4;   // 4 or 6
  std::uint8_t prefix = 32;  // 32 / 128 = a plain address
  std::uint8_t bytes[16] = {};

  bool has_prefix() const { return prefix != (family == 4 ? 32 : 128); }
  // True if `a` (same family) lies in this network (this address with its prefix).
  bool contains(const Address& a) const noexcept;
  friend bool operator==(const Address& a, const Address& b) noexcept;
};

// Parses dotted-quad IPv4 or any valid IPv6 text (case-insensitive, uncompressed allowed).
// With `allow_prefix`, also `ADDR/LEN` (host bits must be zero). Errors name the text.
Result<Address> parse_address(std::string_view text, bool allow_prefix = false);
// Writes IPv4 dotted quad or RFC 5952 IPv6 (plus `/LEN` when it has a prefix). Returns length.
// `out` must have room for kMaxScalarChars.
std::size_t format_address(char* out, const Address& a) noexcept;

enum class ValueKind : std::uint8_t { kNone, kNatural, kReal, kBool, kTime, kAddress, kString };

// 24 bytes: an 8-byte header (kind, address family/prefix, time kind, string length) and a
// 16-byte payload. Result columns hold millions of these, so size matters (memory traffic).
class Value {
 public:
  Value() noexcept : i_(0) {}
  static Value none() noexcept { return {}; }
  // A natural: 0 … 2^64-1 (parse_value() refuses negative and larger ones).
  static Value natural(std::uint64_t v) noexcept {
    Value x;
    x.kind_ = ValueKind::kNatural;
    x.u_ = v;
    return x;
  }
  static Value real(double v) noexcept {
    Value x;
    x.kind_ = ValueKind::kReal;
    x.d_ = v;
    return x;
  }
  static Value boolean(bool v) noexcept {
    Value x;
    x.kind_ = ValueKind::kBool;
    x.b_ = v;
    return x;
  }
  static Value time(TimePoint t) noexcept {
    Value x;
    x.kind_ = ValueKind::kTime;
    x.time_kind_ = t.kind;
    x.i_ = t.us;
    return x;
  }
  static Value address(const Address& a) noexcept {
    Value x;
    x.kind_ = ValueKind::kAddress;
    x.family_ = a.family;
    x.prefix_ = a.prefix;
    std::memcpy(x.bytes_, a.bytes, sizeof a.bytes);
    return x;
  }
  // Borrows `s`: the caller keeps the bytes alive as long as the Value. At most 4 GiB.
  static Value string(std::string_view s) noexcept {
    Value x;
    x.kind_ = ValueKind::kString;
    x.len_ = static_cast<std::uint32_t>(s.size());
    x.ptr_ = s.data();
    return x;
  }

  ValueKind kind() const noexcept { return kind_; }
  bool is_none() const noexcept { return kind_ == ValueKind::kNone; }
  std::uint64_t as_natural() const noexcept { return u_; }
  double as_real() const noexcept { return d_; }
  bool as_bool() const noexcept { return b_; }
  TimePoint as_time() const noexcept { return {time_kind_, i_}; }
  Address as_address() const noexcept {
    Address a;
    a.family = family_;
    a.prefix = prefix_;
    std::memcpy(a.bytes, bytes_, sizeof a.bytes);
    return a;
  }
  std::string_view as_string() const noexcept { return {ptr_, len_}; }

 private:
  ValueKind kind_ = ValueKind::kNone;
  std::uint8_t family_ = 0;
  std::uint8_t prefix_ = 0;
  TimeKind time_kind_ = TimeKind::kAbsolute;
  std::uint32_t len_ = 0;
  union {
    std::int64_t i_;   // time
    std::uint64_t u_;  // natural
    double d_;
    bool b_;
    const char* ptr_;
    std::uint8_t bytes_[16];
  };
};
static_assert(sizeof(Value) == 24);

// Longest text format_scalar() writes (an IPv6 address with prefix is 49 characters).
constexpr std::size_t kMaxScalarChars = 64;

// Parses the text form of a value of primitive `p` the way the RI does (`*` → none):
// natural `int(float(s))` (but exact for integer literals, where the RI loses precision past
// 2^53) within 0 … 2^64-1: a negative result (`-5`, `-4.7`; `-0.5` is 0) or one above 2^64-1
// (`18446744073709551616`, `2e19`) is an error naming the value and the range, where the RI
// keeps any Python int; real `float(s)`, boolean `True`/`1`/`False`/`0`, time §2.2, address without
// prefix, string/url unchanged (borrowing `text`). The error text names the value and the
// primitive.
Result<Value> parse_value(Prim p, std::string_view text);

// Hot path of the result reader: parses the common canonical forms (plain decimal naturals,
// simple reals, True/False/1/0, `YYYY-MM-DD HH:MM:SS.ffffff`, dotted-quad IPv4, strings) with no
// error reporting. Returns false for anything else; the caller then calls parse_value(), which
// gives the same value or the error. Never returns true with a value parse_value() would not.
bool try_parse_value_fast(Prim p, std::string_view text, Value& out) noexcept;

// Writes the RI's canonical text of a non-string value (natural decimal, real as Python's
// repr(), `True`/`False`, time with 6 fractional digits, address, `*` for none) and returns
// its length. String values are the caller's business (they need JSON escaping); given one,
// it copies the raw bytes, so `out` must then hold as_string().size() bytes.
std::size_t format_scalar(char* out, const Value& v) noexcept;
// Appends the canonical text of any value (strings unchanged, unescaped).
void append_value(std::string& out, const Value& v);
std::string format_value(const Value& v);

// Python repr() of a float: shortest round-trip digits, exponent form when the decimal
// exponent is >= 16 or < -4, `.0` on integral values, `inf`, `-inf`, `nan`.
std::size_t format_python_float(char* out, double v) noexcept;

// Typed comparison (§2.3): naturals and reals numerically, addresses numerically within one
// family, times chronologically, strings by code point, booleans by equality.
// Unordered for values that cannot be compared (different families, kinds, or none).
std::partial_ordering compare_values(const Value& a, const Value& b) noexcept;
// compare_values(a, b) == 0: so `1` equals `1.0`, and none and NaN equal nothing.
bool values_equal(const Value& a, const Value& b) noexcept;

}  // namespace mplane::model
