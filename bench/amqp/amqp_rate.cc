// The broker's own rate (issue 13's baseline for the tunnel): one publisher and one consumer of
// our AMQP client (transport/amqp) on one loop, through amq.topic of a RabbitMQ broker, with
// messages of SIZE bytes and at most WINDOW in flight. Prints messages/s, Mbit/s of bodies and
// the publish -> delivery latency (p50, p99), which bound what an agent can carry.
//
//   amqp_rate URL [SECONDS] [SIZE] [WINDOW]      # e.g.
//   amqp://paul:iamthewalrus@127.0.0.1:25673/session01
#include <uv.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "transport/amqp/amqp_client.h"

namespace {

using namespace mplane::transport::amqp;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kKey = "bench.rate.packet";

struct Run {
  std::size_t size = 1400;
  std::size_t window = 256;
  std::vector<std::uint8_t> body;
  std::vector<double> latency_us;
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  bool measuring = true;
  AmqpClient* publisher = nullptr;

  // Publishes until `window` messages are in flight; each body starts with its send time.
  void fill() {
    while (measuring && sent - received < window) {
      const auto now = Clock::now().time_since_epoch().count();
      std::memcpy(body.data(), &now, sizeof now);
      if (publisher->publish(kKey, "application/octet-stream", body) == PublishOutcome::kDropped) {
        return;  // the output queue is full: the next delivery makes room
      }
      ++sent;
    }
  }
  void on_delivery(const AmqpDelivery& d) {
    if (d.body.size() >= sizeof(Clock::rep)) {
      Clock::rep then = 0;
      std::memcpy(&then, d.body.data(), sizeof then);
      latency_us.push_back(static_cast<double>(Clock::now().time_since_epoch().count() - then) /
                           1000.0);
    }
    ++received;
    fill();
  }
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: amqp_rate URL [SECONDS] [SIZE] [WINDOW]\n");
    return 2;
  }
  auto url = parse_amqp_url(argv[1]);
  if (!url) {
    std::fprintf(stderr, "amqp_rate: %s\n", url.error().c_str());
    return 2;
  }
  const double seconds = argc > 2 ? std::stod(argv[2]) : 10;
  Run run;
  if (argc > 3) run.size = std::max<std::size_t>(std::stoul(argv[3]), sizeof(Clock::rep));
  if (argc > 4) run.window = std::max<std::size_t>(std::stoul(argv[4]), 1);
  run.body.assign(run.size, 0x5a);

  uv_loop_t loop;
  uv_loop_init(&loop);
  AmqpOptions consume;
  consume.bindings = {std::string(kKey)};
  AmqpClient consumer(&loop, *url, consume,
                      {[&](const AmqpDelivery& d) { run.on_delivery(d); }, {}});
  AmqpClient publisher(&loop, *url, AmqpOptions{}, {});
  run.publisher = &publisher;
  for (AmqpClient* c : {&consumer, &publisher}) {
    if (auto st = c->connect(); !st) {
      std::fprintf(stderr, "amqp_rate: %s\n", st.error().c_str());
      return 1;
    }
  }
  uv_timer_t stop;
  uv_timer_init(&loop, &stop);
  stop.data = &run;
  const auto start = Clock::now();
  run.fill();
  uv_timer_start(
      &stop,
      [](uv_timer_t* t) noexcept {
        auto* r = static_cast<Run*>(t->data);
        r->measuring = false;
        uv_stop(t->loop);
      },
      static_cast<std::uint64_t>(seconds * 1000), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  consumer.close();
  publisher.close();
  uv_close(reinterpret_cast<uv_handle_t*>(&stop), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);

  const double rate = static_cast<double>(run.received) / elapsed;
  std::printf("messages/s: %.0f\n", rate);
  std::printf("Mbit/s: %.1f (bodies of %zu bytes)\n",
              rate * static_cast<double>(run.size) * 8 / 1e6, run.size);
  std::printf("latency: p50 %.0f us, p99 %.0f us\n", percentile(run.latency_us, 0.5),
              percentile(run.latency_us, 0.99));
  std::printf("sent %llu, received %llu, window %zu, %.2f s, drops %llu\n",
              static_cast<unsigned long long>(run.sent),
              static_cast<unsigned long long>(run.received), run.window, elapsed,
              static_cast<unsigned long long>(publisher.counters().dropped_queue_full +
                                              publisher.counters().dropped_disconnected));
  return run.received > 0 ? 0 : 1;
}
