// The mPlane client library against an in-process component (engine + ComponentServer on
// 127.0.0.1, plaintext), through a recording exchange that wraps the blocking one: discovery,
// specifications, receipts, redemptions, interrupts; and its I/O-free pieces on their own.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "conf/builtin.h"
#include "engine/client/capability_store.h"
#include "engine/client/mplane_client.h"
#include "engine/client/specification.h"
#include "tests/engine/component/component_fixture.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

using client::Client;
using model::MessageKind;

model::RegistrySet registries() { return conf::load_registries({}).value(); }

client::BlockingExchangeOptions insecure() {
  client::BlockingExchangeOptions o;
  o.insecure = true;
  return o;
}

// Passes every request to the blocking exchange and records "METHOD TARGET".
class RecordingExchange final : public client::HttpExchange {
 public:
  RecordingExchange() : inner_(insecure()) {}
  Result<transport::HttpMessage> send(const transport::HttpUrl& server,
                                      const client::HttpRequest& r) override {
    requests.push_back(std::string(r.method) + " " + std::string(r.target));
    return inner_.send(server, r);
  }
  Result<transport::HttpMessage> send(const transport::HttpUrl& server,
                                      const client::HttpRequest& r,
                                      transport::ResponseSink& sink) override {
    requests.push_back(std::string(r.method) + " " + std::string(r.target) + " (streamed)");
    return inner_.send(server, r, sink);
  }
  std::vector<std::string> requests;

 private:
  client::BlockingHttpExchange inner_;
};

struct Fixture {
  test::ComponentFixture component;
  RecordingExchange exchange;
  Client client{registries(), exchange, 10'000};
};

TEST_CASE("mplane client: capabilities from the component's envelope", "[engine][client][net]") {
  Fixture f;
  auto n = f.client.get_capabilities(f.component.url());
  REQUIRE(n.ok());
  CHECK(*n == f.client.capabilities().size());
  CHECK(f.exchange.requests == std::vector<std::string>{"GET /capabilities"});
  REQUIRE(f.client.default_url());
  auto by_label = f.client.find_capability("test-loopback");
  REQUIRE(by_label.ok());
  auto by_token = f.client.find_capability(client::token_of(**by_label));
  REQUIRE(by_token.ok());
  CHECK(*by_token == *by_label);
  auto unknown = f.client.find_capability("nope");
  REQUIRE_FALSE(unknown.ok());
  CHECK_THAT(unknown.error(), Catch::StartsWith("no capability 'nope' (known: "));
}

TEST_CASE("mplane client: a URL with a path is discovered there", "[engine][client][net]") {
  Fixture f;
  REQUIRE(f.client.get_capabilities(f.component.url("/capability")).ok());
  CHECK(f.exchange.requests.at(0) == "GET /capability");
  CHECK(f.client.find_capability("sleep").ok());
}

TEST_CASE("mplane client: run, receipt, wait, result", "[engine][client][net]") {
  Fixture f;
  REQUIRE(f.client.get_capabilities(f.component.url()).ok());
  SECTION("a result at once (after one redemption)") {
    auto cap = f.client.find_capability("test-loopback");
    REQUIRE(cap.ok());
    auto m = f.client.run(**cap, "", {{"test.input", "hi"}}, "");
    REQUIRE(m.ok());
    CHECK((*m)->label == "test-loopback-0");
    REQUIRE(f.client.wait_for_result(**m).ok());
    const model::Message& reply = (*m)->reply->message;
    REQUIRE(reply.kind == MessageKind::kResult);
    CHECK(reply.columns.at(0).values.at(0).as_string() == "hi");
    CHECK(f.client.find_measurement((*m)->token).value() == *m);
  }
  SECTION("a receipt, redeemed by token from another measurement") {
    auto cap = f.client.find_capability("sleep");
    REQUIRE(cap.ok());
    auto m = f.client.run(**cap, "now + 1s", {}, "nap");
    REQUIRE(m.ok());
    REQUIRE((*m)->reply->message.kind == MessageKind::kReceipt);
    client::Measurement& adopted = f.client.adopt((*m)->token, (*m)->url);
    client::WaitOptions o;
    o.until_scope_end = false;
    REQUIRE(f.client.wait_for_result(adopted, o).ok());
    CHECK(adopted.reply->message.kind == MessageKind::kResult);
    CHECK(f.exchange.requests.back().starts_with("POST "));
  }
  SECTION("an interrupt asked for while waiting") {
    auto cap = f.client.find_capability("sleep");
    REQUIRE(cap.ok());
    auto m = f.client.run(**cap, "now + 1h", {}, "");
    REQUIRE(m.ok());
    int interrupting = 0;
    client::WaitOptions o;
    o.interrupt_requested = [] { return true; };
    o.on_interrupting = [&](const client::Measurement&) { ++interrupting; };
    REQUIRE(f.client.wait_for_result(**m, o).ok());
    CHECK(interrupting == 1);
    CHECK((*m)->reply->message.kind == MessageKind::kResult);
  }
}

// Records what a streamed reply hands over.
struct RowRecorder final : json::ResultStreamHandler {
  Status<> on_columns(std::span<const model::Element* const> elements) override {
    for (const auto* e : elements) columns.push_back(e->name);
    return Ok{};
  }
  Status<> on_row(std::size_t number, std::span<const model::Value> values) override {
    rows.push_back(std::to_string(number) + ":" + model::format_value(values[0]));
    return Ok{};
  }
  Status<> on_message(const model::Message& m) override {
    kinds.emplace_back(model::kind_key(m.kind));
    return Ok{};
  }
  std::vector<std::string> columns, rows, kinds;
};

TEST_CASE("mplane client: a result streams to a handler", "[engine][client][net]") {
  Fixture f;
  REQUIRE(f.client.get_capabilities(f.component.url()).ok());
  auto cap = f.client.find_capability("test-loopback");
  REQUIRE(cap.ok());
  RowRecorder rec;
  auto m = f.client.run(**cap, "", {{"test.input", "streamed"}}, "", &rec);
  REQUIRE(m.ok());
  client::WaitOptions o;
  o.rows = &rec;
  REQUIRE(f.client.wait_for_result(**m, o).ok());
  CHECK(rec.columns == std::vector<std::string>{"test.output"});
  CHECK(rec.rows == std::vector<std::string>{"1:streamed"});
  CHECK(rec.kinds.back() == "result");
  const model::Message& kept = (*m)->reply->message;
  CHECK(kept.kind == MessageKind::kResult);
  CHECK(kept.row_count == 0);  // the rows went to the handler only
  CHECK(f.exchange.requests.back().ends_with("(streamed)"));
}

TEST_CASE("mplane client: errors", "[engine][client][net]") {
  Fixture f;
  REQUIRE(f.client.get_capabilities(f.component.url()).ok());
  auto cap = f.client.find_capability("test-loopback");
  REQUIRE(cap.ok());
  auto missing = f.client.run(**cap, "", {}, "");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error(), Catch::Contains("missing parameter test.input"));
  auto scope = f.client.run(**cap, "yesterday", {{"test.input", "x"}}, "");
  REQUIRE_FALSE(scope.ok());
  CHECK_THAT(scope.error(), Catch::StartsWith("--when: "));
  client::Measurement& gone = f.client.adopt("0123456789abcdef", *f.client.default_url());
  auto st = f.client.redeem(gone);
  if (st.ok()) CHECK(gone.reply->message.kind == MessageKind::kException);

  client::BlockingHttpExchange refused_exchange(insecure());
  Client refused(registries(), refused_exchange, 1'000);
  auto n = refused.get_capabilities("http://127.0.0.1:1/");
  REQUIRE_FALSE(n.ok());
  CHECK_THAT(n.error(), Catch::Contains("cannot connect to 127.0.0.1:1"));
}

TEST_CASE("mplane client: plain http warns once unless insecure", "[engine][client][net]") {
  test::ComponentFixture component;
  std::vector<std::string> warnings;
  client::BlockingExchangeOptions o;
  o.warn = [&](std::string_view w) { warnings.emplace_back(w); };
  client::BlockingHttpExchange exchange(o);
  Client c(registries(), exchange, 10'000);
  REQUIRE(c.get_capabilities(component.url()).ok());
  REQUIRE(c.get_capabilities(component.url("/capability")).ok());
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::StartsWith("warning: plain http to 127.0.0.1:"));
  client::BlockingHttpExchange https_exchange(client::BlockingExchangeOptions{});
  Client https(registries(), https_exchange, 1'000);
  auto n = https.get_capabilities("https://127.0.0.1:1/");
  REQUIRE_FALSE(n.ok());
  CHECK_THAT(n.error(), Catch::Contains("needs --ca, --cert and --key"));
}

TEST_CASE("mplane client: the polling schedule", "[engine][client]") {
  const std::int64_t now = test::kT0;
  auto when = model::When::parse("now + 10s");
  REQUIRE(when.ok());
  model::Message receipt = client::token_only_receipt("abc");
  CHECK(client::poll_delay(receipt, true, now, now + 60'000'000) == 500'000);
  receipt.when = *when;
  CHECK(client::poll_delay(receipt, true, now, now + 60'000'000) == 10'100'000);
  CHECK(client::poll_delay(receipt, false, now, now + 60'000'000) == 500'000);
  CHECK(client::poll_delay(receipt, true, now, now + 1'000) == 1'000);
}

TEST_CASE("mplane client: redemption and interrupt bodies", "[engine][client]") {
  const model::Message receipt = client::token_only_receipt("abc");
  auto redemption = client::redemption_body(receipt, "abc", false);
  REQUIRE(redemption.ok());
  CHECK_THAT(*redemption, Catch::Contains("\"redemption\"") && Catch::Contains("\"abc\""));
  auto interrupt = client::redemption_body(receipt, "abc", true);
  REQUIRE(interrupt.ok());
  CHECK_THAT(*interrupt, Catch::Contains("\"interrupt\""));
  model::Message cap;
  auto refused = client::redemption_body(cap, "abc", false);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error() == "cannot redeem a capability");
}

}  // namespace
}  // namespace mplane
