// ResultStreamReader: the rows of a result (or of an envelope of results) as they arrive, the
// same rows and the same message as the whole-message reader, in any fragmentation.
#include <catch2/catch.hpp>

#include "parsers/json/message_writer.h"
#include "parsers/json/result_stream_reader.h"
#include "parsers/json/result_stream_writer.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

// Records what the reader hands over, as text (values formatted), in order.
struct Recorder final : json::ResultStreamHandler {
  std::vector<std::string> events;
  std::size_t messages = 0;
  std::vector<std::size_t> row_counts;  // of the results in on_message, pre-order
  std::string summary;
  std::size_t fail_at_row = 0;  // > 0: on_row returns an error at this row number

  Status<> on_columns(std::span<const model::Element* const> columns) override {
    std::string e = "columns";
    for (const model::Element* c : columns) e += " " + c->name;
    events.push_back(e);
    return Ok{};
  }
  Status<> on_row(std::size_t number, std::span<const model::Value> values) override {
    if (number == fail_at_row) return fail("the handler stops");
    std::string e = "row " + std::to_string(number);
    for (const model::Value& v : values) e += " " + model::format_value(v);
    events.push_back(e);
    return Ok{};
  }
  Status<> on_message(const model::Message& m) override {
    ++messages;
    summary = model::summarize(m);
    collect(m);
    return Ok{};
  }
  void collect(const model::Message& m) {
    if (m.kind == model::MessageKind::kResult) {
      row_counts.push_back(m.row_count);
      for (const model::Column& c : m.columns) CHECK(c.values.empty());
    }
    for (const model::Message& member : m.contents) collect(member);
  }
};

// What the handler should see, from the whole-message reader.
Recorder expected_from(const model::Message& m) {
  Recorder r;
  auto walk = [&r](const model::Message& msg, auto& self) -> void {
    if (msg.kind == model::MessageKind::kResult) {
      std::vector<const model::Element*> cols;
      for (const model::Column& c : msg.columns) cols.push_back(c.element);
      (void)r.on_columns(cols);
      for (std::size_t i = 0; i < msg.row_count; ++i) {
        std::vector<model::Value> row;
        for (const model::Column& c : msg.columns) row.push_back(c.values[i]);
        (void)r.on_row(i + 1, row);
      }
      r.row_counts.push_back(msg.row_count);
    }
    for (const model::Message& member : msg.contents) self(member, self);
  };
  walk(m, walk);
  return r;
}

Status<> feed_in_pieces(json::ResultStreamReader& reader, std::string_view text,
                        std::vector<std::size_t> cuts) {
  std::size_t at = 0;
  cuts.push_back(text.size());
  for (std::size_t cut : cuts) {
    if (auto st = reader.feed(text.substr(at, cut - at)); !st) return st;
    at = cut;
  }
  return reader.finish();
}

void check_every_split(const std::string& file) {
  const std::string text = test::read_file(test::vector_path(file));
  auto whole = test::parse(text);
  REQUIRE(whole.ok());
  const Recorder expected = expected_from((*whole)->message);
  REQUIRE(expected.events.size() > 2);
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    Recorder got;
    json::ResultStreamReader reader(test::registries(), got);
    REQUIRE(feed_in_pieces(reader, text, {cut}).ok());
    INFO("split at byte " << cut);
    REQUIRE(got.events == expected.events);
    REQUIRE(got.row_counts == expected.row_counts);
    REQUIRE(got.messages == 1);
  }
}

TEST_CASE("every split of a result into two reads gives the same rows", "[parsers][stream]") {
  check_every_split("17_result_multirow_types.json");
}

TEST_CASE("every split of an envelope of results into two reads gives the same rows",
          "[parsers][stream]") {
  check_every_split("26_envelope_multijob_results.json");
}

TEST_CASE("a result read byte by byte", "[parsers][stream]") {
  const std::string text = test::read_file(test::vector_path("26_envelope_multijob_results.json"));
  auto whole = test::parse(text);
  REQUIRE(whole.ok());
  Recorder got;
  json::ResultStreamReader reader(test::registries(), got);
  for (char ch : text) REQUIRE(reader.feed(std::string_view(&ch, 1)).ok());
  REQUIRE(reader.finish().ok());
  CHECK(got.events == expected_from((*whole)->message).events);
  CHECK(got.summary == model::summarize((*whole)->message));
}

// A large streamed result (as the component sends it): every row arrives, memory aside.
TEST_CASE("a streamed result of many rows is handed over row by row", "[parsers][stream]") {
  const std::string text = test::read_file(test::vector_path("17_result_multirow_types.json"));
  auto whole = test::parse(text);
  REQUIRE(whole.ok());
  const model::Message& msg = (*whole)->message;
  struct Counter final : json::ResultStreamHandler {
    std::size_t rows = 0, last = 0, columns = 0, messages = 0, final_count = 0;
    Status<> on_columns(std::span<const model::Element* const>) override {
      ++columns;
      return Ok{};
    }
    Status<> on_row(std::size_t n, std::span<const model::Value>) override {
      ++rows;
      last = n;
      return Ok{};
    }
    Status<> on_message(const model::Message& m) override {
      ++messages;
      final_count = m.row_count;
      return Ok{};
    }
  } counter;
  json::ResultStreamReader reader(test::registries(), counter);
  constexpr std::size_t kRows = 30'000;
  json::ResultStreamWriter writer(msg, [&](std::string_view b) { REQUIRE(reader.feed(b).ok()); });
  std::vector<model::Value> row(msg.columns.size());
  for (std::size_t i = 0; i < kRows; ++i) {
    for (std::size_t j = 0; j < row.size(); ++j) row[j] = msg.columns[j].values[i % msg.row_count];
    writer.add_row(row);
  }
  writer.finish(*msg.when);
  REQUIRE(reader.finish().ok());
  CHECK(counter.columns == 1);
  CHECK(counter.rows == kRows);
  CHECK(counter.last == kRows);
  CHECK(counter.messages == 1);
  CHECK(counter.final_count == kRows);
  CHECK(reader.rows() == kRows);
}

std::string result_with_rows(const std::string& rows) {
  return R"({"result": "measure", "version": 1, "registry": "http://ict-mplane.eu/registry/core",
  "label": "ping", "when": "2030-01-01 12:00:00 ... 2030-01-01 12:01:00",
  "parameters": {"destination.ip4": "198.51.100.7"},
  "results": ["delay.twoway.icmp.us", "destination.ip4"],
  "resultvalues": )" +
         rows + "}";
}

TEST_CASE("a malformed row is an error naming it, after the rows before it", "[parsers][stream]") {
  Recorder got;
  json::ResultStreamReader reader(test::registries(), got);
  auto st = reader.feed(result_with_rows(
      R"([["1", "198.51.100.7"], ["2", "198.51.100.8"], ["x", "198.51.100.9"], ["4", "1.2.3.4"]])"));
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.error(), Catch::StartsWith("row 3, column delay.twoway.icmp.us: "));
  REQUIRE(got.events.size() == 3);
  CHECK(got.events[2] == "row 2 2 198.51.100.8");
  CHECK_FALSE(reader.feed("").ok());  // the error is sticky
  CHECK_FALSE(reader.finish().ok());
}

TEST_CASE("a row that is not an array, or too long, is an error naming it", "[parsers][stream]") {
  Recorder got;
  json::ResultStreamReader reader(test::registries(), got);
  auto st = reader.feed(result_with_rows(R"([["1", "198.51.100.7"], 7])"));
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.error(), Catch::Contains("row 2: not a JSON array"));

  Recorder got2;
  json::ResultStreamReader small(test::registries(), got2, {.max_row_bytes = 32});
  auto st2 = small.feed(
      result_with_rows(R"([["1", "198.51.100.7"], ["2", "198.51.100.70000000000000000000"]])"));
  REQUIRE_FALSE(st2.ok());
  CHECK_THAT(st2.error(), Catch::Contains("row 2: larger than 32 bytes"));
  CHECK(got2.events.size() == 2);  // columns, row 1
}

TEST_CASE("rows before their columns wait for them", "[parsers][stream]") {
  const std::string text = R"({"resultvalues": [["1", "198.51.100.7"], ["2", "198.51.100.8"]],
    "result": "measure", "version": 1, "label": "ping",
    "when": "2030-01-01 12:00:00 ... 2030-01-01 12:01:00",
    "parameters": {"destination.ip4": "198.51.100.7"},
    "results": ["delay.twoway.icmp.us", "destination.ip4"]})";
  Recorder got;
  json::ResultStreamReader reader(test::registries(), got);
  REQUIRE(feed_in_pieces(reader, text, {20, 40}).ok());
  REQUIRE(got.events.size() == 3);
  CHECK(got.events[0] == "columns delay.twoway.icmp.us destination.ip4");
  CHECK(got.events[2] == "row 2 2 198.51.100.8");
  CHECK(got.row_counts == std::vector<std::size_t>{2});
}

TEST_CASE("other messages arrive whole, with no columns or rows", "[parsers][stream]") {
  for (const char* file : {"18_receipt_full.json", "24_exception_with_token.json",
                           "08_specification_ping_absolute.json"}) {
    const std::string text = test::read_file(test::vector_path(file));
    Recorder got;
    json::ResultStreamReader reader(test::registries(), got);
    REQUIRE(feed_in_pieces(reader, text, {text.size() / 2}).ok());
    INFO(file);
    CHECK(got.events.empty());
    CHECK(got.messages == 1);
    auto whole = test::parse(text);
    REQUIRE(whole.ok());
    CHECK(got.summary == model::summarize((*whole)->message));
  }
}

TEST_CASE("broken or incomplete input is an error, never a message", "[parsers][stream]") {
  struct Case {
    std::string text;
    const char* error;
  };
  const Case cases[] = {
      {"", "no message"},
      {"[1, 2]", "not a JSON object"},
      {R"({"result": "measure")", "incomplete"},
      {R"({"receipt": "measure", "token": "ab"]})", "unexpected ']'"},
      {R"({"result": "measure", "results": ["no.such.element"], "resultvalues": []})",
       "no.such.element not present"},
      {R"({"result": "measure", "version": 1, "results": ["delay.twoway.icmp.us"],)"
       R"( "resultvalues": [["1"]], "when": "not a time"})",
       "when"},
  };
  for (const Case& c : cases) {
    Recorder got;
    json::ResultStreamReader reader(test::registries(), got);
    auto st = reader.feed(c.text);
    if (st) st = reader.finish();
    INFO(c.text);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.error(), Catch::Contains(c.error));
    CHECK(got.messages == 0);
  }
}

TEST_CASE("bytes after the message are an error", "[parsers][stream]") {
  Recorder got;
  json::ResultStreamReader reader(test::registries(), got);
  REQUIRE(reader.feed(R"({"interrupt": "measure", "token": "ab"} )").ok());
  CHECK(got.messages == 1);
  auto st = reader.feed("x");
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.error(), Catch::Contains("bytes after the message"));
}

TEST_CASE("the handler's error stops the reader", "[parsers][stream]") {
  Recorder got;
  got.fail_at_row = 2;
  json::ResultStreamReader reader(test::registries(), got);
  auto st = reader.feed(result_with_rows(R"([["1", "198.51.100.7"], ["2", "198.51.100.8"]])"));
  REQUIRE_FALSE(st.ok());
  CHECK(st.error() == "the handler stops");
}

TEST_CASE("the head is bounded in bytes", "[parsers][stream]") {
  Recorder got;
  json::ResultStreamReader reader(test::registries(), got, {.max_head_bytes = 100});
  auto st = reader.feed(result_with_rows("[]"));
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.error(), Catch::Contains("larger than 100 bytes"));
}

}  // namespace
}  // namespace mplane
