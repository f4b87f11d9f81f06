// Reads one mPlane message as its bytes arrive, handing over the rows of every result's
// `resultvalues` one by one as soon as each is complete, so that a result of millions of rows
// never exists whole in memory: the client prints a large result while it streams in.
//
// The counterpart of ResultStreamWriter. Any message kind is accepted (a receipt, an exception,
// an envelope …); only results (alone or inside an envelope) stream their rows.
//
// Memory: the message without its rows (the "head", bounded by `max_head_bytes`) plus the
// largest row (bounded by `max_row_bytes`) plus one read. Rows that arrive before their result's
// `results` list (a key order no writer we know uses) are kept, within `max_head_bytes`, until
// the columns are known.
//
// Errors name what failed; a malformed row is "row N: …" (N counts from 1 within its result),
// reported after the rows before it were handed over. After an error the reader refuses more
// input. Never throws.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "parsers/base/result.h"
#include "parsers/mplane/message.h"
#include "parsers/mplane/registry.h"

namespace mplane::json {

// What the reader hands over, in stream order. Returning an error stops the reader: feed()
// returns that error. Everything passed is borrowed for the duration of the call only.
class ResultStreamHandler {
 public:
  virtual ~ResultStreamHandler() = default;
  // A result's column elements (its `results`, in order), before its first row. Called once per
  // result, also for a result without rows; inside an envelope, once per contained result.
  virtual Status<> on_columns(std::span<const model::Element* const> columns) = 0;
  // One row of the current result: one value per column (ValueKind::kNone where the JSON holds
  // null or the RI's empty value). `number` counts from 1 within the result.
  virtual Status<> on_row(std::size_t number, std::span<const model::Value> values) = 0;
  // The whole top-level message once its last byte is read, with every result's rows left out
  // (columns present with no values, row_count = the number of rows handed over). For an
  // envelope: the envelope, its contents likewise without rows.
  virtual Status<> on_message(const model::Message& message) = 0;
};

struct ResultStreamLimits {
  std::size_t max_head_bytes = 16 * 1024 * 1024;
  std::size_t max_row_bytes = 1024 * 1024;
};

class ResultStreamReader {
 public:
  // `registries` and `handler` must outlive the reader.
  ResultStreamReader(const model::RegistrySet& registries, ResultStreamHandler& handler,
                     ResultStreamLimits limits = {});
  ~ResultStreamReader();
  ResultStreamReader(const ResultStreamReader&) = delete;
  ResultStreamReader& operator=(const ResultStreamReader&) = delete;

  // The next bytes of the message, in any fragmentation. Errors: invalid JSON, an invalid
  // message (as MessageReader reports it), a row that does not fit its columns, a limit
  // exceeded, bytes after the message, or the handler's own error.
  Status<> feed(std::string_view bytes);
  // The input has ended: an error if the message is incomplete (or absent).
  Status<> finish();
  // The number of rows handed over so far, over all results.
  std::size_t rows() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace mplane::json
