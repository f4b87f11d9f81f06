// The kCsv printer (result_printer.h): RFC 4180 quoting, the header once (the first result's
// columns), a line per row as it arrives. Holds nothing.
#include <string>

#include "engine/cli/result_printer_impl.h"

namespace mplane::cli {
namespace {

std::string csv_field(const model::Value& v) {
  if (v.is_none()) return "";
  std::string s = model::format_value(v);
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) {
    if (ch == '"') q += '"';
    q += ch;
  }
  return q + "\"";
}

class CsvPrinter final : public ResultPrinter {
 public:
  explicit CsvPrinter(std::ostream& out) : out_(out) {}

  // json::ResultStreamHandler
  Status<> on_columns(std::span<const model::Element* const> columns) override {
    if (header_done_) return Ok{};
    for (std::size_t i = 0; i < columns.size(); ++i) out_ << (i ? "," : "") << columns[i]->name;
    out_ << "\n";
    header_done_ = true;
    return Ok{};
  }
  Status<> on_row(std::size_t, std::span<const model::Value> values) override {
    for (std::size_t i = 0; i < values.size(); ++i) out_ << (i ? "," : "") << csv_field(values[i]);
    out_ << "\n";
    return Ok{};
  }
  Status<> on_message(const model::Message& m) override {
    printed_ = m.kind == model::MessageKind::kResult || m.kind == model::MessageKind::kEnvelope;
    header_done_ = false;
    return Ok{};
  }
  // ResultPrinter
  void abandon() override { header_done_ = false; }

 private:
  std::ostream& out_;
  bool header_done_ = false;
};

}  // namespace

std::unique_ptr<ResultPrinter> make_csv_printer(std::ostream& out) {
  return std::make_unique<CsvPrinter>(out);
}

}  // namespace mplane::cli
