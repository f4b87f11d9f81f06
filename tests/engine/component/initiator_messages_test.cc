// What the component-initiated component says to a supervisor and reads from it, apart from I/O.
#include <catch2/catch.hpp>

#include "engine/component/initiator_messages.h"
#include "parsers/mplane/time_value.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

using namespace std::chrono_literals;
using component::BackoffOptions;

constexpr const char* kLoopbackToken = "1eb3b3c09578b8f741ca644ef30e012c";  // the RI's too

std::unique_ptr<json::OwnedMessage> parsed(const std::string& text) {
  auto m = test::parse(text);
  if (!m) FAIL(m.error().describe(text));
  return std::move(m.value());
}

TEST_CASE("registration envelope: capabilities with an empty link, the callback last",
          "[engine][component][initiator]") {
  auto cap = parsed(test::read_file(test::source_dir() / "conf/capabilities/loopback.json"));
  const model::Message* caps[] = {&cap->message};
  const std::string body = component::registration_envelope(caps);
  auto env = parsed(body);
  const model::Message& e = env->message;
  REQUIRE(e.kind == model::MessageKind::kEnvelope);
  REQUIRE(e.contents.size() == 2);
  const model::Message& loopback = e.contents[0];
  CHECK(loopback.label == "test-loopback");
  CHECK(loopback.link == "");
  CHECK(loopback.token == kLoopbackToken);
  const model::Message& callback = e.contents[1];
  CHECK(callback.kind == model::MessageKind::kCapability);
  CHECK(callback.verb == "callback");
  CHECK(callback.label == "callback");
  CHECK(callback.registry == "http://mplane.corvid.ch/registry/loopback");
  CHECK(callback.when->canonical() == "now ... future");
  CHECK(callback.token.has_value());
  CHECK(callback.parameters.empty());
  CHECK(callback.columns.empty());
}

TEST_CASE("registration reply: accepted labels and refusals with their reason",
          "[engine][component][initiator]") {
  auto r = component::read_registration_reply(
      R"({"test-loopback":{"registered":"ok"},"ping":{"registered":"no", "reason":"Withdrawn"},)"
      R"("x":{"registered":"no"},"callback":{"registered":"ok"}})");
  REQUIRE(r.ok());
  CHECK(r->registered == std::vector<std::string>{"test-loopback", "callback"});
  REQUIRE(r->refused.size() == 2);
  CHECK(r->refused[0] == std::pair<std::string, std::string>{"ping", "Withdrawn"});
  CHECK(r->refused[1].second == "no reason given");
  CHECK(component::read_registration_reply("{}").ok());

  auto bad = GENERATE(as<std::string>{}, "", "[]", "not json", R"({"a":1})", R"({"a":{}})");
  CAPTURE(bad);
  CHECK(!component::read_registration_reply(bad).ok());
}

TEST_CASE("poll reply members: nested envelopes flattened, the callback found anywhere",
          "[engine][component][initiator]") {
  auto reply = parsed(R"({"envelope":"message","version":1,"contents":[
    {"specification":"measure","version":1,"label":"callback",
     "registry":"http://ict-mplane.eu/registry/core","when":"now + 30s"},
    {"envelope":"message","version":1,"contents":[
      {"interrupt":"measure","version":1,"token":"t1"}]}]})");
  std::vector<const model::Message*> members;
  component::poll_members(reply->message, members);
  REQUIRE(members.size() == 2);
  CHECK(component::is_callback(*members[0]));
  CHECK(!component::is_callback(*members[1]));
  CHECK(members[1]->kind == model::MessageKind::kInterrupt);

  const model::MicrosSinceEpoch now = model::make_time(2026, 12, 2, 12, 0, 0, 0);
  CHECK(component::callback_delay(*members[0], now) == 30000ms);
  auto zero = parsed(R"({"specification":"callback","version":1,"when":"now + 0s",
    "registry":"http://ict-mplane.eu/registry/core"})");
  CHECK(component::is_callback(zero->message));  // by its verb
  CHECK(component::callback_delay(zero->message, now) == 0ms);
  auto past = parsed(R"({"specification":"measure","version":1,"label":"callback",
    "registry":"http://ict-mplane.eu/registry/core","when":"2020-01-01 ... 2020-01-02"})");
  CHECK(!component::callback_delay(past->message, now).has_value());  // expired: keep ours
  auto open = parsed(R"({"specification":"measure","version":1,"label":"callback",
    "registry":"http://ict-mplane.eu/registry/core","when":"now ... future"})");
  CHECK(!component::callback_delay(open->message, now).has_value());
}

TEST_CASE("result target: the link's rules of PROTOCOL.md 4.3.4",
          "[engine][component][initiator]") {
  auto supervisor = transport::parse_http_url("https://127.0.0.1:8888").value();
  auto target = [&](const std::string& link) {
    std::string spec = R"({"specification":"measure","version":1,"label":"l",
      "registry":"http://mplane.corvid.ch/registry/loopback","when":"now",
      "results":["test.output"])";
    if (link != "none") spec += R"(,"link":")" + link + "\"";
    auto m = parsed(spec + "}");
    return component::result_target(m->message, supervisor);
  };
  CHECK(target("none").value().empty());
  CHECK(target("").value().empty());
  CHECK(target("https://127.0.0.1:8888/").value().empty());  // same host: the result path
  CHECK(target("https://127.0.0.1:8888/elsewhere").value().empty());
  CHECK(target("https://127.0.0.1:9999/r").value() == "https://127.0.0.1:9999/r");
  CHECK(target("mplane-https://10.1.1.1:4343/result").value() == "https://10.1.1.1:4343/result");
  CHECK(!target("ftp://x/y").ok());
}

TEST_CASE("backoff: doubling from initial to max, jitter within its bounds",
          "[engine][component][initiator]") {
  const BackoffOptions o{1000ms, 60000ms, 0.25};
  CHECK(component::backoff_delay(1, o, 0.5) == 1000ms);
  CHECK(component::backoff_delay(2, o, 0.5) == 2000ms);
  CHECK(component::backoff_delay(6, o, 0.5) == 32000ms);
  CHECK(component::backoff_delay(7, o, 0.5) == 60000ms);
  CHECK(component::backoff_delay(1000, o, 0.5) == 60000ms);
  CHECK(component::backoff_delay(1, o, 0.0) == 750ms);
  CHECK(component::backoff_delay(1, o, 0.999999) == 1249ms);
  CHECK(component::backoff_delay(0, o, 0.5) == 1000ms);
}

}  // namespace
}  // namespace mplane
