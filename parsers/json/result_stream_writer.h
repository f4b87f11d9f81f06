// Streams a result message row by row, so that a result of millions of rows never exists
// whole in memory (issue 2, "JSON codec").
//
// The output is byte-identical to write_message() of the same result: keys sorted, so the
// fields after `resultvalues` (token, version, when) are written by finish(), when the actual
// measurement interval is known. Bytes go to `sink` whenever the buffer passes `flush_bytes`,
// and at finish(). The header message is borrowed until finish() returns. Two differences: a
// stream that ends with no rows writes `"resultvalues": []` (write_message omits the key);
// metadata known only at the end (a header without any) is written after the rows, out of
// key order. Both forms parse the same, in the RI too (JSON objects are unordered).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string_view>

#include "parsers/json/message_writer.h"

namespace mplane::json {

class ResultStreamWriter {
 public:
  using Sink = std::function<void(std::string_view)>;

  // `header` is a result (kind kResult) with parameters, metadata and columns; its
  // row_count and column values are ignored. Writes everything up to the first row.
  ResultStreamWriter(const model::Message& header, Sink sink, WriteOptions opts = {},
                     std::size_t flush_bytes = 64 * 1024);
  ResultStreamWriter(const ResultStreamWriter&) = delete;
  ResultStreamWriter& operator=(const ResultStreamWriter&) = delete;

  // One row: exactly one value per column (none where absent).
  void add_row(std::span<const model::Value> row);
  // Closes the message with the definite scope actually measured, and the metadata known at
  // the end if the header had none (borrowed for the call). Sends the remaining bytes.
  void finish(const model::When& when, std::span<const model::Metadatum> late_metadata = {});

  std::size_t rows() const noexcept { return rows_; }
  std::size_t bytes_written() const noexcept { return flushed_ + out_.size(); }

 private:
  void flush();

  model::Message header_;  // copy of the sections (views still borrow the caller's strings)
  Sink sink_;
  WriteOptions opts_;
  std::size_t flush_bytes_;
  OutBuffer out_;
  FieldWriter writer_;
  FieldList fields_;
  int next_field_ = 0;
  std::size_t rows_ = 0;
  std::size_t flushed_ = 0;
};

}  // namespace mplane::json
