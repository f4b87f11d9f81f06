// libFuzzer target: the component's request path without sockets. Bytes go through the HTTP
// request parser (split at a fuzzer-chosen point, as a socket may split them); every complete
// request's body goes through the mPlane reader and, if it parses, the writer. Nothing may
// crash, hang or leak whatever the input.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "parsers/json/message_reader.h"
#include "parsers/json/message_writer.h"
#include "tests/fuzz/fuzz_support.h"
#include "transport/http/http_parser.h"

namespace {

using mplane::fuzz::registries;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t cut = size > 1 ? data[0] % (input.size() + 1) : 0;
  mplane::transport::HttpLimits limits;
  limits.max_head_bytes = 2048;
  limits.max_body_bytes = 64 * 1024;
  mplane::transport::HttpParser parser(mplane::transport::HttpParser::Kind::kRequest, limits);
  std::vector<mplane::transport::HttpMessage> requests;
  if (parser.feed(input.substr(0, cut), requests)) (void)parser.feed(input.substr(cut), requests);
  mplane::json::MessageReader reader(registries());
  for (const auto& r : requests) {
    if (r.header("Host") && r.header("Host")->size() > limits.max_head_bytes) __builtin_trap();
    auto m = mplane::json::parse_owned(reader, r.body);
    if (m) (void)mplane::json::to_json((*m)->message);
  }
  return 0;
}
