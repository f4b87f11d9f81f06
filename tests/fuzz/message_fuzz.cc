// libFuzzer target: the message parser. Any input either fails with a ParseError or parses
// into a message that writes, re-parses to the same canonical text, and hashes.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "parsers/json/message_reader.h"
#include "parsers/json/message_writer.h"
#include "parsers/mplane/token.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using mplane::fuzz::registries;

void touch_tokens(const mplane::model::Message& m) {
  (void)mplane::model::validate(m);
  (void)mplane::model::summarize(m);
  (void)mplane::model::effective_token(m);
  for (const auto& member : m.contents) touch_tokens(member);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mplane::json::MessageReader reader(registries());
  auto first = mplane::json::parse_owned(reader, {reinterpret_cast<const char*>(data), size});
  if (!first) {
    (void)first.error().describe({reinterpret_cast<const char*>(data), size});
    return 0;
  }
  touch_tokens((*first)->message);
  const std::string once = mplane::json::to_json((*first)->message);
  auto second = mplane::json::parse_owned(reader, once);
  if (!second) __builtin_trap();  // what we write, we must read
  if (mplane::json::to_json((*second)->message) != once) __builtin_trap();
  return 0;
}
