// The printers of results as they stream in (engine/cli/result_printer.h), fed by the real
// ResultStreamReader in small pieces: the same bytes as printing the whole message, for every
// format, for results small enough to hold and (CSV, JSON) for larger ones; the table's
// streaming layout beyond kHeldRows; a malformed row after the rows before it.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "engine/cli/result_printer.h"
#include "parsers/json/message_writer.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

using cli::OutputFormat;

struct Streamed {
  std::string out;
  std::string error;  // the reader's, empty when the message was read whole
  bool printed = false;
};

// Feeds `json` to a printer through the reader, `piece` bytes at a time.
Streamed stream(OutputFormat format, std::string_view json, std::size_t piece = 7) {
  std::ostringstream out;
  auto printer = cli::make_result_printer(format, out);
  json::ResultStreamReader reader(test::registries(), *printer);
  Status<> st = Ok{};
  for (std::size_t at = 0; st && at < json.size(); at += piece)
    st = reader.feed(json.substr(at, piece));
  if (st) st = reader.finish();
  Streamed s;
  if (!st) {
    printer->abandon();
    s.error = st.error();
  }
  s.printed = printer->printed();
  s.out = out.str();
  return s;
}

std::string whole(OutputFormat format, const model::Message& m) {
  std::ostringstream out;
  cli::print_result(out, m, format);
  return out.str();
}

std::unique_ptr<json::OwnedMessage> vector(const std::string& name) {
  auto m = test::parse(test::read_file(test::vector_path(name)));
  REQUIRE(m.ok());
  return std::move(m.value());
}

// Vector 17's result with `rows` rows (its three cycled), hops.ip = 1000000 + row index.
std::string large_result(std::size_t rows) {
  auto base = vector("17_result_multirow_types.json");
  model::Message m = base->message;
  for (std::size_t j = 0; j < m.columns.size(); ++j) {
    const auto& from = base->message.columns[j].values;
    m.columns[j].values.clear();
    for (std::size_t i = 0; i < rows; ++i) {
      m.columns[j].values.push_back(m.columns[j].element->name == "hops.ip"
                                        ? model::Value::natural(1'000'000 + i)
                                        : from[i % from.size()]);
    }
  }
  m.row_count = rows;
  return json::to_json(m);
}

constexpr OutputFormat kFormats[] = {OutputFormat::kTable, OutputFormat::kCsv, OutputFormat::kJson};

TEST_CASE("result printer: the same bytes as the whole message", "[engine][cli][printer]") {
  for (const char* name : {"16_result_ping_average.json", "17_result_multirow_types.json",
                           "26_envelope_multijob_results.json"}) {
    auto m = vector(name);
    const std::string text = json::to_json(m->message);
    for (OutputFormat f : kFormats) {
      INFO(name << " format " << static_cast<int>(f));
      for (std::size_t piece : {std::size_t{1}, std::size_t{7}, text.size()}) {
        const Streamed s = stream(f, text, piece);
        REQUIRE(s.error.empty());
        CHECK(s.printed);
        CHECK(s.out == whole(f, m->message));
      }
    }
  }
}

TEST_CASE("result printer: receipts and exceptions are left to the caller",
          "[engine][cli][printer]") {
  for (const char* name : {"18_receipt_full.json", "24_exception_with_token.json"}) {
    const std::string text = json::to_json(vector(name)->message);
    for (OutputFormat f : kFormats) {
      const Streamed s = stream(f, text);
      REQUIRE(s.error.empty());
      CHECK_FALSE(s.printed);
      CHECK(s.out.empty());
    }
  }
}

TEST_CASE("result printer: CSV and JSON beyond what is held", "[engine][cli][printer]") {
  const std::size_t rows = cli::kHeldRows * 3 + 17;
  const std::string text = large_result(rows);
  auto m = test::parse(text);
  REQUIRE(m.ok());
  for (OutputFormat f : {OutputFormat::kCsv, OutputFormat::kJson}) {
    const Streamed s = stream(f, text, 4096);
    REQUIRE(s.error.empty());
    CHECK(s.out == whole(f, m.value()->message));
  }
}

TEST_CASE("result printer: a table beyond what is held streams, titles last",
          "[engine][cli][printer]") {
  const std::size_t rows = cli::kHeldRows + 500;
  const std::string text = large_result(rows);
  auto m = test::parse(text);
  REQUIRE(m.ok());
  const Streamed s = stream(OutputFormat::kTable, text, 4096);
  REQUIRE(s.error.empty());
  const std::string before = whole(OutputFormat::kTable, m.value()->message);
  // Today's table: title line, header, rows, count. Streamed: header, rows, count, blank, title.
  const auto title_end = before.find('\n') + 1;
  const std::string title = before.substr(0, title_end);
  CHECK(s.out == before.substr(title_end) + "\n" + title);
}

TEST_CASE("result printer: a malformed row is reported after the rows before it",
          "[engine][cli][printer]") {
  std::string text = large_result(cli::kHeldRows * 2);
  const std::string bad_row_value = "\"1001499\"";  // row 1500's hops.ip
  const auto at = text.find(bad_row_value);
  REQUIRE(at != std::string::npos);
  text.replace(at, bad_row_value.size(), "\"many\"");
  SECTION("CSV") {
    const Streamed s = stream(OutputFormat::kCsv, text, 4096);
    CHECK_THAT(s.error, Catch::Contains("row 1500"));
    std::size_t lines = 0;
    for (char c : s.out) lines += c == '\n';
    CHECK(lines == 1 + 1499);  // the header and every row before the bad one
  }
  SECTION("table") {
    const Streamed s = stream(OutputFormat::kTable, text, 4096);
    CHECK_THAT(s.error, Catch::Contains("row 1500"));
    CHECK_THAT(s.out, Catch::EndsWith("(1499 rows)\n"));
  }
  SECTION("a table still held") {
    std::string small = large_result(10);
    const auto bad = small.find("\"1000004\"");
    REQUIRE(bad != std::string::npos);
    small.replace(bad, 9, "\"many\"");
    const Streamed s = stream(OutputFormat::kTable, small);
    CHECK_THAT(s.error, Catch::Contains("row 5"));
    CHECK_THAT(s.out, Catch::StartsWith("time ") && Catch::EndsWith("(4 rows)\n"));
  }
}

}  // namespace
}  // namespace mplane
