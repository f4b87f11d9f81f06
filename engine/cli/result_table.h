// Human-readable output of replies: a result as an aligned table (header = result columns),
// an envelope as one table per member, other messages as their summary line.
#pragma once

#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "parsers/mplane/message.h"

namespace mplane::cli {

void print_table(std::ostream& out, const model::Message& reply);

// The pieces, for the table that prints while a result streams in (result_printer.h).

// A result's first line: "result LABEL  when SCOPE  token TOKEN".
std::string result_title(const model::Message& result);
// "(N rows)" / "(1 row)".
std::string rows_line(std::size_t rows);
// The cells of one row.
std::vector<std::string> row_cells(std::span<const model::Value> values);

// Columns as wide as the widest of their cells seen by widen(), two spaces apart. A cell wider
// than its column (a row printed after the widths were fixed) pushes the rest of its row right.
class TableWriter {
 public:
  explicit TableWriter(std::vector<std::string> header);
  void widen(const std::vector<std::string>& cells);
  void print_header(std::ostream& out) const { print_row(out, header_); }
  void print_row(std::ostream& out, const std::vector<std::string>& cells) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::size_t> widths_;
};

}  // namespace mplane::cli
