// The reply to a poll: the queued members in order, the callback specification last, and an
// envelope the whole-message reader accepts.
#include <catch2/catch.hpp>

#include "engine/supervisor/poll_reply.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

TEST_CASE("poll reply: queued members in order, then the callback", "[engine][supervisor][poll]") {
  const std::vector<std::string> queued = {
      test::read_file(test::vector_path("08_specification_ping_absolute.json")),
      test::read_file(test::vector_path("22_interrupt_token_only.json"))};
  const std::string text = supervisor::poll_reply(queued, std::chrono::seconds(30));
  auto parsed = test::parse(text);
  if (!parsed) FAIL(parsed.error().describe(text));
  const model::Message& m = (*parsed)->message;
  REQUIRE(m.kind == model::MessageKind::kEnvelope);
  REQUIRE(m.contents.size() == 3);
  CHECK(m.contents[0].kind == model::MessageKind::kSpecification);
  CHECK(m.contents[1].kind == model::MessageKind::kInterrupt);
  const model::Message& cb = m.contents[2];
  CHECK(cb.kind == model::MessageKind::kSpecification);
  CHECK(*cb.label == "callback");
  REQUIRE(cb.when.has_value());
  CHECK(model::summarize(cb).find("now + 30s") != std::string::npos);
}

TEST_CASE("poll reply: nothing queued, with and without callback control",
          "[engine][supervisor][poll]") {
  CHECK(supervisor::poll_reply({}, std::nullopt) ==
        R"({"contents":[],"envelope":"message","version":1})");
  auto parsed = test::parse(supervisor::poll_reply({}, std::chrono::seconds(0)));
  REQUIRE(parsed.ok());
  REQUIRE((*parsed)->message.contents.size() == 1);
  CHECK(supervisor::callback_specification(std::chrono::seconds(0)).find("now + 0s") !=
        std::string::npos);  // at once (long pollers)
  CHECK(supervisor::callback_specification(std::chrono::seconds(-3)).find("now + 0s") !=
        std::string::npos);
}

}  // namespace
}  // namespace mplane
