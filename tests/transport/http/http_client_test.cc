// HttpClient against an in-process HttpServer on a loop in a second thread: plain requests,
// keep-alive reuse, reconnection after the server closed, Connection: close, timeouts,
// refused connections, URL parsing.
#include "transport/http/http_client.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "tests/transport/server_thread.h"
#include "transport/http/http_server.h"

namespace mplane::transport {
namespace {

using test::ServerThread;

std::string reply(int status, std::string_view body, bool keep_alive = true) {
  std::string out;
  append_response(out, status, "text/plain", body, keep_alive);
  return out;
}

TEST_CASE("http client: GET and POST over one keep-alive connection", "[transport][http]") {
  ServerThread server([](HttpMessage&& r, Responder resp) {
    resp.send(reply(200, r.method + " " + r.target + " " + r.body));
  });
  HttpClient client("127.0.0.1", server.port());
  auto a = client.request("GET", "/x", "", "");
  REQUIRE(a.ok());
  CHECK(a->status == 200);
  CHECK(a->body == "GET /x ");
  CHECK(*a->header("Content-Type") == "text/plain");
  auto b = client.request("POST", "/y", "application/x-mplane+json", std::string(200000, 'z'));
  REQUIRE(b.ok());
  CHECK(b->body.size() == std::string("POST /y ").size() + 200000);
  CHECK(client.connections_opened() == 1);
  CHECK(a->peer_identity == kUnauthenticatedIdentity);
}

TEST_CASE("http client: reconnects after the server closed", "[transport][http]") {
  std::atomic<int> n{0};
  ServerThread server([&n](HttpMessage&&, Responder resp) {
    const int i = n++;
    // The first response says keep-alive but the server closes right after it: the client
    // notices on its next request and reconnects.
    resp.send(reply(200, std::to_string(i)), /*close_after=*/i == 0);
  });
  HttpClient client("127.0.0.1", server.port());
  REQUIRE(client.request("GET", "/", "", "")->body == "0");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto r = client.request("GET", "/", "", "");
  REQUIRE(r.ok());
  CHECK(r->body == "1");
  CHECK(client.connections_opened() == 2);
}

TEST_CASE("http client: Connection: close responses", "[transport][http]") {
  ServerThread server([](HttpMessage&&, Responder resp) {
    resp.send(reply(404, "gone", /*keep_alive=*/false), true);
  });
  HttpClient client("localhost", server.port());  // a name: resolved with getaddrinfo
  for (int i = 0; i < 3; ++i) {
    auto r = client.request("GET", "/", "", "");
    REQUIRE(r.ok());
    CHECK(r->status == 404);
    CHECK_FALSE(client.connected());
  }
  CHECK(client.connections_opened() == 3);
}

TEST_CASE("http client: errors", "[transport][http]") {
  SECTION("timeout") {
    std::vector<Responder> held;
    ServerThread server([&held](HttpMessage&&, Responder resp) { held.push_back(resp); });
    HttpClient client("127.0.0.1", server.port());
    auto r = client.request("GET", "/", "", "", 200);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error(), Catch::Contains("timed out"));
  }
  SECTION("refused") {
    std::uint16_t port;
    {
      ServerThread server([](HttpMessage&&, Responder) {});
      port = server.port();
    }
    HttpClient client("127.0.0.1", port);
    auto r = client.request("GET", "/", "", "");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error(),
               Catch::Contains("cannot connect to 127.0.0.1:") && Catch::Contains("refused"));
  }
  SECTION("unresolvable") {
    HttpClient client("no-such-host.invalid", 80);
    auto r = client.request("GET", "/", "", "");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error(), Catch::Contains("cannot resolve no-such-host.invalid"));
  }
}

// A body of `size` bytes whose every byte depends on its offset (a misplaced piece shows).
std::string patterned(std::size_t size) {
  std::string body(size, '\0');
  for (std::size_t i = 0; i < size; ++i) body[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return body;
}

std::string chunked_reply(std::string_view body, std::size_t chunk) {
  std::string out;
  append_chunked_head(out, 200, "text/plain", true);
  for (std::size_t at = 0; at < body.size(); at += chunk) append_chunk(out, body.substr(at, chunk));
  append_last_chunk(out);
  return out;
}

// Checks each piece against the expected body as it arrives, without keeping the pieces.
struct CheckingSink {
  std::string_view expected;
  std::size_t received = 0;
  int pieces = 0;
  int heads = 0;
  bool mismatch = false;
  ResponseSink sink{[this](const HttpMessage& head) -> Status<> {
                      ++heads;
                      if (!head.body.empty() || received != 0) mismatch = true;
                      return Ok{};
                    },
                    [this](std::string_view piece) -> Status<> {
                      ++pieces;
                      if (expected.substr(received, piece.size()) != piece) mismatch = true;
                      received += piece.size();
                      return Ok{};
                    }};
};

TEST_CASE("http client: a large response streamed to a sink", "[transport][http]") {
  const std::string body = patterned(40u << 20);
  const bool chunked = GENERATE(false, true);
  const std::string bytes = chunked ? chunked_reply(body, 1u << 20) : reply(200, body);
  ServerThread server([&bytes](HttpMessage&&, Responder resp) { resp.send(bytes); });
  HttpClient client("127.0.0.1", server.port());
  HttpLimits small;
  small.max_body_bytes = 1u << 20;  // does not apply to a streamed body
  client.set_limits(small);
  CheckingSink check{body};
  auto r = client.request("GET", "/big", "", "", 30'000, check.sink);
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body.empty());
  CHECK(*r->header("Content-Type") == "text/plain");
  CHECK(check.heads == 1);
  CHECK(check.received == body.size());
  CHECK_FALSE(check.mismatch);
  CHECK(check.pieces > 1);  // delivered as it arrived, not at the end
  // The connection stays usable, and a plain request keeps its body again.
  auto again = client.request("GET", "/big", "", "");
  REQUIRE_FALSE(again.ok());  // 40 MiB over the 1 MiB limit
  CHECK_THAT(again.error(), Catch::Contains("body larger than"));
}

TEST_CASE("http client: an error from the sink aborts the request", "[transport][http]") {
  const std::string body = patterned(8u << 20);
  ServerThread server([&body](HttpMessage&&, Responder resp) { resp.send(reply(200, body)); });
  HttpClient client("127.0.0.1", server.port());
  std::size_t received = 0;
  ResponseSink sink{[](const HttpMessage&) -> Status<> { return Ok{}; },
                    [&received](std::string_view piece) -> Status<> {
                      received += piece.size();
                      if (received > 100000) return fail("enough: stopped by the sink");
                      return Ok{};
                    }};
  auto r = client.request("GET", "/", "", "", 30'000, sink);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == "enough: stopped by the sink");
  CHECK_FALSE(client.connected());
  CHECK(received < body.size());
  SECTION("an error from the head callback") {
    ResponseSink refuse{[](const HttpMessage& head) -> Status<> {
                          return fail("status " + std::to_string(head.status) + " refused");
                        },
                        [](std::string_view) -> Status<> { return Ok{}; }};
    auto h = client.request("GET", "/", "", "", 30'000, refuse);
    REQUIRE_FALSE(h.ok());
    CHECK(h.error() == "status 200 refused");
    CHECK(client.connections_opened() == 2);
  }
}

TEST_CASE("http client: URLs", "[transport][http]") {
  auto a = parse_http_url("https://[::1]:1228/capability");
  REQUIRE(a.ok());
  CHECK(a->tls);
  CHECK(a->host == "::1");
  CHECK(a->port == 1228);
  CHECK(a->path == "/capability");
  CHECK(a->str() == "https://[::1]:1228/capability");
  auto b = parse_http_url("http://probe.example");
  REQUIRE(b.ok());
  CHECK(b->port == 80);
  CHECK_FALSE(b->has_path);
  CHECK(b->path == "/");
  CHECK_FALSE(parse_http_url("ftp://x").ok());
  CHECK_FALSE(parse_http_url("http://x:99999/").ok());
  CHECK_FALSE(parse_http_url("http://:80/").ok());
}

}  // namespace
}  // namespace mplane::transport
