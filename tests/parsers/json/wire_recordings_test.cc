// The message bodies of the recorded RI exchanges (tests/data/mplane/wire) parse, re-serialise byte
// for byte, and RI-computed capability tokens equal our default tokens.
#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <sstream>

#include "parsers/json/message_writer.h"
#include "parsers/mplane/token.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

// JSON bodies as the RI prints them: from a line "{" to the next line "}".
std::vector<std::string> bodies(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  std::string current;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line == "{") inside = true;
    if (inside) current += line + "\n";
    if (inside && line == "}") {
      out.push_back(current);
      current.clear();
      inside = false;
    }
  }
  return out;
}

bool is_md5_hex(std::string_view s) {
  return s.size() == 32 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

TEST_CASE("recorded RI message bodies re-serialise byte for byte", "[parsers][wire]") {
  std::size_t messages = 0;
  std::size_t capability_tokens = 0;
  for (const auto& entry : std::filesystem::directory_iterator(test::data_dir() / "mplane/wire")) {
    for (const std::string& body : bodies(test::read_file(entry.path()))) {
      CAPTURE(entry.path().filename().string(), body);
      auto m = test::parse(body);
      if (!m) FAIL(m.error().describe(body));
      CHECK(json::to_json((*m)->message) + "\n" == body);
      ++messages;
      const model::Message& msg = (*m)->message;
      if (msg.kind == model::MessageKind::kCapability && msg.token && is_md5_hex(*msg.token)) {
        CHECK(model::default_token(msg) == std::string(*msg.token));
        ++capability_tokens;
      }
    }
  }
  CHECK(messages >= 70);
  CHECK(capability_tokens > 0);
}

}  // namespace
}  // namespace mplane
