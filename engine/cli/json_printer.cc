// The kJson printer (result_printer.h): holds the message's rows while they fit (then writes
// json::to_json of it), else formats each row as it arrives into a temporary file and writes the
// message around those bytes at its end, as write_message() lays it out (pretty, level 0).
#include <cstdio>
#include <memory>
#include <string>

#include "engine/cli/held_rows.h"
#include "engine/cli/result_printer_impl.h"
#include "parsers/json/message_writer.h"

namespace mplane::cli {
namespace {

using model::Message;
using model::MessageKind;

constexpr std::size_t kFlushBytes = std::size_t{64} * 1024;

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

// A top-level result's rows, formatted, in a temporary file.
class RowSpool {
 public:
  Status<> open() {
    file_.reset(std::tmpfile());
    if (!file_) return fail("--json: cannot create a temporary file for the rows");
    return Ok{};
  }
  Status<> add(std::span<const model::Value> values) {
    writer_.write_row(values.data(), values.size());
    ++rows_;
    return buffer_.size() >= kFlushBytes ? flush() : Status<>(Ok{});
  }
  std::size_t rows() const { return rows_; }
  // Copies the rows written so far to `out`.
  Status<> copy_to(std::ostream& out) {
    if (auto st = flush(); !st) return st;
    std::rewind(file_.get());
    char buf[kFlushBytes];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, file_.get())) > 0;) {
      out.write(buf, static_cast<std::streamsize>(n));
    }
    return std::ferror(file_.get()) ? fail("--json: cannot read back the rows") : Status<>(Ok{});
  }

 private:
  Status<> flush() {
    const auto v = buffer_.view();
    if (std::fwrite(v.data(), 1, v.size(), file_.get()) != v.size()) {
      return fail("--json: cannot write the rows to a temporary file");
    }
    buffer_.clear();
    return Ok{};
  }

  std::unique_ptr<std::FILE, FileCloser> file_;
  json::OutBuffer buffer_{kFlushBytes + 4096};
  Message format_;  // write_row formats values only: no field of it is read
  json::WriteOptions opts_;
  json::FieldWriter writer_{buffer_, format_, opts_, 0};
  std::size_t rows_ = 0;
};

class JsonPrinter final : public ResultPrinter {
 public:
  explicit JsonPrinter(std::ostream& out) : out_(out) {}

  // json::ResultStreamHandler
  Status<> on_columns(std::span<const model::Element* const> columns) override {
    if (spool_) return fail("--json: an envelope too large to hold cannot be printed");
    held_.start(columns);
    return Ok{};
  }
  Status<> on_row(std::size_t, std::span<const model::Value> values) override {
    if (spool_) return spool_->add(values);
    held_.add(values);
    return held_.over(kHeldRows, kHeldBytes) ? start_spool() : Status<>(Ok{});
  }
  Status<> on_message(const Message& m) override {
    printed_ = m.kind == MessageKind::kResult || m.kind == MessageKind::kEnvelope;
    Status<> st = Ok{};
    if (spool_) {
      st = m.kind == MessageKind::kResult
               ? write_around_spool(m)
               : fail("--json: an envelope too large to hold cannot be printed");
    } else if (printed_) {
      Message whole = m;
      held_.restore(whole);
      out_ << json::to_json(whole) << "\n";
    }
    reset();
    return st;
  }
  // ResultPrinter
  void abandon() override { reset(); }  // half a JSON message is of no use

 private:
  // Only a lone result can be spooled: its rows are indented for level 0.
  Status<> start_spool() {
    if (held_.results().size() != 1) {
      return fail("--json: an envelope too large to hold cannot be printed");
    }
    spool_ = std::make_unique<RowSpool>();
    if (auto st = spool_->open(); !st) return st;
    const HeldRows::HeldResult& r = held_.results().front();
    for (std::size_t i = 0; i < r.rows; ++i) {
      if (auto st = spool_->add(r.row(i)); !st) return st;
    }
    held_.clear();
    return Ok{};
  }
  // write_message() of `m` with the spooled rows as its resultvalues.
  Status<> write_around_spool(const Message& m) {
    Message head = m;
    head.row_count = spool_->rows();  // so that fields_of() lists resultvalues
    const json::WriteOptions opts;
    json::OutBuffer buf;
    json::FieldWriter w(buf, head, opts, 0);
    const json::FieldList fields = json::fields_of(head, opts);
    w.open();
    for (int i = 0; i < fields.count; ++i) {
      if (fields.fields[i] != json::Field::kResultValues) {
        w.write(fields.fields[i]);
        continue;
      }
      w.open_rows();
      out_ << buf.view();
      buf.clear();
      if (auto st = spool_->copy_to(out_); !st) return st;
      buf.append(spool_->rows() > 0 ? "\n  ]" : "]");  // close_rows() at level 0, pretty
    }
    w.close();
    out_ << buf.view() << "\n";
    return Ok{};
  }
  void reset() {
    held_.clear();
    spool_.reset();
  }

  std::ostream& out_;
  HeldRows held_;
  std::unique_ptr<RowSpool> spool_;
};

}  // namespace

std::unique_ptr<ResultPrinter> make_json_printer(std::ostream& out) {
  return std::make_unique<JsonPrinter>(out);
}

}  // namespace mplane::cli
