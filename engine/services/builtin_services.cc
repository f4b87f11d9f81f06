#include "engine/services/builtin_services.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "engine/services/capture_service.h"
#include "engine/services/counter_service.h"
#include "engine/services/loopback_service.h"
#include "engine/services/ping_service.h"
#include "engine/services/sleep_service.h"

namespace mplane::services {
namespace {

// The local address the kernel would use towards the outside (a UDP "connect" sends nothing),
// as the RI's ip4addr = AUTO does; the loopback address when there is no route.
model::Address auto_source(int family) {
  model::Address a;
  a.family = static_cast<std::uint8_t>(family);
  a.prefix = family == 4 ? 32 : 128;
  const int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM, 0);
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (family == 4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(9);
    inet_pton(AF_INET, "192.0.2.1", &sin->sin_addr);  // TEST-NET-1: any routed address works
    len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(9);
    inet_pton(AF_INET6, "2001:db8::1", &sin6->sin6_addr);
    len = sizeof(sockaddr_in6);
  }
  sockaddr_storage local{};
  socklen_t local_len = sizeof local;
  const bool ok = fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok) return model::parse_address(family == 4 ? "127.0.0.1" : "::1").value();
  if (family == 4) {
    std::memcpy(a.bytes, &reinterpret_cast<sockaddr_in*>(&local)->sin_addr, 4);
  } else {
    std::memcpy(a.bytes, &reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr, 16);
  }
  return a;
}

Status<> add_ping(const conf::ServiceConfig& c, const model::RegistrySet& regs, MonoClock& clock,
                  const ShardShares& shares, std::vector<sched::ServicePtr>& out) {
  const auto& o = std::get<conf::PingOptions>(c.typed);
  auto budget =
      std::make_shared<ProbeBudget>(static_cast<double>(o.max_rate) /
                                    static_cast<double>(std::max<std::size_t>(1, shares.shards)));
  const bool only6 = o.source_ip6 && !o.source_ip4, only4 = o.source_ip4 && !o.source_ip6;
  for (int family : {4, 6}) {
    if ((family == 4 && only6) || (family == 6 && only4)) continue;
    const std::optional<model::Address>& configured = family == 4 ? o.source_ip4 : o.source_ip6;
    const model::Address source = configured ? *configured : auto_source(family);
    for (auto form : {PingService::Form::kAverage, PingService::Form::kDetail}) {
      auto s = PingService::create(regs, form, family, source, clock, budget);
      if (!s) return fail(c.origin + ": " + s.error());
      out.push_back(std::move(s.value()));
    }
  }
  return Ok{};
}

Status<> add_capture(const conf::ServiceConfig& c, const model::RegistrySet& regs,
                     const ShardShares& shares, std::vector<sched::ServicePtr>& out) {
  auto cfg = capture_config(c);
  if (!cfg) return fail(cfg.error());
  auto services = make_capture_services(*cfg, regs, shares.flows);
  if (!services) return fail(c.origin + ": " + services.error());
  for (auto& s : services.value()) out.push_back(std::move(s));
  return Ok{};
}

// The factories of the services conf::service_names() lists, by name.
Status<> add_service(const conf::ServiceConfig& c, const model::RegistrySet& regs, MonoClock& clock,
                     const ShardShares& shares, std::vector<sched::ServicePtr>& out) {
  if (c.name == "ping") return add_ping(c, regs, clock, shares, out);
  if (c.name == "capture") return add_capture(c, regs, shares, out);
  Result<sched::ServicePtr> s = fail(c.origin + ": no built-in service '" + c.name + "'");
  if (c.name == "loopback") s = LoopbackService::create(regs);
  if (c.name == "counter") s = CounterService::create(regs);
  if (c.name == "sleep")
    s = SleepService::create(regs, std::get<conf::SleepOptions>(c.typed).max_duration);
  if (!s) return fail(s.error());
  out.push_back(std::move(s.value()));
  return Ok{};
}

}  // namespace

std::vector<conf::ServiceConfig> default_service_configs() {
  std::vector<conf::ServiceConfig> out;
  for (std::string_view name : conf::service_names()) {
    // counter is a test service, capture needs its configuration: both are asked for.
    if (name != "counter" && name != "capture") {
      out.push_back(conf::service_config(name, {}, "<default>").value());
    }
  }
  return out;
}

Result<std::vector<sched::ServicePtr>> make_services(
    const std::vector<conf::ServiceConfig>& configs, const model::RegistrySet& registries,
    MonoClock& clock, const ShardShares& shares) {
  std::vector<sched::ServicePtr> out;
  for (const conf::ServiceConfig& given : configs) {
    conf::ServiceConfig c = given;
    if (std::holds_alternative<std::monostate>(c.typed)) {  // options as text only: parse them
      auto parsed = conf::service_config(c.name, c.options, c.origin);
      if (!parsed) return fail(parsed.error());
      c = std::move(parsed.value());
    }
    if (auto st = add_service(c, registries, clock, shares, out); !st) return fail(st.error());
  }
  return out;
}

}  // namespace mplane::services
