// AsyncHttpClient against the project's own HttpServer, both on one loop in the test thread:
// plaintext and TLS, keep-alive, chunked responses delivered in pieces, a server that stalls,
// one that closes mid-response, responses over the size limits, refused connections, and a
// client destroyed while its request is in flight.
#include "transport/http/async_http_client.h"

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <vector>

#include "tests/engine/component/tls_domain.h"
#include "transport/http/http_server.h"
#include "transport/transport.h"

namespace mplane::transport {
namespace {

std::string reply(int status, std::string_view body, bool keep_alive = true) {
  std::string out;
  append_response(out, status, "text/plain", body, keep_alive);
  return out;
}

// An HttpServer on a loop of the test; clients made with client() share that loop.
class Bench {
 public:
  explicit Bench(RequestHandler handler, TlsContext* tls = nullptr) {
    uv_loop_init(&loop_);
    HttpServerOptions o;
    o.tls = tls;
    server_ = std::make_unique<HttpServer>(&loop_, std::move(o), std::move(handler));
    REQUIRE(server_->listen().ok());
  }
  ~Bench() {
    server_->close();
    uv_run(&loop_, UV_RUN_DEFAULT);
    server_.reset();
    uv_loop_close(&loop_);
  }
  Bench(const Bench&) = delete;
  Bench& operator=(const Bench&) = delete;

  uv_loop_t* loop() { return &loop_; }
  std::uint16_t port() const { return server_->port(); }
  void stop_server() { server_->close(); }

  std::unique_ptr<AsyncHttpClient> client(AsyncHttpClientOptions o = {}) {
    if (o.host.empty()) o.host = "127.0.0.1";
    if (o.port == 80) o.port = port();
    return std::make_unique<AsyncHttpClient>(&loop_, std::move(o));
  }

  // Runs the loop until the request is done.
  Result<HttpMessage> run(AsyncHttpClient& c, std::string_view method, std::string_view target,
                          std::string_view body = "", ResponseSink* sink = nullptr) {
    std::optional<Result<HttpMessage>> out;
    c.request(
        method, target, body.empty() ? "" : "text/plain", body,
        [&out](Result<HttpMessage> r) { out.emplace(std::move(r)); }, sink);
    while (!out) {
      if (uv_run(&loop_, UV_RUN_ONCE) == 0 && !out) FAIL("the loop ran dry without an answer");
    }
    return std::move(*out);
  }

 private:
  uv_loop_t loop_{};
  std::unique_ptr<HttpServer> server_;
};

void echo(HttpMessage&& r, Responder resp) {
  resp.send(reply(200, r.method + " " + r.target + " " + r.body));
}

TEST_CASE("async http client: plaintext keep-alive", "[transport][http][async]") {
  Bench bench(&echo);
  auto client = bench.client();
  auto a = bench.run(*client, "GET", "/x");
  REQUIRE(a.ok());
  CHECK(a->status == 200);
  CHECK(a->body == "GET /x ");
  CHECK(a->peer_identity == kUnauthenticatedIdentity);
  auto b = bench.run(*client, "POST", "/y", std::string(300000, 'z'));
  REQUIRE(b.ok());
  CHECK(b->body.size() == std::string("POST /y ").size() + 300000);
  CHECK(client->connections_opened() == 1);
  CHECK(client->connected());
}

TEST_CASE("async http client: TLS keep-alive with the peer's identity",
          "[transport][http][async]") {
  test::TlsDomain domain("AsyncClient");
  auto server_tls = test::tls_context(TlsRole::kServer, domain.ca(), &domain.component);
  auto client_tls = test::tls_context(TlsRole::kClient, domain.ca(), &domain.client);
  Bench bench([](HttpMessage&& r, Responder resp) { resp.send(reply(200, r.peer_identity)); },
              server_tls.get());
  AsyncHttpClientOptions o;
  o.tls = client_tls.get();
  auto client = bench.client(o);
  for (int i = 0; i < 2; ++i) {
    auto r = bench.run(*client, "GET", "/");
    REQUIRE(r.ok());
    CHECK(r->body == domain.client.identity);
    CHECK(r->peer_identity == domain.component.identity);
  }
  CHECK(client->connections_opened() == 1);
}

// Sends `body` as a chunked response in parts of 64 KiB, each once the previous has left.
struct Streamer : std::enable_shared_from_this<Streamer> {
  Responder resp;
  std::string_view body;
  std::size_t at = 0;
  static void start(Responder resp, std::string_view body) {
    auto s = std::make_shared<Streamer>();
    s->resp = std::move(resp);
    s->body = body;
    s->next();
  }
  void next() {
    std::string part;
    if (at == 0) append_chunked_head(part, 200, "text/plain", true);
    if (at >= body.size()) {
      append_last_chunk(part);
      return resp.send(std::move(part));
    }
    append_chunk(part, body.substr(at, 65536));
    at += 65536;
    resp.send_part(std::move(part), [self = shared_from_this()](bool delivered) {
      if (delivered) self->next();
    });
  }
};

TEST_CASE("async http client: a chunked response delivered in pieces", "[transport][http][async]") {
  std::string body;
  for (int i = 0; body.size() < (4u << 20); ++i) body += "row " + std::to_string(i) + "\n";
  // The server streams the body in parts of 64 KiB, each sent once the previous has left.
  Bench bench([&body](HttpMessage&&, Responder resp) { Streamer::start(std::move(resp), body); });
  auto client = bench.client();
  SECTION("to a sink") {
    std::string got;
    int pieces = 0;
    ResponseSink sink{[](const HttpMessage& head) -> Status<> {
                        if (head.status != 200) return fail("status");
                        return Ok{};
                      },
                      [&](std::string_view piece) -> Status<> {
                        ++pieces;
                        got += piece;
                        return Ok{};
                      }};
    auto r = bench.run(*client, "GET", "/", "", &sink);
    REQUIRE(r.ok());
    CHECK(r->body.empty());
    CHECK(got == body);
    CHECK(pieces > 1);
    // The connection is reused for a second, kept, response.
    auto again = bench.run(*client, "GET", "/");
    REQUIRE(again.ok());
    CHECK(again->body == body);
    CHECK(client->connections_opened() == 1);
  }
  SECTION("an error from the sink aborts") {
    ResponseSink sink{nullptr, [](std::string_view) -> Status<> { return fail("enough"); }};
    auto r = bench.run(*client, "GET", "/", "", &sink);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == "enough");
    CHECK_FALSE(client->connected());
  }
}

TEST_CASE("async http client: a connection the server closed while idle is replaced",
          "[transport][http][async]") {
  int n = 0;
  // The first response says keep-alive, but the server closes right after it.
  Bench bench([&n](HttpMessage&&, Responder resp) {
    const int i = n++;
    resp.send(reply(200, std::to_string(i)), /*close_after=*/i == 0);
  });
  auto client = bench.client();
  auto a = bench.run(*client, "GET", "/");
  REQUIRE(a.ok());
  CHECK(a->body == "0");
  while (client->connected()) REQUIRE(uv_run(bench.loop(), UV_RUN_ONCE) != 0);  // sees the EOF
  auto b = bench.run(*client, "GET", "/");
  REQUIRE(b.ok());
  CHECK(b->body == "1");
  CHECK(client->connections_opened() == 2);
}

TEST_CASE("async http client: a server that never answers", "[transport][http][async]") {
  std::vector<Responder> held;
  Bench bench([&held](HttpMessage&&, Responder resp) { held.push_back(std::move(resp)); });
  AsyncHttpClientOptions o;
  o.response_timeout_ms = 200;
  auto client = bench.client(o);
  auto r = bench.run(*client, "GET", "/");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error(),
             Catch::Contains("no response from 127.0.0.1:") && Catch::Contains("timed out"));
  CHECK_FALSE(client->connected());
}

// Sends a chunked head, then one byte every 20 ms, forever: no pause ever reaches the client's
// pause timeout; only the total deadline ends the exchange.
struct Trickle {
  explicit Trickle(uv_loop_t* loop, Responder r) : resp(std::move(r)) {
    uv_timer_init(loop, &timer);
    timer.data = this;
    std::string head;
    append_chunked_head(head, 200, "text/plain", true);
    resp.send_part(std::move(head), [](bool) {});
    uv_timer_start(&timer, &tick, 20, 20);
  }
  static void tick(uv_timer_t* t) noexcept {
    auto* self = static_cast<Trickle*>(t->data);
    std::string part;
    append_chunk(part, "x");
    ++self->sent;
    self->resp.send_part(std::move(part), [](bool) {});
  }
  void stop() { uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr); }
  Responder resp;
  uv_timer_t timer{};
  int sent = 0;
};

TEST_CASE("async http client: a server that trickles its response meets the total deadline",
          "[transport][http][async]") {
  std::unique_ptr<Trickle> trickle;
  uv_loop_t* loop = nullptr;
  Bench bench([&](HttpMessage&&, Responder resp) {
    trickle = std::make_unique<Trickle>(loop, std::move(resp));
  });
  loop = bench.loop();
  AsyncHttpClientOptions o;
  o.response_timeout_ms = 1000;
  o.total_timeout_ms = 300;
  auto client = bench.client(o);
  auto r = bench.run(*client, "GET", "/");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error(), Catch::Contains("no complete response from 127.0.0.1:"));
  CHECK_THAT(r.error(), Catch::Contains("within 300 ms"));
  REQUIRE(trickle);
  CHECK(trickle->sent >= 3);  // bytes kept coming: not a pause
  trickle->stop();
}

TEST_CASE("async http client: a server that closes mid-response", "[transport][http][async]") {
  Bench bench([](HttpMessage&&, Responder resp) {
    std::string out;
    append_response_head(out, 200, "text/plain", 100000, true);
    out += std::string(5000, 'x');
    resp.send(std::move(out), /*close_after=*/true);
  });
  auto client = bench.client();
  auto r = bench.run(*client, "GET", "/");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error(), Catch::Contains("127.0.0.1:"));
  CHECK_FALSE(client->connected());
}

TEST_CASE("async http client: responses over the size limits", "[transport][http][async]") {
  Bench bench(
      [](HttpMessage&&, Responder resp) { resp.send(reply(200, std::string(50000, 'b'))); });
  SECTION("a kept body") {
    AsyncHttpClientOptions o;
    o.limits.max_body_bytes = 10000;
    auto client = bench.client(o);
    auto r = bench.run(*client, "GET", "/");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error(), Catch::Contains("body larger than 10000 bytes"));
  }
  SECTION("a streamed body") {
    AsyncHttpClientOptions o;
    o.max_streamed_bytes = 10000;
    auto client = bench.client(o);
    std::size_t got = 0;
    ResponseSink sink{nullptr, [&got](std::string_view piece) -> Status<> {
                        got += piece.size();
                        return Ok{};
                      }};
    auto r = bench.run(*client, "GET", "/", "", &sink);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error(), Catch::Contains("larger than 10000 bytes"));
    CHECK(got <= 10000);
  }
}

TEST_CASE("async http client: refused and unresolvable", "[transport][http][async]") {
  Bench bench(&echo);
  const std::uint16_t port = bench.port();
  bench.stop_server();
  AsyncHttpClientOptions o;
  o.port = port;
  auto client = bench.client(o);
  auto r = bench.run(*client, "GET", "/");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error(),
             Catch::Contains("cannot connect to 127.0.0.1:") && Catch::Contains("refused"));
  AsyncHttpClientOptions bad;
  bad.host = "no-such-host.invalid";
  auto nowhere = bench.client(bad);
  auto n = bench.run(*nowhere, "GET", "/");
  REQUIRE_FALSE(n.ok());
  CHECK_THAT(n.error(), Catch::Contains("cannot resolve no-such-host.invalid"));
}

TEST_CASE("async http client: one request at a time, and the owner may leave mid-request",
          "[transport][http][async]") {
  std::vector<Responder> held;
  Bench bench([&held](HttpMessage&&, Responder resp) { held.push_back(std::move(resp)); });
  auto client = bench.client();
  bool first_called = false;
  client->request("GET", "/", "", "",
                  [&first_called](const Result<HttpMessage>&) { first_called = true; });
  std::optional<Result<HttpMessage>> second;
  client->request("GET", "/", "", "",
                  [&second](Result<HttpMessage> r) { second.emplace(std::move(r)); });
  REQUIRE(second.has_value());  // refused at once
  CHECK_THAT(second->error(), Catch::Contains("already in progress"));
  while (held.empty()) REQUIRE(uv_run(bench.loop(), UV_RUN_ONCE) != 0);
  client.reset();  // the request in flight is abandoned
  held.front().send(reply(200, "late"));
  uv_run(bench.loop(), UV_RUN_NOWAIT);
  CHECK_FALSE(first_called);
}

}  // namespace
}  // namespace mplane::transport
