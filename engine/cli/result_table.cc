#include "engine/cli/result_table.h"

#include <algorithm>
#include <string>
#include <vector>

namespace mplane::cli {
namespace {

void print_row(std::ostream& out, const std::vector<std::string>& cells,
               const std::vector<std::size_t>& widths) {
  for (std::size_t j = 0; j < cells.size(); ++j) {
    out << cells[j];
    if (j + 1 < cells.size()) out << std::string(widths[j] - cells[j].size() + 2, ' ');
  }
  out << '\n';
}

void print_result(std::ostream& out, const model::Message& r) {
  out << "result " << r.label.value_or("(no label)") << "  when " << r.when->canonical();
  if (r.token) out << "  token " << *r.token;
  out << '\n';
  std::vector<std::vector<std::string>> rows(1);
  for (const model::Column& c : r.columns) rows[0].push_back(c.element->name);
  for (std::size_t i = 0; i < r.row_count; ++i) {
    std::vector<std::string> cells;
    for (const model::Column& c : r.columns) cells.push_back(model::format_value(c.values[i]));
    rows.push_back(std::move(cells));
  }
  std::vector<std::size_t> widths(r.columns.size(), 0);
  for (const auto& row : rows) {
    for (std::size_t j = 0; j < row.size(); ++j) widths[j] = std::max(widths[j], row[j].size());
  }
  for (const auto& row : rows) print_row(out, row, widths);
  out << "(" << r.row_count << (r.row_count == 1 ? " row)\n" : " rows)\n");
}

}  // namespace

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
