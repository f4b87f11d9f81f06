#include "engine/cli/result_printer.h"

#include "engine/cli/result_printer_impl.h"
#include "engine/cli/result_table.h"
#include "parsers/json/message_writer.h"

namespace mplane::cli {
namespace {

// Hands a whole message to `h` as the stream reader would.
Status<> replay_rows(const model::Message& m, json::ResultStreamHandler& h) {
  if (m.kind == model::MessageKind::kEnvelope) {
    for (const model::Message& member : m.contents) {
      if (auto st = replay_rows(member, h); !st) return st;
    }
    return Ok{};
  }
  if (m.kind != model::MessageKind::kResult) return Ok{};
  std::vector<const model::Element*> columns;
  for (const model::Column& c : m.columns) columns.push_back(c.element);
  if (auto st = h.on_columns(columns); !st) return st;
  std::vector<model::Value> row(m.columns.size());
  for (std::size_t i = 0; i < m.row_count; ++i) {
    for (std::size_t j = 0; j < m.columns.size(); ++j) {
      row[j] = i < m.columns[j].values.size() ? m.columns[j].values[i] : model::Value();
    }
    if (auto st = h.on_row(i + 1, row); !st) return st;
  }
  return Ok{};
}

}  // namespace

std::unique_ptr<ResultPrinter> make_result_printer(OutputFormat format, std::ostream& out) {
  switch (format) {
    case OutputFormat::kCsv:
      return make_csv_printer(out);
    case OutputFormat::kJson:
      return make_json_printer(out);
    case OutputFormat::kTable:
      break;
  }
  return make_table_printer(out);
}

void print_result(std::ostream& out, const model::Message& m, OutputFormat format) {
  switch (format) {
    case OutputFormat::kTable:
      return print_table(out, m);
    case OutputFormat::kJson:
      out << json::to_json(m) << "\n";
      return;
    case OutputFormat::kCsv: {
      auto csv = make_csv_printer(out);
      (void)replay_rows(m, *csv);  // the CSV printer never fails
      return;
    }
  }
}

}  // namespace mplane::cli
