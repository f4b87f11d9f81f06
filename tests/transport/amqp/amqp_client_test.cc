// AmqpClient against a real broker (tests/amqp_broker.h): round trips through amq.topic, the
// heartbeat, the output queue's bound, refused logins, and reconnection after kill -9.
#include "transport/amqp/amqp_client.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/amqp_broker.h"
#include "tests/net_support.h"

namespace mplane::transport::amqp {

namespace {

using test::AmqpBroker;

struct Received {
  std::string routing_key;
  std::string content_type;
  std::vector<std::uint8_t> body;
};

std::vector<std::uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

// Every byte value, repeated up to `size` bytes.
std::vector<std::uint8_t> binary_body(std::size_t size) {
  std::vector<std::uint8_t> b(size);
  for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return b;
}

// A loop with clients on it; the destructor closes them and requires the loop to close cleanly.
class Bench {
 public:
  Bench() { uv_loop_init(&loop_); }
  ~Bench() {
    clients_.clear();  // each destructor closes
    uv_run(&loop_, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop_) == 0);
  }

  // A client on the loop; deliveries go to received(), states to states().
  AmqpClient& client(const std::string& url, AmqpOptions options = {}) {
    Result<AmqpUrl> parsed = parse_amqp_url(url);
    REQUIRE(parsed.ok());
    AmqpCallbacks callbacks;
    callbacks.on_delivery = [this](const AmqpDelivery& d) {
      received_.push_back(Received{std::string(d.routing_key), std::string(d.content_type),
                                   std::vector<std::uint8_t>(d.body.begin(), d.body.end())});
    };
    callbacks.on_state = [this](AmqpState s, std::string_view) { states_.push_back(s); };
    clients_.push_back(
        std::make_unique<AmqpClient>(&loop_, *parsed, std::move(options), std::move(callbacks)));
    return *clients_.back();
  }

  // Runs the loop until `done()` or `timeout_ms` have passed; whether `done()`.
  bool run_until(const std::function<bool()>& done, int timeout_ms = 10'000) {
    uv_timer_t tick;  // wakes the loop so that the deadline is checked
    uv_timer_init(&loop_, &tick);
    uv_timer_start(
        &tick, [](uv_timer_t*) noexcept {}, 10, 10);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!done() && std::chrono::steady_clock::now() < deadline) uv_run(&loop_, UV_RUN_ONCE);
    uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
    return done();
  }

  std::vector<Received>& received() { return received_; }
  std::vector<AmqpState>& states() { return states_; }

 private:
  uv_loop_t loop_;
  std::vector<Received> received_;
  std::vector<AmqpState> states_;
  std::vector<std::unique_ptr<AmqpClient>> clients_;
};

AmqpOptions consuming(std::vector<std::string> keys) {
  AmqpOptions o;
  o.bindings = std::move(keys);
  return o;
}

constexpr std::string_view kUplink = "fromAgent.agent_1.ip.tun.packet.raw";

// Publishes one message and runs the loop until the consumer has it.
bool round_trip(Bench& bench, AmqpClient& publisher, std::string_view body) {
  const std::size_t before = bench.received().size();
  if (publisher.publish(kUplink, "application/json", bytes_of(body)) == PublishOutcome::kDropped) {
    return false;
  }
  return bench.run_until([&] { return bench.received().size() > before; }) &&
         bench.received().back().body == bytes_of(body);
}

}  // namespace

TEST_CASE("AmqpClient reports an unreachable broker clearly", "[amqp]") {
  const std::uint16_t port = test::free_loopback_port();
  Bench bench;
  AmqpClient& client =
      bench.client("amqp://u:secret@127.0.0.1:" + std::to_string(port) + "/v", AmqpOptions{});
  Status<> s = client.connect();
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().find("cannot connect to 127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(s.error().find("secret") == std::string::npos);
  CHECK(client.state() == AmqpState::kIdle);
  CHECK(client.publish(kUplink, "", bytes_of("x")) == PublishOutcome::kDropped);
  CHECK(client.counters().dropped_disconnected == 1);
}

TEST_CASE("AmqpClient against a private broker", "[amqp][broker]") {
  MPLANE_REQUIRE_BROKER();
  AmqpBroker& broker = test::shared_amqp_broker();
  Bench bench;

  SECTION("round trip through amq.topic: routing key, content type and bodies intact") {
    AmqpClient& consumer = bench.client(broker.url(), consuming({"fromAgent.*.ip.tun.packet.raw"}));
    AmqpClient& publisher = bench.client(broker.url());
    REQUIRE(consumer.connect().ok());
    REQUIRE(publisher.connect().ok());
    const std::vector<std::uint8_t> mtu = binary_body(1400);
    const std::vector<std::uint8_t> nuls(64, 0);
    const std::vector<std::uint8_t> large = binary_body(300'000);  // several frames each way
    REQUIRE(publisher.publish(kUplink, "application/json", bytes_of("{\"data\": [69]}")) !=
            PublishOutcome::kDropped);
    REQUIRE(publisher.publish(kUplink, "application/octet-stream", mtu) !=
            PublishOutcome::kDropped);
    REQUIRE(publisher.publish("fromAgent.agent_2.ip.tun.packet.raw", "", nuls) !=
            PublishOutcome::kDropped);
    REQUIRE(publisher.publish(kUplink, "application/octet-stream", {}) != PublishOutcome::kDropped);
    REQUIRE(publisher.publish(kUplink, "x", large) != PublishOutcome::kDropped);
    // Not bound: never delivered.
    REQUIRE(publisher.publish("toAgent.agent_1.ip.tun.packet.raw", "", mtu) !=
            PublishOutcome::kDropped);
    REQUIRE(bench.run_until([&] { return bench.received().size() >= 5; }));
    const std::vector<Received>& r = bench.received();
    CHECK(r[0].routing_key == kUplink);
    CHECK(r[0].content_type == "application/json");
    CHECK(r[0].body == bytes_of("{\"data\": [69]}"));
    CHECK(r[1].content_type == "application/octet-stream");
    CHECK(r[1].body == mtu);
    CHECK(r[2].routing_key == "fromAgent.agent_2.ip.tun.packet.raw");
    CHECK(r[2].content_type.empty());
    CHECK(r[2].body == nuls);
    CHECK(r[3].body.empty());
    CHECK(r[4].body == large);
    CHECK(publisher.counters().published == 6);
    CHECK(consumer.counters().delivered == 5);
    // The sixth, unbound, is not delivered: a round trip after it arrives alone.
    REQUIRE(round_trip(bench, publisher, "after"));
    CHECK(bench.received().size() == 6);
  }

  SECTION("the heartbeat is negotiated and keeps an idle connection alive") {
    AmqpOptions o = consuming({std::string(kUplink)});
    o.heartbeat_s = 1;
    AmqpClient& consumer = bench.client(broker.url(), o);
    AmqpOptions p;
    p.heartbeat_s = 1;
    AmqpClient& publisher = bench.client(broker.url(), p);
    REQUIRE(consumer.connect().ok());
    REQUIRE(publisher.connect().ok());
    CHECK(consumer.heartbeat_s() == 1);
    // Idle for several heartbeats: the broker closes a connection that misses two.
    REQUIRE(bench.run_until([&] { return publisher.counters().heartbeats_sent >= 4; }));
    CHECK(consumer.counters().heartbeats_sent >= 3);
    CHECK(publisher.state() == AmqpState::kConnected);
    CHECK(consumer.state() == AmqpState::kConnected);
    CHECK(consumer.counters().reconnects == 0);
    CHECK(round_trip(bench, publisher, "still here"));
  }

  SECTION("a full output queue drops and counts; publish never blocks; the rest arrives") {
    AmqpClient& consumer = bench.client(broker.url(), consuming({std::string(kUplink)}));
    AmqpOptions o;
    o.max_queued_messages = 8;
    o.max_queued_bytes = 64 * 1024;
    AmqpClient& publisher = bench.client(broker.url(), o);
    REQUIRE(consumer.connect().ok());
    REQUIRE(publisher.connect().ok());
    const std::vector<std::uint8_t> body = binary_body(1400);
    constexpr int kCount = 20'000;  // 28 MB without running the loop: far beyond any buffer
    int sent = 0, queued = 0, dropped = 0;
    for (int i = 0; i < kCount; ++i) {
      switch (publisher.publish(kUplink, "application/octet-stream", body)) {
        case PublishOutcome::kSent:
          ++sent;
          break;
        case PublishOutcome::kQueued:
          ++queued;
          break;
        case PublishOutcome::kDropped:
          ++dropped;
          break;
      }
    }
    const AmqpCounters& c = publisher.counters();
    CHECK(queued <= 8);
    CHECK(dropped > 0);
    CHECK(c.dropped_queue_full == static_cast<std::uint64_t>(dropped));
    CHECK(c.queued_messages == static_cast<std::size_t>(queued));
    CHECK(c.queued_bytes <= 64 * 1024);
    // The queue drains and everything not dropped arrives.
    const std::size_t expected = static_cast<std::size_t>(sent + queued);
    REQUIRE(bench.run_until([&] { return bench.received().size() >= expected; }, 30'000));
    CHECK(c.queued_messages == 0);
    CHECK(c.published == expected);
    CHECK(bench.received().size() == expected);
    CHECK(bench.received().back().body == body);
  }

  SECTION("a delivery above max_delivery_bytes is acked, counted and not handed over") {
    AmqpOptions o = consuming({std::string(kUplink)});
    o.max_delivery_bytes = 1000;
    AmqpClient& consumer = bench.client(broker.url(), o);
    AmqpClient& publisher = bench.client(broker.url());
    REQUIRE(consumer.connect().ok());
    REQUIRE(publisher.connect().ok());
    REQUIRE(publisher.publish(kUplink, "", binary_body(1400)) != PublishOutcome::kDropped);
    REQUIRE(round_trip(bench, publisher, "small"));
    CHECK(bench.received().size() == 1);
    CHECK(consumer.counters().dropped_too_large == 1);
    CHECK(consumer.counters().delivered == 1);
  }

  SECTION("a wrong password, vhost or exchange is a clear error") {
    AmqpClient& wrong_password = bench.client(broker.url("not-the-password"));
    Status<> s = wrong_password.connect();
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().find("login as 'paul'") != std::string::npos);
    CHECK(s.error().find("ACCESS_REFUSED") != std::string::npos);
    CHECK(s.error().find("not-the-password") == std::string::npos);

    AmqpClient& no_vhost = bench.client(
        "amqp://paul:iamthewalrus@127.0.0.1:" + std::to_string(broker.port()) + "/nosuchvhost");
    s = no_vhost.connect();
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().find("nosuchvhost") != std::string::npos);

    AmqpOptions o = consuming({std::string(kUplink)});
    o.exchange = "no.such.exchange";
    AmqpClient& no_exchange = bench.client(broker.url(), o);
    s = no_exchange.connect();
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().find("NOT_FOUND") != std::string::npos);
    CHECK(s.error().find("no.such.exchange") != std::string::npos);
  }
}

TEST_CASE("AmqpClient reconnects by itself after the broker is killed and restarted",
          "[amqp][broker]") {
  MPLANE_REQUIRE_BROKER();
  AmqpBroker broker;  // its own: it is killed
  Bench bench;
  AmqpOptions o = consuming({std::string(kUplink)});
  o.backoff_initial_ms = 50;
  o.backoff_max_ms = 400;
  AmqpClient& consumer = bench.client(broker.url(), o);
  o.bindings.clear();
  AmqpClient& publisher = bench.client(broker.url(), o);
  REQUIRE(consumer.connect().ok());
  REQUIRE(publisher.connect().ok());
  REQUIRE(round_trip(bench, publisher, "before"));

  broker.kill9();
  REQUIRE(bench.run_until([&] {
    return consumer.state() == AmqpState::kReconnecting &&
           publisher.state() == AmqpState::kReconnecting;
  }));
  CHECK_FALSE(consumer.last_error().empty());
  CHECK(publisher.publish(kUplink, "", bytes_of("lost")) == PublishOutcome::kDropped);
  CHECK(publisher.counters().dropped_disconnected >= 1);

  broker.restart();
  REQUIRE(bench.run_until(
      [&] {
        return consumer.state() == AmqpState::kConnected &&
               publisher.state() == AmqpState::kConnected;
      },
      30'000));
  CHECK(consumer.counters().reconnects == 1);
  CHECK(publisher.counters().reconnects == 1);
  REQUIRE(round_trip(bench, publisher, "after"));
  CHECK(bench.received().size() == 2);
  const std::vector<AmqpState> expected{AmqpState::kConnected,    AmqpState::kConnected,
                                        AmqpState::kReconnecting, AmqpState::kReconnecting,
                                        AmqpState::kConnected,    AmqpState::kConnected};
  CHECK(bench.states() == expected);
}

}  // namespace mplane::transport::amqp
