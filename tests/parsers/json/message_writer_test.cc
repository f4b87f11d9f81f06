// MessageWriter: the RI layout, escaping, compact output, default tokens.
#include <catch2/catch.hpp>

#include "parsers/json/message_writer.h"
#include "parsers/mplane/token.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

TEST_CASE("strings are escaped as Python's json.dumps does", "[parsers][writer]") {
  auto escape = [](std::string_view s) {
    json::OutBuffer out;
    json::append_json_string(out, s);
    return out.str();
  };
  CHECK(escape("plain") == "\"plain\"");
  CHECK(escape("a\"b\\c") == R"("a\"b\\c")");
  CHECK(escape("\n\r\t\b\f") == R"("\n\r\t\b\f")");
  CHECK(escape(std::string("\x01", 1)) == R"("\u0001")");
  CHECK(escape("caf\xc3\xa9") == R"("caf\u00e9")");
  CHECK(escape("\xf0\x9f\x98\x80") == R"("\ud83d\ude00")");
  CHECK(escape("\xff") == R"("\ufffd")");
}

TEST_CASE("escaped strings survive a round trip", "[parsers][writer]") {
  auto m = test::parse(R"({"capability": "measure", "label": "caf\u00e9 \"q\" \ud83d\ude00",
    "when": "now ... future"})");
  REQUIRE(m.ok());
  const std::string out = json::to_json((*m)->message);
  CHECK_THAT(out, Catch::Contains(R"("label": "caf\u00e9 \"q\" \ud83d\ude00")"));
  auto again = test::parse(out);
  REQUIRE(again.ok());
  CHECK(*again.value()->message.label == *m.value()->message.label);
}

TEST_CASE("compact output has no whitespace and parses the same", "[parsers][writer]") {
  const std::string text = test::read_file(test::vector_path("26_envelope_multijob_results.json"));
  auto m = test::parse(text);
  REQUIRE(m.ok());
  const std::string compact = json::to_json((*m)->message, {.pretty = false});
  CHECK(compact.find('\n') == std::string::npos);
  CHECK(compact.starts_with(R"({"contents":[{"label":"ping-average-ip4-2","parameters":{)"));
  auto again = test::parse(compact);
  REQUIRE(again.ok());
  CHECK(json::to_json((*again)->message) + "\n" == text);
}

TEST_CASE("a component adds the default token to what it serves", "[parsers][writer]") {
  const std::string text = test::read_file(test::vector_path("01_capability_doc_example.json"));
  auto m = test::parse(text);
  REQUIRE(m.ok());
  CHECK(json::to_json((*m)->message).find("\"token\"") == std::string::npos);
  const std::string with =
      json::to_json((*m)->message, {.pretty = true, .add_default_token = true});
  CHECK_THAT(with, Catch::Contains(R"("token": "d7e9df75145e209e144bf9c06e7a9d2f")"));
}

TEST_CASE("an exception is written with its token or a null one", "[parsers][writer]") {
  CHECK(json::exception_json(std::nullopt, "Shutting down") ==
        R"({"exception":null,"message":"Shutting down"})");
  CHECK(json::exception_json("t1", "say \"no\"") == R"({"exception":"t1","message":"say \"no\""})");
  const std::string example =
      test::read_file(test::source_dir() / "conf/examples/exception_with_token.json");
  CHECK(json::exception_json("3f2c1b0a99887766554433221100ffee", "Unknown job", {.pretty = true}) +
            "\n" ==
        example);
}

TEST_CASE("values are always written as strings in canonical form", "[parsers][writer]") {
  auto m = test::parse(R"({"result": "measure", "registry": "http://ict-mplane.eu/registry/core",
    "when": "2030-01-01 ... 2030-01-02", "results": ["octets.ip", "snr", "connectivity.ip", "time"],
    "resultvalues": [[7, 1e16, true, "2030-1-2 3:04:05.5"]]})");
  REQUIRE(m.ok());
  CHECK_THAT(json::to_json((*m)->message, {.pretty = false}),
             Catch::Contains(R"([["7","1e+16","True","2030-01-02 03:04:05.500000"]])"));
}

}  // namespace
}  // namespace mplane
