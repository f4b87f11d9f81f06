// find_syntax_error: the first byte at which a text stops being JSON. The expected offsets are
// those of Python's json module, the RI's parser (json.loads(text) raises JSONDecodeError with
// that .pos), so that both name the same place.
#include <catch2/catch.hpp>

#include <string>

#include "parsers/json/syntax_error.h"

namespace mplane::json {
namespace {

TEST_CASE("syntax errors are found at Python's json position", "[parsers][json_syntax]") {
  auto [text, offset, what] = GENERATE(table<std::string_view, std::size_t, std::string_view>({
      {"", 0, "expected a value"},
      {"   ", 3, "expected a value"},
      {"{\n  \"capability\": \"measure\",\n  \"version\": 1", 43, "expected ',' or '}'"},
      {"{\n  \"capability\": \"measure\",\n  \"version\": 1 \"label\": \"x\"\n}", 44,
       "expected ',' or '}'"},
      {"{\n  \"capability\": \"measure\",\n  \"version\": 1\n  \"label\": \"x\"\n}", 46,
       "expected ',' or '}'"},
      {R"({"capability": "measure", "label": tru})", 35, "invalid literal"},
      {R"({"capability": "measure", "label": nul})", 35, "invalid literal"},
      {R"({"capability": "measure", "label": True})", 35, "expected a value"},
      {"{\"capability\": \"measure\",\n \"parameters\": {\"source.ip4\": \"*\",}}", 60,
       "expected a string key"},
      {"{\"capability\": \"measure\", \"label\": \"x\n\"}", 37, "control character in a string"},
      {R"({"capability": "measure", "label": "unterminated})", 35, "unterminated string"},
      {R"({"capability": "measure"} {"more": 1})", 26, "extra data after the JSON value"},
      {R"({"capability": "measure", "parameters": [1, 2 3]})", 46, "expected ',' or ']'"},
      {R"({"capability": "measure", "version": 01})", 38, "expected ',' or '}'"},
      {R"({"capability": "measure", "version": -})", 37, "expected a value"},
      {R"({"version": 1.})", 13, "expected ',' or '}'"},
      {R"({"version": 1e+})", 13, "expected ',' or '}'"},
      {R"([1,])", 3, "expected a value"},
      {R"([,1])", 1, "expected a value"},
      {R"({"a" 1})", 5, "expected ':'"},
      {R"({1: 2})", 1, "expected a string key"},
      {R"(["\x"])", 2, "invalid escape"},
      {R"(["\u12G4"])", 3, "invalid escape"},  // Python names the 'u'
      // Python decodes bytes before parsing; these offsets are the first bad byte's.
      {"[\"caf\xc3\"]", 5, "invalid UTF-8"},           // a lead byte, then the quote
      {"[\"\xc0\xaf\"]", 2, "invalid UTF-8"},          // overlong '/'
      {"[\"\xed\xa0\x80\"]", 2, "invalid UTF-8"},      // an encoded surrogate
      {"[\"\xf4\x90\x80\x80\"]", 2, "invalid UTF-8"},  // past U+10FFFF
      {"[\"\xe2\x82\"]", 2, "invalid UTF-8"},          // cut short
      {"[1]\xef\xbb\xbf", 3, "extra data after the JSON value"},
  }));
  CAPTURE(text);
  auto e = find_syntax_error(text);
  REQUIRE(e);
  CHECK(e->offset == offset);
  CHECK(e->what == what);
}

TEST_CASE("valid JSON has no syntax error", "[parsers][json_syntax]") {
  auto text = GENERATE(as<std::string_view>{}, "0", "-0.5e+10", " {} ", "[]", "[[], {}]",
                       R"({"a": [1, 2.5, -3e2, true, false, null, "x"], "b": {"c": ""}})",
                       "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
                       R"("\" \\ \/ \b \f \n \r \t \u00e9 \ud800")", "\t\r\n[1]\n");
  CAPTURE(text);
  CHECK_FALSE(find_syntax_error(text));
}

TEST_CASE("nesting depth costs no stack", "[parsers][json_syntax]") {
  const std::size_t depth = 1'000'000;
  const std::string deep = std::string(depth, '[') + std::string(depth, ']');
  CHECK_FALSE(find_syntax_error(deep));
  auto e = find_syntax_error(deep.substr(0, deep.size() - 1));
  REQUIRE(e);
  CHECK(e->offset == 2 * depth - 1);
}

}  // namespace
}  // namespace mplane::json
