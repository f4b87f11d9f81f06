// Where a text stops being JSON (RFC 8259), for error messages. simdjson On-Demand validates
// only what it reads, and reports an error where its iterator happens to be (often the start of
// the document, or the next value it was asked for); this scanner finds the first byte at which
// the text cannot continue as JSON, as Python's json module does, so that the error names it.
//
// Only for the error path: a strict, iterative (no recursion, any nesting depth) pass over the
// whole text. Strings must be UTF-8 without control characters, escapes must be JSON's; a
// lone surrogate escape (`\ud800`) is syntax, so it passes here.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace mplane::json {

struct SyntaxError {
  std::size_t offset;     // byte offset of the first byte that cannot be JSON (size(): the end)
  std::string_view what;  // e.g. "expected ',' or '}'" (static text)
};

// The first syntax error of `text` as one JSON value with optional whitespace around it;
// nullopt if `text` is valid JSON.
std::optional<SyntaxError> find_syntax_error(std::string_view text);

}  // namespace mplane::json
