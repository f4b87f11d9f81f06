// The component over real TCP on 127.0.0.1 (plaintext): discovery, immediate results, receipts
// and redemption, interrupts, pipelining, and the 4xx answers to bad requests.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "engine/component/component_server.h"
#include "parsers/json/message_writer.h"
#include "tests/engine/component/component_fixture.h"
#include "tests/test_support.h"
#include "transport/http/http_client.h"
#include "transport/http/http_parser.h"

namespace mplane {
namespace {

// A blocking test client: one TCP connection, raw bytes out, parsed responses in.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~Client() { ::close(fd_); }
  void send(const std::string& bytes) {
    REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  }
  // Reads until n responses arrived (or the peer closed, or the deadline passed).
  std::vector<transport::HttpMessage> read(std::size_t n, int timeout_ms = 5000) {
    std::vector<transport::HttpMessage> out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    char buf[65536];
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const ssize_t got = recv(fd_, buf, sizeof buf, 0);
      if (got <= 0) {
        closed_ = true;
        (void)parser_.finish(out);
        break;
      }
      if (!parser_.feed(std::string_view(buf, static_cast<std::size_t>(got)), out)) break;
    }
    return out;
  }
  bool closed() const { return closed_; }

 private:
  int fd_;
  bool closed_ = false;
  transport::HttpParser parser_{transport::HttpParser::Kind::kResponse};
};

std::string post(const std::string& body, const std::string& type = "application/x-mplane+json") {
  std::string out;
  transport::append_request(out, "POST", "/", "127.0.0.1", type, body);
  return out;
}
std::string get(const std::string& target) {
  std::string out;
  transport::append_request(out, "GET", target, "127.0.0.1", "", "");
  return out;
}

const char* const kLoopback = R"({"specification": "measure", "version": 1,
  "registry": "http://mplane.corvid.ch/registry/loopback", "when": "now",
  "parameters": {"test.input": "over tcp"}, "results": ["test.output"]})";
std::string sleep_spec(const std::string& when) {
  return R"({"specification": "measure", "version": 1, "label": "nap",
    "registry": "http://ict-mplane.eu/registry/core", "when": ")" +
         when + R"(", "results": ["duration.ms"]})";
}

// Short header timeout and small limits, so that the 4xx paths are quick to reach.
struct Component : test::ComponentFixture {
  Component() : test::ComponentFixture(2, limits()) {}
  static transport::HttpServerOptions limits() {
    transport::HttpServerOptions http;
    http.header_timeout_ms = 300;
    http.limits.max_head_bytes = 4096;
    http.limits.max_body_bytes = 64 * 1024;
    return http;
  }
};

std::unique_ptr<json::OwnedMessage> body_of(const transport::HttpMessage& m) {
  auto parsed = test::parse(m.body);
  if (!parsed) FAIL(parsed.error().describe(m.body));
  return std::move(parsed.value());
}

TEST_CASE("component: capability discovery as the RI serves it", "[engine][component][net]") {
  Component c;
  Client client(c.server->port());
  client.send(get("/capability") + get("/capabilities"));
  auto r = client.read(2);
  REQUIRE(r.size() == 2);
  CHECK(*r[0].header("Content-Type") == "text/html");
  CHECK_THAT(r[0].body, Catch::Contains("<a href='/capability/1eb3b3c09578b8f741ca644ef30e012c'>"));
  auto env = body_of(r[1]);
  REQUIRE(env->message.contents.size() == 2);
  CHECK(env->message.contents[0].link.has_value());
  client.send(get("/capability/1eb3b3c09578b8f741ca644ef30e012c") + get("/capability/nope"));
  auto more = client.read(2);
  REQUIRE(more.size() == 2);
  CHECK(body_of(more[0])->message.kind == model::MessageKind::kCapability);
  CHECK(more[1].status == 404);
}

TEST_CASE("component: immediate result, receipt, redemption, interrupt",
          "[engine][component][net]") {
  Component c;
  Client client(c.server->port());
  client.send(post(kLoopback) + post(kLoopback));  // pipelined: two answers in order
  auto r = client.read(2);
  REQUIRE(r.size() == 2);
  for (const auto& m : r) {
    CHECK(m.status == 200);
    CHECK(*m.header("Content-Type") == "application/x-mplane+json");
    CHECK(body_of(m)->message.kind == model::MessageKind::kResult);
  }
  client.send(post(sleep_spec("now + 1s")));
  auto receipt = client.read(1);
  REQUIRE(receipt.size() == 1);
  auto rm = body_of(receipt[0]);
  REQUIRE(rm->message.kind == model::MessageKind::kReceipt);
  const std::string token(*rm->message.token);
  const std::string redeem = R"({"redemption": "measure", "token": ")" + token + R"("})";
  client.send(post(redeem));
  CHECK(body_of(client.read(1).at(0))->message.kind == model::MessageKind::kReceipt);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // a real 1 s measurement
  client.send(post(redeem));
  CHECK(body_of(client.read(1).at(0))->message.kind == model::MessageKind::kResult);

  client.send(post(sleep_spec("now ... future")));
  const std::string forever(*body_of(client.read(1).at(0))->message.token);
  client.send(post(R"({"interrupt": "measure", "token": ")" + forever + R"("})"));
  auto stopped = body_of(client.read(1).at(0));
  CHECK(stopped->message.kind == model::MessageKind::kResult);
  CHECK(stopped->message.row_count == 1);
}

TEST_CASE("component: bad requests get 4xx and an mPlane exception", "[engine][component][net]") {
  Component c;
  {
    Client client(c.server->port());
    client.send(post("{not json"));
    auto r = client.read(1);
    REQUIRE(r.size() == 1);
    CHECK(r[0].status == 400);
    auto e = body_of(r[0]);
    CHECK(e->message.kind == model::MessageKind::kException);
    CHECK(!e->message.exception_token.has_value());
    client.send(post(kLoopback, "application/json"));
    auto wrong = client.read(1);
    REQUIRE(wrong.size() == 1);
    CHECK(wrong[0].status == 415);
  }
  {
    Client client(c.server->port());
    client.send("GET / HTTP/1.1\r\nX-Big: " + std::string(5000, 'x') + "\r\n\r\n");
    auto r = client.read(1);
    REQUIRE(r.size() == 1);
    CHECK(r[0].status == 431);
  }
  {
    Client client(c.server->port());
    client.send(post(std::string(70 * 1024, ' ')));
    auto r = client.read(1);
    REQUIRE(r.size() == 1);
    CHECK(r[0].status == 413);
  }
  {
    Client client(c.server->port());
    client.send("POST / HTTP/1.1\r\nHost: x\r\n");  // stalls mid-head
    auto r = client.read(1, 3000);
    REQUIRE(r.size() == 1);
    CHECK(r[0].status == 408);
    client.read(1, 1000);
    CHECK(client.closed());
  }
}

TEST_CASE("component: capability links over IPv6 put the address in brackets",
          "[engine][component][net]") {
  runtime::Engine engine(test::registries(), test::ComponentFixture::engine_options(1));
  REQUIRE(engine.start().ok());
  component::ComponentOptions o;
  o.host = "::1";
  o.port = 0;
  component::ComponentServer server(engine, test::registries(), o);
  REQUIRE(server.start().ok());
  transport::HttpClient client("::1", server.port());
  auto r = client.request("GET", "/capabilities", "", "", 5000);
  REQUIRE(r.ok());
  const std::string link = "http://[::1]:" + std::to_string(server.port()) + "/";
  auto env = body_of(*r);
  REQUIRE(!env->message.contents.empty());
  CHECK(env->message.contents[0].link == link);
  engine.stop();
  engine.join();
}

TEST_CASE("component: invalid messages are refused as `mplane msg check` refuses them",
          "[engine][component][net]") {
  Component c;
  Client client(c.server->port());
  auto refused = [&](const std::string& body, const std::string& why) {
    client.send(post(body));
    auto r = client.read(1);
    REQUIRE(r.size() == 1);
    CHECK(r[0].status == 400);
    auto e = body_of(r[0]);
    CHECK(e->message.kind == model::MessageKind::kException);
    CHECK(!e->message.exception_token.has_value());
    CHECK_THAT(std::string(e->message.exception_text), Catch::Contains(why));
  };
  // a parameter value '*' (it would run, and '*' would be published as measured)
  refused(R"({"specification": "measure", "version": 1,
    "registry": "http://mplane.corvid.ch/registry/loopback", "when": "now",
    "parameters": {"test.input": "*"}, "results": ["test.output"]})",
          "parameters.test.input: a specification needs a value, not '*'");
  // no `when`
  refused(R"({"specification": "measure", "version": 1,
    "registry": "http://mplane.corvid.ch/registry/loopback",
    "parameters": {"test.input": "x"}, "results": ["test.output"]})",
          "specification has no \"when\"");
  // no registry
  refused(R"({"specification": "measure", "version": 1, "when": "now",
    "parameters": {"test.input": "x"}, "results": ["test.output"]})",
          "\"registry\" is required");
  // a valid one still runs on the same connection
  client.send(post(kLoopback));
  CHECK(body_of(client.read(1).at(0))->message.kind == model::MessageKind::kResult);
}

}  // namespace
}  // namespace mplane
