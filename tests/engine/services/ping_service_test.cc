// The ping service through the scheduler on a real libuv loop: real ICMP echo to 127.0.0.1
// and ::1 (raw sockets need root; without the privilege the test says so and skips).
#include <catch2/catch.hpp>

#include <uv.h>

#include "engine/runtime/scheduler_driver.h"
#include "engine/services/builtin_services.h"
#include "tests/skip_support.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

bool icmp_allowed() {
  for (int type : {SOCK_DGRAM, SOCK_RAW}) {
    const int fd = socket(AF_INET, type, IPPROTO_ICMP);
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
  }
  return false;
}

bool has_ipv6_loopback() {
  const int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// The source address the ping capabilities of this host advertise (AUTO: the routed one).
std::string advertised_source(int family) {
  loop::SteadyMonoClock mono;
  auto svcs = services::make_services({{"ping", {}, "<test>"}}, test::registries(), mono);
  REQUIRE(svcs.ok());
  const std::string name = "source.ip" + std::to_string(family);
  for (const auto& s : *svcs) {
    if (const model::Parameter* p = s->capability().find_parameter(name)) {
      return model::format_value(*p->constraint.single_value());
    }
  }
  FAIL("no ping capability for IPv" << family);
  return "";
}

// Runs one specification to completion on a fresh loop and returns the final reply.
sched::Reply run_to_completion(const std::string& spec_json) {
  auto spec = test::parse(spec_json);
  if (!spec) FAIL(spec.error().describe(spec_json));
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  loop::SteadyMonoClock mono;
  auto svcs = services::make_services({{"ping", {}, "<test>"}}, test::registries(), mono);
  loop::SystemWallClock wall;
  sched::Reply reply;
  {
    sched::Scheduler scheduler(std::move(svcs.value()), {}, &loop);
    runtime::SchedulerDriver driver(&loop, scheduler, wall);
    CHECK(driver.start().ok());
    reply = scheduler.submit((*spec)->message, "", driver.now());
    driver.pump();
    const std::string token(reply->token.value_or(""));
    if (!scheduler.when_complete(token, [&] {
          reply = scheduler.redeem(token, driver.now());
          driver.close();
        })) {
      driver.close();
    }
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
  return reply;
}

std::string ping_spec(const std::string& form, int family, const std::string& destination,
                      const std::string& results, const std::string& when = "now + 2s / 1s") {
  const std::string f = std::to_string(family);
  return R"({"specification": "measure", "registry": "http://ict-mplane.eu/registry/core",
    "label": "ping-)" +
         form + "-ip" + f + R"(-0", "when": ")" + when + R"(",
    "parameters": {"destination.ip)" +
         f + R"(": ")" + destination + R"(", "source.ip)" + f + R"(": ")" +
         advertised_source(family) + R"("}, "results": )" + results + "}";
}

const char* const kAverage = R"(["delay.twoway.icmp.us.min", "delay.twoway.icmp.us.mean",
  "delay.twoway.icmp.us.max", "delay.twoway.icmp.count", "packets.lost"])";

std::vector<std::pair<int, std::string>> loopback_targets() {
  std::vector<std::pair<int, std::string>> targets = {{4, "127.0.0.1"}};
  if (has_ipv6_loopback()) {
    targets.emplace_back(6, "::1");
  } else {
    WARN("IPv6 part skipped: no ::1 on this host");
  }
  return targets;
}

TEST_CASE("ping-average and ping-detail measure loopback RTTs, for real",
          "[engine][services][net]") {
  if (!icmp_allowed()) MPLANE_SKIP("ICMP sockets need root or net.ipv4.ping_group_range");
  for (const auto& [family, destination] : loopback_targets()) {
    CAPTURE(destination);
    sched::Reply avg = run_to_completion(ping_spec("average", family, destination, kAverage));
    REQUIRE(avg->kind == model::MessageKind::kResult);
    REQUIRE(avg->row_count == 1);
    const auto& c = avg->columns;
    CHECK(c[3].values[0].as_natural() == 2);  // two probes in 2 s at 1 s
    CHECK(c[4].values[0].as_natural() == 0);  // none lost
    CHECK(c[0].values[0].as_natural() <= c[1].values[0].as_natural());
    CHECK(c[1].values[0].as_natural() <= c[2].values[0].as_natural());
    CHECK(c[2].values[0].as_natural() < 1000000);
    CHECK(avg->when->is_definite());
    sched::Reply detail = run_to_completion(
        ping_spec("detail", family, destination, R"(["time", "delay.twoway.icmp.us"])"));
    REQUIRE(detail->kind == model::MessageKind::kResult);
    CHECK(detail->row_count == 2);
  }
}

TEST_CASE("ping needs a period at least the capability's", "[engine][services][net]") {
  sched::Reply no_period =
      run_to_completion(ping_spec("average", 4, "127.0.0.1", kAverage, "now + 2s"));
  CHECK(no_period->kind == model::MessageKind::kException);
  CHECK(no_period->exception_text == "No service registered for specification");
}

TEST_CASE("ping max-rate: a measurement that would exceed it is refused at start",
          "[engine][services][net]") {
  if (!icmp_allowed()) MPLANE_SKIP("ICMP sockets need root or net.ipv4.ping_group_range");
  auto first = test::parse(ping_spec("average", 4, "127.0.0.1", kAverage, "now + 2s / 1s"));
  // Another destination: another job (the same specification would share the first's job).
  auto second = test::parse(ping_spec("average", 4, "127.0.0.2", kAverage, "now + 2s / 1s"));
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  loop::SteadyMonoClock mono;
  auto svcs =
      services::make_services({{"ping", {{"max-rate", "1"}}, "<test>"}}, test::registries(), mono);
  REQUIRE(svcs.ok());
  loop::SystemWallClock wall;
  {
    sched::Scheduler scheduler(std::move(svcs.value()), {}, &loop);
    runtime::SchedulerDriver driver(&loop, scheduler, wall);
    REQUIRE(driver.start().ok());
    const sched::Reply a = scheduler.submit((*first)->message, "", driver.now());
    CHECK(a->kind == model::MessageKind::kReceipt);  // 1 probe/s: within max-rate 1
    const sched::Reply b = scheduler.submit((*second)->message, "", driver.now());
    REQUIRE(b->kind == model::MessageKind::kException);
    CHECK_THAT(std::string(b->exception_text), Catch::StartsWith("Overloaded: ping max-rate is 1"));
    scheduler.interrupt_all(driver.now());  // releases the first one's probes
    driver.close();
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

}  // namespace
}  // namespace mplane
