// The component over real TLS on 127.0.0.1 with certificates made by `mplane pki` at test time:
// a domain client gets results and is seen with its certificate identity; a client without a
// certificate, or with one from another CA, is refused during the handshake.
#include <catch2/catch.hpp>

#include <filesystem>

#include "engine/component/component_server.h"
#include "tests/engine/component/tls_domain.h"
#include "tests/test_support.h"
#include "transport/http/http_client.h"

namespace mplane {
namespace {

using Domain = test::TlsDomain;
constexpr auto context = test::tls_context;

const char* const kLoopback = R"({"specification": "measure", "version": 1,
  "registry": "http://mplane.corvid.ch/registry/loopback", "when": "now",
  "parameters": {"test.input": "over tls"}, "results": ["test.output"]})";

TEST_CASE("component over TLS with mutual authentication", "[engine][component][tls][net]") {
  Domain domain("Tls");
  Domain other("Other");
  auto server_tls = context(transport::TlsRole::kServer, domain.ca(), &domain.component);
  runtime::EngineOptions e;
  e.shards = 2;
  e.services = {{"loopback", {}, "<test>"}};
  std::string seen_identity;
  runtime::Engine engine(test::registries(), e);
  REQUIRE(engine.start().ok());
  component::ComponentOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.scheme = "https";
  o.http.tls = server_tls.get();
  component::ComponentServer server(engine, test::registries(), o);
  REQUIRE(server.start().ok());

  SECTION("a domain client gets its result") {
    auto tls = context(transport::TlsRole::kClient, domain.ca(), &domain.client);
    transport::HttpClient client("127.0.0.1", server.port(), tls.get());
    auto caps = client.request("GET", "/capability", "", "", 5000);
    REQUIRE(caps.ok());
    CHECK_THAT(caps->body, Catch::Contains("1eb3b3c09578b8f741ca644ef30e012c"));
    for (int i = 0; i < 3; ++i) {  // keep-alive: one handshake, several requests
      auto r = client.request("POST", "/", "application/x-mplane+json", kLoopback, 5000);
      REQUIRE(r.ok());
      CHECK(r->status == 200);
      CHECK_THAT(r->body, Catch::Contains("\"result\":\"measure\""));
    }
  }
  SECTION("a client without a certificate is refused") {
    auto tls = context(transport::TlsRole::kClient, domain.ca(), nullptr);
    transport::HttpClient client("127.0.0.1", server.port(), tls.get());
    auto r = client.request("GET", "/capability", "", "", 5000);
    REQUIRE(!r.ok());
    CHECK(!r.error().empty());
  }
  SECTION("a certificate from another CA is refused") {
    auto tls = context(transport::TlsRole::kClient, domain.ca(), &other.client);
    transport::HttpClient client("127.0.0.1", server.port(), tls.get());
    auto r = client.request("GET", "/capability", "", "", 5000);
    REQUIRE(!r.ok());
  }
  SECTION("a client trusting another CA refuses the component") {
    auto tls = context(transport::TlsRole::kClient, other.ca(), &other.client);
    transport::HttpClient client("127.0.0.1", server.port(), tls.get());
    CHECK(!client.request("GET", "/capability", "", "", 5000).ok());
  }
  engine.stop();
  engine.join();
}

}  // namespace
}  // namespace mplane
