// HttpParser and the HTTP writers: messages whole whatever the fragmentation, pipelining,
// chunked bodies, limits answered with their 4xx status.
#include <catch2/catch.hpp>

#include "transport/http/http_parser.h"

namespace mplane {
namespace {

using transport::HttpMessage;
using transport::HttpParser;

std::vector<HttpMessage> parse_all(std::string_view input, std::size_t step,
                                   HttpParser::Kind kind = HttpParser::Kind::kRequest) {
  HttpParser p(kind);
  std::vector<HttpMessage> out;
  for (std::size_t i = 0; i < input.size(); i += step) {
    auto st = p.feed(input.substr(i, step), out);
    if (!st) FAIL(st.error().reason);
  }
  return out;
}

const std::string kPipelined =
    "GET /capability HTTP/1.1\r\nHost: x\r\n\r\n"
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-mplane+json\r\n"
    "Content-Length: 11\r\n\r\n{\"a\": \"b\"}\n"
    "POST /specification HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";

TEST_CASE("pipelined requests come out whole, whatever the fragmentation", "[transport][http]") {
  for (std::size_t step :
       {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{64}, kPipelined.size()}) {
    CAPTURE(step);
    std::vector<HttpMessage> m = parse_all(kPipelined, step);
    REQUIRE(m.size() == 3);
    CHECK(m[0].method == "GET");
    CHECK(m[0].target == "/capability");
    CHECK(m[0].body.empty());
    CHECK(m[1].method == "POST");
    CHECK(*m[1].header("content-type") == "application/x-mplane+json");
    CHECK(m[1].body == "{\"a\": \"b\"}\n");
    CHECK(m[2].target == "/specification");
    CHECK(m[2].body == "hello world");
    CHECK(m[2].keep_alive);
  }
}

TEST_CASE("keep-alive follows HTTP/1.1 rules", "[transport][http]") {
  auto close = parse_all("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 100);
  REQUIRE(close.size() == 1);
  CHECK(!close[0].keep_alive);
  auto old = parse_all("GET / HTTP/1.0\r\n\r\n", 100);
  REQUIRE(old.size() == 1);
  CHECK(!old[0].keep_alive);
}

TEST_CASE("limits and malformed input give 4xx errors", "[transport][http]") {
  transport::HttpLimits limits;
  limits.max_head_bytes = 256;
  limits.max_headers = 8;
  limits.max_body_bytes = 100;
  auto [input, status] = GENERATE(table<std::string, int>({
      {"GET /" + std::string(300, 'a') + " HTTP/1.1\r\n\r\n", 431},
      {"GET / HTTP/1.1\r\nX-Long: " + std::string(300, 'v') + "\r\n\r\n", 431},
      {"GET / HTTP/1.1\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\nF: 1\r\nG: 1\r\nH: 1\r\nI: "
       "1\r\n\r\n",
       431},
      {"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + std::string(64, 'x') +
           "\r\n40\r\n" + std::string(64, 'x') + "\r\n0\r\n\r\n",
       413},
      {"NOT HTTP AT ALL\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
  }));
  HttpParser p(HttpParser::Kind::kRequest, limits);
  std::vector<HttpMessage> out;
  auto st = p.feed(input, out);
  REQUIRE(!st.ok());
  CHECK(st.error().status == status);
  CHECK(!st.error().reason.empty());
  CHECK(!p.feed("GET / HTTP/1.1\r\n\r\n", out).ok());  // sticky
}

TEST_CASE("responses: written, then parsed back", "[transport][http]") {
  std::string wire;
  transport::append_response(wire, 200, "application/x-mplane+json", "{\"x\": 1}", true);
  transport::append_chunked_head(wire, 400, "application/x-mplane+json", false);
  transport::append_chunk(wire, "part one, ");
  transport::append_chunk(wire, "");
  transport::append_chunk(wire, "part two");
  transport::append_last_chunk(wire);
  for (std::size_t step : {std::size_t{1}, std::size_t{5}, wire.size()}) {
    auto m = parse_all(wire, step, HttpParser::Kind::kResponse);
    REQUIRE(m.size() == 2);
    CHECK(m[0].status == 200);
    CHECK(m[0].body == "{\"x\": 1}");
    CHECK(m[1].status == 400);
    CHECK(m[1].body == "part one, part two");
    CHECK(!m[1].keep_alive);
  }
}

TEST_CASE("a response delimited by the end of the stream", "[transport][http]") {
  HttpParser p(HttpParser::Kind::kResponse);
  std::vector<HttpMessage> out;
  REQUIRE(p.feed("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it", out).ok());
  CHECK(out.empty());
  CHECK(p.in_message());
  REQUIRE(p.finish(out).ok());
  REQUIRE(out.size() == 1);
  CHECK(out[0].body == "all of it");
}

TEST_CASE("requests written by append_request parse back", "[transport][http]") {
  std::string wire;
  transport::append_request(wire, "POST", "/", "127.0.0.1:1228", "application/x-mplane+json", "{}");
  transport::append_request(wire, "GET", "/capabilities", "127.0.0.1:1228", "", "");
  auto m = parse_all(wire, 3);
  REQUIRE(m.size() == 2);
  CHECK(m[0].body == "{}");
  CHECK(*m[0].header("Host") == "127.0.0.1:1228");
  CHECK(m[1].target == "/capabilities");
}

}  // namespace
}  // namespace mplane
