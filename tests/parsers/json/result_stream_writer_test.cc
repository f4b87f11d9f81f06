// ResultStreamWriter: same bytes as write_message, delivered in bounded chunks.
#include <catch2/catch.hpp>

#include "parsers/json/message_writer.h"
#include "parsers/json/result_stream_writer.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

TEST_CASE("streaming a result gives the bytes of write_message", "[parsers][stream]") {
  const std::string text = test::read_file(test::vector_path("17_result_multirow_types.json"));
  auto m = test::parse(text);
  REQUIRE(m.ok());
  const model::Message& msg = (*m)->message;
  for (bool pretty : {true, false}) {
    std::string streamed;
    std::size_t chunks = 0;
    json::ResultStreamWriter w(
        msg,
        [&](std::string_view b) {
          streamed += b;
          ++chunks;
        },
        {.pretty = pretty}, /*flush_bytes=*/64);
    std::vector<model::Value> row(msg.columns.size());
    for (std::size_t i = 0; i < msg.row_count; ++i) {
      for (std::size_t j = 0; j < row.size(); ++j) row[j] = msg.columns[j].values[i];
      w.add_row(row);
    }
    w.finish(*msg.when);
    CHECK(streamed == json::to_json(msg, {.pretty = pretty}));
    CHECK(chunks > 1);
    CHECK(w.rows() == 3);
  }
}

// A service that learns its metadata only at the end (the capture's quality): the streamed
// result carries it after the rows, and parses to the message write_message would give.
TEST_CASE("metadata known at the end of a stream follows the rows", "[parsers][stream]") {
  const std::string text = test::read_file(test::vector_path("17_result_multirow_types.json"));
  auto m = test::parse(text);
  REQUIRE(m.ok());
  const model::Message& full = (*m)->message;
  REQUIRE_FALSE(full.metadata.empty());
  model::Message header = full;
  header.metadata.clear();
  std::string streamed;
  json::ResultStreamWriter w(header, [&](std::string_view b) { streamed += b; }, {.pretty = false});
  std::vector<model::Value> row(full.columns.size());
  for (std::size_t i = 0; i < full.row_count; ++i) {
    for (std::size_t j = 0; j < row.size(); ++j) row[j] = full.columns[j].values[i];
    w.add_row(row);
  }
  w.finish(*full.when, full.metadata);
  CHECK(streamed.find("\"metadata\"") > streamed.find("\"resultvalues\""));
  auto back = test::parse(streamed);
  REQUIRE(back.ok());
  CHECK(json::to_json((*back)->message) == json::to_json(full));
}

TEST_CASE("a large streamed result never holds more than the flush size", "[parsers][stream]") {
  auto header =
      test::parse(R"({"result": "measure", "registry": "http://ict-mplane.eu/registry/core",
    "label": "big", "when": "2030-01-01 ... 2030-01-02", "results": ["octets.ip", "observer.link"]})");
  REQUIRE(header.ok());
  std::size_t total = 0;
  std::size_t largest = 0;
  std::string tail;
  constexpr std::size_t kFlush = 16 * 1024;
  json::ResultStreamWriter w((*header)->message,
                             [&](std::string_view b) {
                               total += b.size();
                               largest = std::max(largest, b.size());
                               tail = std::string(b.substr(b.size() > 200 ? b.size() - 200 : 0));
                             },
                             {.pretty = false}, kFlush);
  const model::Value row[2] = {model::Value::natural(123456789), model::Value::string("eth0")};
  constexpr std::size_t kRows = 200000;
  for (std::size_t i = 0; i < kRows; ++i) w.add_row(row);
  auto when = model::When::parse("2030-01-01 00:00:00 ... 2030-01-01 01:00:00");
  REQUIRE(when.ok());
  w.finish(*when);
  CHECK(w.rows() == kRows);
  CHECK(total == w.bytes_written());
  CHECK(total > kRows * 20);
  CHECK(largest < kFlush + 256);
  CHECK_THAT(
      tail,
      Catch::EndsWith(
          R"(["123456789","eth0"]],"version":1,"when":"2030-01-01 00:00:00.000000 ... 2030-01-01 01:00:00.000000"})"));
}

}  // namespace
}  // namespace mplane
