// MessageReader: zero-copy views, typed columns, error locations, the RI's tolerance.
#include <catch2/catch.hpp>

#include "parsers/json/message_writer.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

constexpr std::string_view kResult = R"({
  "result": "measure", "version": 1, "registry": "http://ict-mplane.eu/registry/core",
  "label": "x", "token": "t1",
  "when": "2030-01-01 12:00:00 ... 2030-01-01 12:01:00",
  "parameters": {"destination.ip4": "198.51.100.7"},
  "results": ["delay.twoway.icmp.us", "observer.link"],
  "resultvalues": [["12", "eth0"], ["13"], [14, "eth\"1"]]
})";

TEST_CASE("strings without escapes are views into the input", "[parsers][reader]") {
  auto m = test::parse(kResult);
  REQUIRE(m.ok());
  const json::OwnedMessage& owned = **m;
  const char* begin = owned.input.data();
  const char* end = begin + owned.input.size();
  const std::string_view label = *owned.message.label;
  CHECK(label.data() >= begin);
  CHECK(label.data() < end);
  const std::string_view link0 = owned.message.columns[1].values[0].as_string();
  CHECK(link0 == "eth0");
  CHECK(link0.data() >= begin);
  const std::string_view escaped = owned.message.columns[1].values[2].as_string();
  CHECK(escaped == "eth\"1");
  CHECK((escaped.data() < begin || escaped.data() >= end));  // unescaped into the arena
}

TEST_CASE("parse_owned_consuming releases the text and reads the same message",
          "[parsers][reader]") {
  json::MessageReader reader(test::registries());
  std::string text(kResult);
  auto consumed = json::parse_owned_consuming(reader, std::move(text));
  REQUIRE(consumed.ok());
  // NOLINTNEXTLINE(bugprone-use-after-move): the release is what is checked
  CHECK(text.capacity() < kResult.size());
  auto copied = test::parse(kResult);
  REQUIRE(copied.ok());
  CHECK(json::to_json((*consumed)->message) == json::to_json((*copied)->message));
}

TEST_CASE("result values are typed columns, short rows are padded", "[parsers][reader]") {
  auto m = test::parse(kResult);
  REQUIRE(m.ok());
  const model::Message& msg = (*m)->message;
  REQUIRE(msg.row_count == 3);
  const model::Column& delay = msg.columns[0];
  CHECK(delay.values[0].kind() == model::ValueKind::kNatural);
  CHECK(delay.values[0].as_natural() == 12);
  CHECK(delay.values[2].as_natural() == 14);
  CHECK(msg.columns[1].values[1].is_none());
}

TEST_CASE("resultvalues before results are still read", "[parsers][reader]") {
  auto m = test::parse(R"({"resultvalues": [["1"]], "results": ["octets.ip"],
    "result": "measure", "registry": "http://ict-mplane.eu/registry/core",
    "when": "2030-01-01 ... 2030-01-02"})");
  REQUIRE(m.ok());
  CHECK((*m)->message.row_count == 1);
  CHECK((*m)->message.columns[0].values[0].as_natural() == 1);
}

struct BadCase {
  std::string_view json;
  std::string_view message_part;
  std::string_view where;
};

TEST_CASE("malformed messages are rejected with the section and the offset", "[parsers][reader]") {
  auto [json_text, message_part,
        where] = GENERATE(table<std::string_view, std::string_view, std::string_view>({
      {"", "invalid JSON", ""},
      {"[1, 2]", "Cannot determine message type", ""},
      {R"({"label": "x"})", "Cannot determine message type", ""},
      {R"({"capability": "measure", "specification": "measure"})", "more than one kind key",
       "specification"},
      {R"({"indirectionx": "measure"})", "Cannot determine message type", ""},
      {R"({"capability": "measure", "version": 2})", "Version mismatch", "version"},
      {R"({"capability": "measure", "when": "repeat now ... future"})", "no duration or cron set",
       "when"},
      {R"({"capability": "measure", "registry": "http://example.com/nope", "when": "now"})",
       "Invalid Registry uri", "registry"},
      {R"({"specification": "m", "registry": "http://ict-mplane.eu/registry/core", "when": "now", "parameters": {"connectivity.ip": "true"}})",
       "Invalid boolean value true", "parameters.connectivity.ip"},
      {R"({"capability": "m", "registry": "http://ict-mplane.eu/registry/core", "when": "now", "parameters": {"source.ip4": "192.0.2.19, 192.0.3.21"}})",
       "does not appear to be an IPv4 or IPv6 address", "parameters.source.ip4"},
      {R"({"capability": "m", "registry": "http://ict-mplane.eu/registry/core", "when": "now", "parameters": {"source.port": "1 ... 2 ... 3"}})",
       "too many", "parameters.source.port"},
      {R"({"exception": null})", "needs a \"message\"", "message"},
      {R"({"envelope": "message"})", "needs \"contents\"", "contents"},
      {R"({"result": "m", "registry": "http://ict-mplane.eu/registry/core", "when": "2030-01-01", "results": ["octets.ip"], "resultvalues": [["1", "2"]]})",
       "more values than", "resultvalues[0][1]"},
      {R"({"result": "m", "registry": "http://ict-mplane.eu/registry/core", "when": "2030-01-01", "results": ["octets.ip"], "resultvalues": [["x"]]})",
       "natural", "resultvalues[0][0]"},
      {R"({"capability": "m", "label": 5})", "expected a JSON string", "label"},
      {R"({"capability": "m", "label": "x"} trailing)", "invalid JSON", ""},
      {R"({"envelope": "message", "contents": [{"label": "x"}]})", "Cannot determine message type",
       "contents[0]"},
      {R"({"capability": "m", "metadata": {}, "metadata": {}})", "duplicate key \"metadata\"",
       "metadata"},
      {R"({"capability": "m", "parameters": {"source.ip4": "*", "source.ip4": "*"}})",
       "duplicate element", "parameters.source.ip4"},
  }));
  CAPTURE(json_text);
  auto m = test::parse(json_text);
  REQUIRE(!m.ok());
  CHECK_THAT(m.error().message, Catch::Contains(std::string(message_part)));
  CHECK(m.error().where == where);
  CHECK(m.error().offset <= json_text.size());
}

TEST_CASE("error text gives line and column", "[parsers][reader]") {
  const std::string text = "{\n  \"capability\": \"measure\",\n  \"version\": 7\n}";
  auto m = test::parse(text);
  REQUIRE(!m.ok());
  CHECK(m.error().describe(text) == "line 3 column 14 (byte 42), version: Version mismatch");
}

// Issue 10, item 11: JSON syntax errors said "line 1 column 1 (byte 0)" whatever the place.
// The positions are Python's json module's (the RI's json.loads() reports the same place).
TEST_CASE("JSON syntax errors give the line and column of the first bad byte",
          "[parsers][reader]") {
  auto [text, described] = GENERATE(table<std::string_view, std::string_view>({
      // a truncated object
      {"{\n  \"capability\": \"measure\",\n  \"version\": 1",
       "line 3 column 15 (byte 43): invalid JSON: expected ',' or '}' (the text ends)"},
      // a missing comma on line 3, and at the end of line 3
      {"{\n  \"capability\": \"measure\",\n  \"version\": 1 \"label\": \"x\"\n}",
       "line 3 column 16 (byte 44): invalid JSON: expected ',' or '}'"},
      {"{\n  \"capability\": \"measure\",\n  \"version\": 1\n  \"label\": \"x\"\n}",
       "line 4 column 3 (byte 46): invalid JSON: expected ',' or '}'"},
      // bad literals
      {"{\"capability\": \"measure\", \"label\": tru}",
       "line 1 column 36 (byte 35): invalid JSON: invalid literal"},
      {"{\"capability\": \"measure\",\n \"parameters\": {\"connectivity.ip\": True}}",
       "line 2 column 36 (byte 61): invalid JSON: expected a value"},
      // a trailing comma inside a section the reader would otherwise read
      {"{\"capability\": \"measure\",\n \"parameters\": {\"source.ip4\": \"*\",}}",
       "line 2 column 35 (byte 60): invalid JSON: expected a string key"},
      // an unterminated string: where it starts
      {"{\"capability\": \"measure\",\n \"label\": \"x}",
       "line 2 column 11 (byte 36): invalid JSON: unterminated string"},
      // a syntax error after a model error: invalid JSON comes first, as in the RI
      {"{\"capability\": \"measure\", \"version\": 7,\n \"label\": \"x\" \"when\": \"now\"}",
       "line 2 column 15 (byte 54): invalid JSON: expected ',' or '}'"},
      {"", "line 1 column 1 (byte 0): invalid JSON: expected a value (the text ends)"},
  }));
  CAPTURE(text);
  auto m = test::parse(text);
  REQUIRE(!m.ok());
  CHECK(m.error().describe(text) == described);
}

TEST_CASE("envelopes nest, within a depth limit", "[parsers][reader]") {
  std::string deep = R"({"exception": null, "message": "x"})";
  for (int i = 0; i < json::kMaxEnvelopeDepth + 2; ++i) {
    deep = R"({"envelope": "message", "contents": [)" + deep + "]}";
  }
  auto m = test::parse(deep);
  REQUIRE(!m.ok());
  CHECK_THAT(m.error().message, Catch::Contains("nested too deeply"));
  std::string shallow =
      R"({"envelope": "message", "contents": [{"envelope": "message", "contents": [{"exception": "t", "message": "Unknown job"}]}]})";
  auto ok = test::parse(shallow);
  REQUIRE(ok.ok());
  CHECK(ok.value()->message.contents[0].contents[0].exception_text == "Unknown job");
}

TEST_CASE("input cut at every byte never parses into something else", "[parsers][reader]") {
  const std::string full(kResult);
  for (std::size_t cut = 0; cut < full.size() - 2; ++cut) {
    auto m = test::parse(std::string_view(full).substr(0, cut));
    CHECK(!m.ok());
  }
}

TEST_CASE("native JSON values are accepted where the RI accepts them", "[parsers][reader]") {
  auto m =
      test::parse(R"({"specification": "measure", "registry": "http://ict-mplane.eu/registry/core",
    "when": "now", "version": "1", "parameters": {"source.port": 80, "connectivity.ip": true,
    "snr": 3, "destination.port": 80.0}})");
  REQUIRE(m.ok());
  const model::Message& msg = (*m)->message;
  CHECK(msg.find_parameter("source.port")->value.as_natural() == 80);
  CHECK(msg.find_parameter("connectivity.ip")->value.as_bool());
  CHECK(msg.find_parameter("snr")->value.as_real() == 3.0);
  // A float for a natural is truncated as int(float()) would (the RI keeps 80.0 as given).
  CHECK(model::format_value(msg.find_parameter("destination.port")->value) == "80");
  auto bad = test::parse(R"({"specification": "m", "registry": "http://ict-mplane.eu/registry/core",
    "when": "now", "parameters": {"source.ip4": 5}})");
  REQUIRE(!bad.ok());
  CHECK(bad.error().where == "parameters.source.ip4");
}

// Issue 10, item 9: an RI result with u64 counters was rejected whole (naturals were int64).
constexpr std::string_view kCounters = R"({
  "result": "measure", "version": 1, "registry": "http://ict-mplane.eu/registry/core",
  "label": "counters", "token": "t9",
  "when": "2030-01-01 12:00:00.000000 ... 2030-01-01 12:01:00.000000",
  "parameters": {"destination.ip4": "198.51.100.7"},
  "results": ["octets.ip", "packets.ip"],
  "resultvalues": [["18446744073709551615", "9223372036854775808"], [18446744073709551615, 9223372036854775808]]
})";

TEST_CASE("naturals span 0 ... 2^64-1 and survive a round trip", "[parsers][reader]") {
  auto m = test::parse(kCounters);
  REQUIRE(m.ok());
  const model::Message& msg = (*m)->message;
  REQUIRE(msg.row_count == 2);
  for (std::size_t row = 0; row < 2; ++row) {  // as RI strings, then as JSON numbers
    CHECK(msg.columns[0].values[row].as_natural() == 18446744073709551615ULL);
    CHECK(msg.columns[1].values[row].as_natural() == 9223372036854775808ULL);
  }
  const std::string out = json::to_json(msg, {.pretty = false});
  CHECK_THAT(out,
             Catch::Contains(R"("resultvalues":[["18446744073709551615","9223372036854775808"],)"
                             R"(["18446744073709551615","9223372036854775808"]])"));
  auto again = test::parse(out);
  REQUIRE(again.ok());
  CHECK(json::to_json((*again)->message, {.pretty = false}) == out);
}

TEST_CASE("a natural past 2^64-1 or negative is refused, naming the value", "[parsers][reader]") {
  auto [cell, text] = GENERATE(table<std::string_view, std::string_view>({
      {R"("18446744073709551616")", "18446744073709551616"},
      {"18446744073709551616", "18446744073709551616"},
      {"1.8446744073709552e19", "1.8446744073709552e19"},
      {R"("-1")", "-1"},
      {"-1", "-1"},
      {"-4.7", "-4.7"},
  }));
  const std::string json =
      R"({"result": "measure", "registry": "http://ict-mplane.eu/registry/core",
    "when": "2030-01-01 ... 2030-01-02", "results": ["octets.ip"], "resultvalues": [[)" +
      std::string(cell) + "]]}";
  CAPTURE(json);
  auto m = test::parse(json);
  REQUIRE(!m.ok());
  CHECK(m.error().where == "resultvalues[0][0]");
  CHECK(m.error().message ==
        "'" + std::string(text) +
            "' is not a valid natural (out of range 0 ... 18446744073709551615)");
  CHECK(json.substr(m.error().offset, cell.size()) == cell);
}

TEST_CASE("a JSON float or negative integer stays a real for a real element", "[parsers][reader]") {
  auto m = test::parse(R"({"specification": "m", "registry": "http://ict-mplane.eu/registry/core",
    "when": "now", "parameters": {"snr": -3, "destination.port": 0.5}})");
  REQUIRE(m.ok());
  CHECK((*m)->message.find_parameter("snr")->value.as_real() == -3.0);
  CHECK((*m)->message.find_parameter("destination.port")->value.as_natural() == 0);
}

}  // namespace
}  // namespace mplane
