// Prints results while they stream in: a json::ResultStreamHandler for json::ResultStreamReader,
// in the three formats of `mplane client` (and `mplane run`), with the same bytes as printing
// the whole message (print_result) wherever the message is small enough to hold:
//
//   kCsv    one line per row as it arrives; the header (the first result's columns) first.
//           Memory: one row.
//   kTable  the rows of the message are held until it ends (up to kHeldRows rows or
//           kHeldBytes), then printed as print_table() does. A larger result prints as it
//           streams: its column widths are fixed by its first kHeldRows rows (a wider cell later
//           pushes the rest of its row right), each result's rows end with "(N rows)", and the
//           title lines ("result LABEL  when …  token …", "envelope of …"), which need what
//           arrives after the rows, come last.
//   kJson   held like the table, then written as json::to_json(). A larger result's rows are
//           formatted as they arrive into a temporary file, and the message is written around
//           them at its end: the same bytes, in constant memory. (An envelope too large to hold
//           is refused: its members' indentation is unknown until it ends.)
//
// on_message() prints a result or an envelope and says so (printed()); any other message (a
// receipt, an exception) is left to the caller, which prints those its own way. Usage:
//
//   auto printer = make_result_printer(OutputFormat::kCsv, std::cout);
//   json::ResultStreamReader reader(registries, *printer);
//   ... reader.feed(bytes) ...; reader.finish();
//   if (!ok) printer->abandon();   // shows the rows held before the error
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <ostream>

#include "parsers/json/result_stream_reader.h"
#include "parsers/mplane/message.h"

namespace mplane::cli {

enum class OutputFormat : std::uint8_t { kTable, kJson, kCsv };

constexpr std::size_t kHeldRows = 1000;
constexpr std::size_t kHeldBytes = std::size_t{4} << 20;

class ResultPrinter : public json::ResultStreamHandler {
 public:
  // Whether the last on_message() printed its message (a result or an envelope).
  bool printed() const { return printed_; }
  // The stream stopped before its end (an error the caller reports): prints the rows held so
  // far, so that the rows before a malformed one are shown, and forgets the message.
  virtual void abandon() = 0;

 protected:
  bool printed_ = false;
};

std::unique_ptr<ResultPrinter> make_result_printer(OutputFormat format, std::ostream& out);

// Prints a whole result or envelope in `format` (what the printer prints for the same message
// streamed, when small enough to hold).
void print_result(std::ostream& out, const model::Message& m, OutputFormat format);

}  // namespace mplane::cli
