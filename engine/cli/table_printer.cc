// The kTable printer (result_printer.h): holds the message's rows while they fit (then prints
// exactly as print_table), else prints each result as it streams, widths fixed by its first
// kHeldRows rows, and the title lines last.
#include <optional>
#include <string>

#include "engine/cli/held_rows.h"
#include "engine/cli/result_printer_impl.h"
#include "engine/cli/result_table.h"

namespace mplane::cli {
namespace {

using model::Message;
using model::MessageKind;

class TablePrinter final : public ResultPrinter {
 public:
  explicit TablePrinter(std::ostream& out) : out_(out) {}

  // json::ResultStreamHandler
  Status<> on_columns(std::span<const model::Element* const> columns) override {
    if (streaming_) end_streamed_result();
    held_.start(columns);
    return Ok{};
  }
  Status<> on_row(std::size_t, std::span<const model::Value> values) override {
    if (table_) {
      table_->print_row(out_, row_cells(values));
      ++rows_;
      return Ok{};
    }
    held_.add(values);
    if (held_.over(kHeldRows, kHeldBytes)) start_streaming();
    return Ok{};
  }
  Status<> on_message(const Message& m) override {
    printed_ = m.kind == MessageKind::kResult || m.kind == MessageKind::kEnvelope;
    if (streaming_) {
      end_streamed_result();
      print_titles(m);
    } else if (printed_) {
      Message whole = m;
      held_.restore(whole);
      print_table(out_, whole);
    }
    reset();
    return Ok{};
  }
  // ResultPrinter
  void abandon() override {
    if (streaming_) {
      end_streamed_result();
    } else {
      print_held();
    }
    reset();
  }

 private:
  // The rows no longer fit: the results held so far are printed whole, the last one starts.
  void start_streaming() {
    streaming_ = true;
    print_held();
  }
  // Prints the held results; all but the last are complete, the last stays open (table_).
  void print_held() {
    const auto& results = held_.results();
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (i + 1 < results.size() || !streaming_) {
        print_section(results[i]);
      } else {
        open_section(results[i]);
      }
    }
    held_.clear();
  }
  void open_section(const HeldRows::HeldResult& r) {
    if (sections_++) out_ << '\n';
    std::vector<std::string> header;
    for (const model::Element* e : r.columns) header.push_back(e->name);
    table_.emplace(std::move(header));
    std::vector<std::vector<std::string>> rows;
    for (std::size_t i = 0; i < r.rows; ++i) {
      rows.push_back(row_cells(r.row(i)));
      table_->widen(rows.back());
    }
    table_->print_header(out_);
    for (const auto& row : rows) table_->print_row(out_, row);
    rows_ = r.rows;
  }
  void print_section(const HeldRows::HeldResult& r) {
    open_section(r);
    close_section();
  }
  void close_section() {
    out_ << rows_line(rows_);
    table_.reset();
    rows_ = 0;
  }
  // The streamed result ends: its table, if its rows were still held, then its row count.
  void end_streamed_result() {
    if (!table_ && !held_.results().empty()) open_section(held_.results().back());
    held_.clear();
    if (table_) close_section();
  }
  void print_titles(const Message& m) {
    out_ << '\n';
    if (m.kind == MessageKind::kEnvelope) {
      out_ << "envelope of " << m.contents.size() << " messages";
      if (m.when) out_ << "  when " << m.when->canonical();
      out_ << '\n';
      for (const Message& member : m.contents) print_titles(member);
      return;
    }
    out_ << (m.kind == MessageKind::kResult ? result_title(m) : model::summarize(m)) << '\n';
  }
  void reset() {
    held_.clear();
    table_.reset();
    streaming_ = false;
    sections_ = 0;
    rows_ = 0;
  }

  std::ostream& out_;
  HeldRows held_;
  bool streaming_ = false;
  std::optional<TableWriter> table_;  // the streamed result being printed
  std::size_t rows_ = 0;              // its rows so far
  std::size_t sections_ = 0;          // results printed in streaming mode
};

}  // namespace

std::unique_ptr<ResultPrinter> make_table_printer(std::ostream& out) {
  return std::make_unique<TablePrinter>(out);
}

}  // namespace mplane::cli
