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
