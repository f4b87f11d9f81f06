// Parses mPlane messages from JSON with simdjson On-Demand (PROTOCOL.md §3), zero-copy.
//
// Strings that contain no escapes are views into the input; escaped ones are unescaped into
// the caller's Arena. Result values are parsed straight into typed columns. The reader
// accepts what the RI emits (values as strings, "True"/"False") and what the spec allows
// (JSON numbers and booleans), and also prefix constraints and indirections (which the RI
// lacks). Unknown top-level keys are ignored, unknown elements are errors.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "parsers/base/result.h"
#include "parsers/mplane/message.h"
#include "parsers/mplane/registry.h"

namespace mplane::json {

// Where and why a message was rejected.
struct ParseError {
  std::string message;  // the reason, e.g. "Key error: destination.ipv4 not present in registries"
  std::string where;    // the section or element at fault, e.g. "parameters.source.ip4"
  std::size_t offset = 0;  // byte offset into the input

  // "line L column C (byte O), parameters.source.ip4: <message>"; line/column from `input`.
  std::string describe(std::string_view input) const;
};

// Nesting limit for envelopes, so that hostile input cannot exhaust the stack.
constexpr int kMaxEnvelopeDepth = 32;

class MessageReader {
 public:
  // `registries` must outlive the reader and every message it returns.
  explicit MessageReader(const model::RegistrySet& registries) : registries_(registries) {}

  // Parses one message. The result borrows `input` and `arena` (see message.h): keep both
  // alive and unchanged as long as the message. Reusing the reader for the next parse does
  // not invalidate earlier messages. Never throws. Invalid JSON is the error whatever else is
  // wrong, at its first bad byte (find_syntax_error), "where" empty.
  Result<model::Message, ParseError> parse(simdjson::padded_string_view input,
                                           model::Arena& arena) &;
  Result<model::Message, ParseError> parse(simdjson::padded_string_view, model::Arena&) && = delete;
  // Reads `rows`, the text of a `resultvalues` array, into the columns of `m` (whose elements
  // type the cells), appending; m.row_count counts the rows. For the streaming reader, which
  // cuts a result's rows out of the stream. On error the rows before the bad one are complete in
  // `m` (m.row_count of them; a column may hold a value more, of the bad row) and the error's
  // `where` is "resultvalues[I]" or "resultvalues[I][J]" with I relative to `rows`.
  Status<ParseError> parse_rows(simdjson::padded_string_view rows, model::Message& m,
                                model::Arena& arena) &;
  const model::RegistrySet& registries() const { return registries_; }

 private:
  const model::RegistrySet& registries_;
  simdjson::ondemand::parser parser_;
};

// A message with everything it borrows, for code that keeps messages around.
struct OwnedMessage {
  simdjson::padded_string input;
  model::Arena arena;
  model::Message message;
};
Result<std::unique_ptr<OwnedMessage>, ParseError> parse_owned(MessageReader& reader,
                                                              std::string_view json);
// The same, releasing `json` once copied (before parsing): a large result (the client's
// hundreds of MiB) then never exists three times over (text, padded copy, values).
Result<std::unique_ptr<OwnedMessage>, ParseError> parse_owned_consuming(MessageReader& reader,
                                                                        std::string&& json);

}  // namespace mplane::json
