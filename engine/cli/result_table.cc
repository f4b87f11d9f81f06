#include "engine/cli/result_table.h"

#include <algorithm>
#include <string>
#include <vector>

namespace mplane::cli {
namespace {

std::vector<std::string> header_of(const model::Message& r) {
  std::vector<std::string> header;
  for (const model::Column& c : r.columns) header.push_back(c.element->name);
  return header;
}

void print_result(std::ostream& out, const model::Message& r) {
  out << result_title(r) << '\n';
  TableWriter table(header_of(r));
  std::vector<std::vector<std::string>> rows;
  std::vector<model::Value> values(r.columns.size());
  for (std::size_t i = 0; i < r.row_count; ++i) {
    for (std::size_t j = 0; j < r.columns.size(); ++j) values[j] = r.columns[j].values[i];
    rows.push_back(row_cells(values));
    table.widen(rows.back());
  }
  table.print_header(out);
  for (const auto& row : rows) table.print_row(out, row);
  out << rows_line(r.row_count);
}

}  // namespace

std::string result_title(const model::Message& r) {
  std::string title = "result " + std::string(r.label.value_or("(no label)"));
  if (r.when) title += "  when " + r.when->canonical();
  if (r.token) title += "  token " + std::string(*r.token);
  return title;
}

std::string rows_line(std::size_t rows) {
  return "(" + std::to_string(rows) + (rows == 1 ? " row)\n" : " rows)\n");
}

std::vector<std::string> row_cells(std::span<const model::Value> values) {
  std::vector<std::string> cells;
  cells.reserve(values.size());
  for (const model::Value& v : values) cells.push_back(model::format_value(v));
  return cells;
}

TableWriter::TableWriter(std::vector<std::string> header)
    : header_(std::move(header)), widths_(header_.size(), 0) {
  widen(header_);
}

void TableWriter::widen(const std::vector<std::string>& cells) {
  for (std::size_t j = 0; j < cells.size() && j < widths_.size(); ++j) {
    widths_[j] = std::max(widths_[j], cells[j].size());
  }
}

void TableWriter::print_row(std::ostream& out, const std::vector<std::string>& cells) const {
  for (std::size_t j = 0; j < cells.size(); ++j) {
    out << cells[j];
    if (j + 1 < cells.size()) {
      const std::size_t width = j < widths_.size() ? widths_[j] : 0;
      out << std::string(width > cells[j].size() ? width - cells[j].size() + 2 : 2, ' ');
    }
  }
  out << '\n';
}

void print_table(std::ostream& out, const model::Message& reply) {
  switch (reply.kind) {
    case model::MessageKind::kResult:
      return print_result(out, reply);
    case model::MessageKind::kEnvelope:
      out << "envelope of " << reply.contents.size() << " messages";
      if (reply.when) out << "  when " << reply.when->canonical();
      out << '\n';
      for (const model::Message& m : reply.contents) {
        out << '\n';
        print_table(out, m);
      }
      return;
    default:
      out << model::summarize(reply) << '\n';
  }
}

}  // namespace mplane::cli
