// Registration with a supervisor: the RI component's recorded registration gets the RI
// listener's exact reply; withdrawals, other members, escaping and refusals.
#include <catch2/catch.hpp>

#include "engine/supervisor/registration.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

// The body of the first `>>> POST PATH` exchange of a recording and the reply body after it.
std::pair<std::string, std::string> recorded_exchange(const std::string& file,
                                                      const std::string& path) {
  const std::string text = test::read_file(test::data_dir() / "mplane" / "wire" / file);
  const std::size_t request = text.find(">>> POST " + path);
  REQUIRE(request != std::string::npos);
  const std::size_t body = text.find('\n', request) + 1;
  const std::size_t reply = text.find("<<< ", body);
  const std::size_t reply_body = text.find('\n', reply) + 1;
  const std::size_t reply_end = text.find('\n', reply_body);
  return {text.substr(body, reply - body), text.substr(reply_body, reply_end - reply_body)};
}

TEST_CASE("registration: the RI component's envelope gets the RI listener's reply",
          "[engine][supervisor][registration]") {
  const auto [body, reply] =
      recorded_exchange("component-initiated-component-to-supervisor.txt", "/register/capability");
  auto parsed = test::parse(body);
  REQUIRE(parsed.ok());
  auto r = supervisor::read_registration((*parsed)->message);
  REQUIRE(r.ok());
  CHECK(r->reply == reply);
  // The RI's callback capability has verb measure and label callback: callback control all the
  // same (PROTOCOL.md §4.3.4), not a capability for clients.
  REQUIRE(r->capabilities.size() == 1);
  CHECK(*r->capabilities[0]->label == "test-loopback");
  REQUIRE(r->callback != nullptr);
  CHECK(r->callback->verb == "measure");
  CHECK(r->withdrawals.empty());
}

TEST_CASE("registration: withdrawals, other members, callback verbs and escaped labels",
          "[engine][supervisor][registration]") {
  auto parsed = test::parse(R"({"envelope": "message", "version": 1, "contents": [
    {"capability": "measure", "label": "say \"hi\"", "version": 1, "when": "now ... future",
     "registry": "http://mplane.corvid.ch/registry/loopback", "parameters": {"test.input": "*"},
     "results": ["test.output"]},
    {"withdrawal": "measure", "label": "old", "version": 1, "when": "now ... future",
     "registry": "http://mplane.corvid.ch/registry/loopback", "token": "abc"},
    {"capability": "callback", "label": "cb", "version": 1, "when": "now ... future"},
    {"interrupt": "measure", "label": "odd", "token": "def"}]})");
  REQUIRE(parsed.ok());
  auto r = supervisor::read_registration((*parsed)->message);
  REQUIRE(r.ok());
  CHECK(r->reply ==
        R"({"say \"hi\"":{"registered":"ok"},"old":{"registered":"no","reason":"Withdrawn"},)"
        R"("cb":{"registered":"ok"},"odd":{"registered":"no","reason":"Not a capability"}})");
  CHECK(r->capabilities.size() == 1);
  CHECK(r->withdrawals.size() == 1);
  REQUIRE(r->callback != nullptr);
  CHECK(*r->callback->label == "cb");

  auto empty = test::parse(R"({"envelope": "message", "version": 1, "contents": []})");
  REQUIRE(empty.ok());
  CHECK(supervisor::read_registration((*empty)->message)->reply == "{}");
}

TEST_CASE("registration: a bare message or an unlabelled member is refused with a reason",
          "[engine][supervisor][registration]") {
  auto bare = test::parse(test::read_file(test::vector_path("01_capability_doc_example.json")));
  REQUIRE(bare.ok());
  auto r = supervisor::read_registration((*bare)->message);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error(), Catch::Contains("envelope of capabilities, not a capability"));

  auto unlabelled = test::parse(R"({"envelope": "message", "version": 1, "contents": [
    {"capability": "measure", "version": 1, "when": "now ... future",
     "registry": "http://mplane.corvid.ch/registry/loopback", "results": ["test.output"]}]})");
  REQUIRE(unlabelled.ok());
  auto u = supervisor::read_registration((*unlabelled)->message);
  REQUIRE_FALSE(u.ok());
  CHECK_THAT(u.error(), Catch::Contains("needs a label"));
}

}  // namespace
}  // namespace mplane
