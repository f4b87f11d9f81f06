// Access control over real TLS, wired as `mplane component` wires it (engine_options of a
// configuration with [TLS], [Roles], [Authorizations]): each identity lists and runs only what
// its roles allow; a job answers only the identity that submitted it; one identity cannot
// take every job slot.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "engine/component/component_server.h"
#include "tests/engine/component/tls_domain.h"
#include "tests/test_support.h"
#include "transport/http/http_client.h"

namespace mplane {
namespace {

constexpr std::string_view kLoopbackToken = "1eb3b3c09578b8f741ca644ef30e012c";
constexpr std::string_view kNoPermission = "User has no permission to request this capability";

const char* const kLoopback = R"({"specification": "measure", "version": 1,
  "registry": "http://mplane.corvid.ch/registry/loopback", "when": "now",
  "parameters": {"test.input": "hi"}, "results": ["test.output"]})";

std::string sleep_spec(const std::string& when) {
  return R"({"specification": "measure", "version": 1, "label": "sleep",
    "registry": "http://ict-mplane.eu/registry/core", "when": ")" +
         when + R"(", "results": ["duration.ms"]})";
}

std::string notification(const std::string& kind, const std::string& token) {
  return R"({")" + kind + R"(": "measure", "version": 1, "token": ")" + token + R"("})";
}

transport::pki::IssuedFiles client_cert(const test::TlsDomain& d, const std::string& name) {
  transport::pki::IssueOptions o;
  o.role = transport::pki::Role::kClient;
  o.name = name;
  return transport::pki::issue(d.dir, o).value();
}

// Client-1: guest (the loopback and sleep); Client-2: no role; Client-3: admin (sleep only).
conf::ComponentConfig rbac_config(const test::TlsDomain& d) {
  conf::ComponentConfig c;
  c.tls = conf::TlsFiles{d.component.cert_path, d.component.key_path, d.ca()};
  c.access_control = true;  // as a [TLS] section in the file sets it
  const std::string id = "org.mplane.Access.Clients.";
  c.roles = {{id + "Client-1", {"guest"}}, {id + "Client-3", {"admin"}}};
  c.authorizations = {{"test-loopback", {"guest"}}, {"sleep", {"guest", "admin"}}};
  c.services = {{"loopback", {}, "<test>"}, {"sleep", {}, "<test>"}};
  c.engine.immediate_wait = 0;  // receipts at once
  c.engine.max_jobs = 6;
  c.engine.max_jobs_per_identity = 3;
  return c;
}

struct Setup {
  test::TlsDomain domain{"Access"};
  transport::pki::IssuedFiles c2 = client_cert(domain, "Client-2");
  transport::pki::IssuedFiles c3 = client_cert(domain, "Client-3");
  std::unique_ptr<transport::TlsContext> server_tls =
      test::tls_context(transport::TlsRole::kServer, domain.ca(), &domain.component);
  runtime::Engine engine{test::registries(), runtime::engine_options(rbac_config(domain))};
  std::unique_ptr<component::ComponentServer> server;

  Setup() {
    REQUIRE(engine.start().ok());
    component::ComponentOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.scheme = "https";
    o.http.tls = server_tls.get();
    server = std::make_unique<component::ComponentServer>(engine, test::registries(), o);
    REQUIRE(server->start().ok());
  }
  ~Setup() {
    engine.stop();
    engine.join();
  }
};

// One identity's connection.
struct As {
  As(Setup& s, const transport::pki::IssuedFiles& files)
      : tls(test::tls_context(transport::TlsRole::kClient, s.domain.ca(), &files)),
        http("127.0.0.1", s.server->port(), tls.get()) {}
  transport::HttpMessage get(const std::string& target) {
    auto r = http.request("GET", target, "", "", 5000);
    REQUIRE(r.ok());
    return std::move(r.value());
  }
  // The reply to a POSTed message, parsed (the test fails on anything but 200).
  std::unique_ptr<json::OwnedMessage> post(const std::string& body) {
    auto r = http.request("POST", "/", "application/x-mplane+json", body, 5000);
    REQUIRE(r.ok());
    REQUIRE(r->status == 200);
    auto m = test::parse(r->body);
    if (!m) FAIL(m.error().describe(r->body));
    return std::move(m.value());
  }
  std::unique_ptr<transport::TlsContext> tls;
  transport::HttpClient http;
};

bool is_exception(const json::OwnedMessage& m, std::string_view text) {
  return m.message.kind == model::MessageKind::kException && m.message.exception_text == text;
}

TEST_CASE("access control: each identity lists only what its roles allow",
          "[engine][component][tls][access][net]") {
  Setup s;
  As allowed(s, s.domain.client);
  As denied(s, s.c2);
  As admin(s, s.c3);

  auto caps = test::parse(allowed.get("/capabilities").body);
  REQUIRE(caps.ok());
  CHECK((*caps)->message.contents.size() == 2);
  CHECK_THAT(allowed.get("/capability").body, Catch::Contains(std::string(kLoopbackToken)));
  CHECK_THAT(allowed.get("/").body, Catch::Contains("test-loopback"));
  CHECK(allowed.get("/capability/" + std::string(kLoopbackToken)).status == 200);

  auto none = test::parse(denied.get("/capabilities").body);
  REQUIRE(none.ok());
  CHECK((*none)->message.contents.empty());
  CHECK_THAT(denied.get("/capability").body, !Catch::Contains(std::string(kLoopbackToken)));
  CHECK_THAT(denied.get("/").body, !Catch::Contains("test-loopback"));
  CHECK(denied.get("/capability/" + std::string(kLoopbackToken)).status == 404);

  auto sleep_only = test::parse(admin.get("/capabilities").body);
  REQUIRE(sleep_only.ok());
  REQUIRE((*sleep_only)->message.contents.size() == 1);
  CHECK((*sleep_only)->message.contents[0].label == "sleep");
}

TEST_CASE("access control: a specification for a capability not allowed gets the RI's exception",
          "[engine][component][tls][access][net]") {
  Setup s;
  As allowed(s, s.domain.client);
  As denied(s, s.c2);
  As admin(s, s.c3);
  CHECK(allowed.post(kLoopback)->message.kind == model::MessageKind::kResult);
  CHECK(is_exception(*denied.post(kLoopback), kNoPermission));
  CHECK(is_exception(*admin.post(kLoopback), kNoPermission));
  CHECK(is_exception(*denied.post(sleep_spec("now + 1s")), kNoPermission));
  CHECK(admin.post(sleep_spec("now + 1s"))->message.kind == model::MessageKind::kReceipt);
}

TEST_CASE("access control: only the submitter may redeem or interrupt a job",
          "[engine][component][tls][access][net]") {
  Setup s;
  As owner(s, s.c3);
  As other(s, s.domain.client);
  auto receipt = owner.post(sleep_spec("now ... future"));
  REQUIRE(receipt->message.kind == model::MessageKind::kReceipt);
  const std::string token(*receipt->message.token);
  CHECK(is_exception(*other.post(notification("redemption", token)), "Unknown job"));
  CHECK(is_exception(*other.post(notification("interrupt", token)), "Unknown job"));
  // nothing changed: the job still runs for its owner
  CHECK(owner.post(notification("redemption", token))->message.kind ==
        model::MessageKind::kReceipt);
  auto stopped = owner.post(notification("interrupt", token));
  CHECK(stopped->message.kind == model::MessageKind::kResult);
  CHECK(stopped->message.row_count == 1);
}

TEST_CASE("access control: one identity cannot take every job slot",
          "[engine][component][tls][access][net]") {
  Setup s;  // max-jobs 6, max-jobs-per-identity 3
  As greedy(s, s.c3);
  As polite(s, s.domain.client);
  for (int i = 0; i < 3; ++i) {
    auto r = greedy.post(sleep_spec("now + " + std::to_string(30 + i) + "s"));
    CHECK(r->message.kind == model::MessageKind::kReceipt);
  }
  auto refused = greedy.post(sleep_spec("now + 40s"));
  REQUIRE(refused->message.kind == model::MessageKind::kException);
  CHECK_THAT(std::string(refused->message.exception_text),
             Catch::Contains("max-jobs-per-identity"));
  // the other identity still gets slots, up to the global bound (6 in all)
  for (int i = 0; i < 3; ++i) {
    auto r = polite.post(sleep_spec("now + " + std::to_string(50 + i) + "s"));
    CHECK(r->message.kind == model::MessageKind::kReceipt);
  }
  auto full = polite.post(sleep_spec("now + 60s"));
  REQUIRE(full->message.kind == model::MessageKind::kException);
  CHECK_THAT(std::string(full->message.exception_text), Catch::Contains("(max-jobs)"));
}

}  // namespace
}  // namespace mplane
