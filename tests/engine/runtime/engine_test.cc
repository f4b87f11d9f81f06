// The engine on real shards: jobs placed by token, replies on the job's shard, immediate-wait,
// redemptions routed to the right shard, and shutdown that interrupts and flushes jobs.
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "engine/runtime/engine.h"
#include "parsers/json/message_writer.h"
#include "parsers/mplane/token.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

// Replies collected from shard threads: the JSON text, and whether it ran on the right shard.
struct Replies {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::string> json;
  std::size_t wrong_shard = 0;

  runtime::Engine::ReplyFn collect(runtime::Engine& engine, const std::string& token) {
    return [this, &engine, token](const sched::Reply& r) {
      const bool right =
          loop::Shard::current() && loop::Shard::current()->index() == engine.shard_for(token);
      std::string text = json::to_json(*r, {.pretty = false});  // on the shard: r borrows the job
      std::lock_guard<std::mutex> lock(mutex);
      json.push_back(std::move(text));
      wrong_shard += right ? 0 : 1;
      cv.notify_all();
    };
  }
  bool wait_for(std::size_t n, std::chrono::seconds deadline = std::chrono::seconds(20)) {
    std::unique_lock<std::mutex> lock(mutex);
    return cv.wait_for(lock, deadline, [&] { return json.size() >= n; });
  }
};

std::unique_ptr<json::OwnedMessage> message(const std::string& text) {
  auto m = test::parse(text);
  if (!m) FAIL(m.error().describe(text));
  return std::move(m.value());
}

std::string loopback(int i) {
  return R"({"specification": "measure", "version": 1, "registry": "http://mplane.corvid.ch/registry/loopback",
    "when": "now", "parameters": {"test.input": "in-)" +
         std::to_string(i) + R"("}, "results": ["test.output"]})";
}
std::string sleep_spec(const std::string& when) {
  return R"({"specification": "measure", "version": 1, "registry": "http://ict-mplane.eu/registry/core",
    "label": "nap", "when": ")" +
         when + R"(", "results": ["duration.ms"]})";
}

runtime::EngineOptions options(model::Micros wait) {
  runtime::EngineOptions o;
  o.shards = 2;
  o.immediate_wait = wait;
  o.services = {{"loopback", {}, "<test>"}, {"sleep", {}, "<test>"}};
  return o;
}

bool submit(runtime::Engine& e, Replies& r, const std::string& text) {
  auto m = message(text);
  const std::string token = model::effective_token(m->message).value_or("");
  return e.submit(std::move(m), "test", r.collect(e, token));
}

TEST_CASE("engine: jobs run on the shard of their token", "[engine][runtime]") {
  runtime::Engine engine(test::registries(), options(0));
  REQUIRE(engine.start().ok());
  CHECK(engine.shard_count() == 2);
  CHECK(engine.capabilities().size() == 2);
  Replies replies;
  for (int i = 0; i < 50; ++i) REQUIRE(submit(engine, replies, loopback(i)));
  REQUIRE(replies.wait_for(50));
  CHECK(replies.wrong_shard == 0);
  for (const std::string& j : replies.json)
    CHECK_THAT(j, Catch::StartsWith(R"({"label")") ||
                      Catch::StartsWith(R"({"parameters":{"test.input":"in-)"));
  engine.stop();
  engine.join();
}

TEST_CASE("engine: immediate-wait gives the result, or the receipt, then redemption",
          "[engine][runtime]") {
  {
    runtime::Engine engine(test::registries(), options(3 * model::kMicrosPerSecond));
    REQUIRE(engine.start().ok());
    Replies replies;
    REQUIRE(submit(engine, replies, sleep_spec("now + 1s")));
    REQUIRE(replies.wait_for(1));
    CHECK_THAT(replies.json[0], Catch::Contains(R"("result":"measure")"));
  }
  runtime::Engine engine(test::registries(), options(0));
  REQUIRE(engine.start().ok());
  Replies replies;
  REQUIRE(submit(engine, replies, sleep_spec("now + 1s")));
  REQUIRE(replies.wait_for(1));
  CHECK_THAT(replies.json[0], Catch::Contains(R"("receipt":"measure")"));
  auto receipt = message(replies.json[0]);
  const std::string token(*receipt->message.token);
  const std::string redemption = R"({"redemption": "measure", "token": ")" + token + R"("})";
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // a real 1 s job: wall time
  REQUIRE(submit(engine, replies, redemption));
  REQUIRE(replies.wait_for(2));
  CHECK_THAT(replies.json[1], Catch::Contains(R"("result":"measure")"));
  CHECK(replies.wrong_shard == 0);
}

TEST_CASE("engine: shutdown interrupts jobs and flushes their results", "[engine][runtime]") {
  runtime::Engine engine(test::registries(), options(60 * model::kMicrosPerSecond));
  REQUIRE(engine.start().ok());
  Replies replies;
  REQUIRE(submit(engine, replies, sleep_spec("now ... future")));  // waits for its result
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(replies.json.empty());
  engine.stop();
  REQUIRE(replies.wait_for(1));
  CHECK_THAT(replies.json[0], Catch::Contains(R"("result":"measure")"));
  engine.join();
  CHECK(!submit(engine, replies, loopback(1)));  // a stopped engine refuses work
}

}  // namespace
}  // namespace mplane
