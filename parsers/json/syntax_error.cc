#include "parsers/json/syntax_error.h"

#include <string>

namespace mplane::json {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// A state machine over the text: either a value is expected, or one has just ended. The open
// containers are a stack of bytes ('{' or '['), so nesting costs one byte, not a stack frame.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : t_(text) {}

  std::optional<SyntaxError> run() {
    bool want_value = true;
    for (;;) {
      skip_space();
      const bool ok = want_value ? value(want_value) : after_value(want_value);
      if (!ok) return error_;
      if (done_) return std::nullopt;
    }
  }

 private:
  bool at_end() const { return pos_ >= t_.size(); }
  bool next_is(char c) const { return !at_end() && t_[pos_] == c; }
  void skip_space() {
    while (!at_end() && is_space(t_[pos_])) ++pos_;
  }
  bool fail(std::size_t at, std::string_view what) {
    error_ = SyntaxError{at, what};
    return false;
  }

  // A value starts here: a scalar is read whole; a container is opened (and closed if empty).
  bool value(bool& want_value) {
    if (at_end()) return fail(pos_, "expected a value");
    want_value = false;
    switch (t_[pos_]) {
      case '{':
        return open('{', '}', want_value) && (want_value ? member() : true);
      case '[':
        return open('[', ']', want_value);
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        if (next_is('-') || is_digit(t_[pos_])) return number();
        return fail(pos_, "expected a value");
    }
  }

  // Opens a container; an empty one is closed at once (then no value is wanted).
  bool open(char open, char close, bool& want_value) {
    open_.push_back(open);
    ++pos_;
    skip_space();
    if (next_is(close)) {
      open_.pop_back();
      ++pos_;
      return true;
    }
    want_value = true;
    return true;
  }

  // `"key" :` of an object member; its value comes next.
  bool member() {
    if (!next_is('"')) return fail(pos_, "expected a string key");
    if (!string()) return false;
    skip_space();
    if (!next_is(':')) return fail(pos_, "expected ':'");
    ++pos_;
    return true;
  }

  // After a value: the end of the text, or a separator or closing bracket of the container.
  bool after_value(bool& want_value) {
    if (open_.empty()) {
      if (!at_end()) return fail(pos_, "extra data after the JSON value");
      done_ = true;
      return true;
    }
    const bool object = open_.back() == '{';
    if (next_is(',')) {
      ++pos_;
      want_value = true;
      skip_space();
      return object ? member() : true;
    }
    if (next_is(object ? '}' : ']')) {
      ++pos_;
      open_.pop_back();
      return true;
    }
    return fail(pos_, object ? "expected ',' or '}'" : "expected ',' or ']'");
  }

  bool literal(std::string_view word) {
    if (t_.substr(pos_, word.size()) != word) return fail(pos_, "invalid literal");
    pos_ += word.size();
    return true;
  }

  bool digit_at(std::size_t i) const { return i < t_.size() && is_digit(t_[i]); }
  void skip_digits() {
    while (digit_at(pos_)) ++pos_;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? as Python's json reads it: the longest
  // prefix that matches is the number, and what follows must fit after a value (`1.}` fails at
  // the '.', `-}` at the '-').
  bool number() {
    const std::size_t start = pos_;
    if (next_is('-')) ++pos_;
    if (!digit_at(pos_)) return fail(start, "expected a value");
    if (next_is('0')) {
      ++pos_;
    } else {
      skip_digits();
    }
    if (next_is('.') && digit_at(pos_ + 1)) {
      ++pos_;
      skip_digits();
    }
    if (next_is('e') || next_is('E')) {
      std::size_t d = pos_ + 1;
      if (d < t_.size() && (t_[d] == '+' || t_[d] == '-')) ++d;
      if (digit_at(d)) {
        pos_ = d;
        skip_digits();
      }
    }
    return true;
  }

  bool string() {
    const std::size_t start = pos_++;
    for (;;) {
      if (at_end()) return fail(start, "unterminated string");
      const auto c = static_cast<unsigned char>(t_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        if (!escape()) return false;
      } else if (c < 0x20) {
        return fail(pos_, "control character in a string");
      } else if (c < 0x80) {
        ++pos_;
      } else if (!utf8()) {
        return false;
      }
    }
  }

  bool escape() {
    if (pos_ + 1 >= t_.size()) return fail(pos_, "invalid escape");
    const char e = t_[pos_ + 1];
    if (std::string_view("\"\\/bfnrt").find(e) != std::string_view::npos) {
      pos_ += 2;
      return true;
    }
    if (e != 'u') return fail(pos_, "invalid escape");
    for (std::size_t i = 2; i < 6; ++i) {
      if (pos_ + i >= t_.size() || !is_hex(t_[pos_ + i])) return fail(pos_ + 1, "invalid escape");
    }
    pos_ += 6;
    return true;
  }

  // One UTF-8 sequence of 2 to 4 bytes (RFC 3629: no overlong forms, no surrogates).
  bool utf8() {
    const auto b = [&](std::size_t i) {
      return pos_ + i < t_.size() ? static_cast<unsigned char>(t_[pos_ + i]) : 0u;
    };
    const unsigned lead = b(0);
    unsigned lo = 0x80, hi = 0xBF;  // the range of the second byte
    std::size_t n = 0;              // continuation bytes
    if (lead >= 0xC2 && lead <= 0xDF) {
      n = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      n = 2;
      lo = lead == 0xE0 ? 0xA0 : 0x80;
      hi = lead == 0xED ? 0x9F : 0xBF;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      n = 3;
      lo = lead == 0xF0 ? 0x90 : 0x80;
      hi = lead == 0xF4 ? 0x8F : 0xBF;
    } else {
      return fail(pos_, "invalid UTF-8");
    }
    if (b(1) < lo || b(1) > hi) return fail(pos_, "invalid UTF-8");
    for (std::size_t i = 2; i <= n; ++i) {
      if (b(i) < 0x80 || b(i) > 0xBF) return fail(pos_, "invalid UTF-8");
    }
    pos_ += n + 1;
    return true;
  }

  std::string_view t_;
  std::size_t pos_ = 0;
  std::string open_;
  bool done_ = false;
  SyntaxError error_{};
};

}  // namespace

std::optional<SyntaxError> find_syntax_error(std::string_view text) { return Scanner(text).run(); }

}  // namespace mplane::json
