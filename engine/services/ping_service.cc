#include "engine/services/ping_service.h"

#include <algorithm>
#include <limits>

namespace mplane::services {

// One job's probing: the pinger and what it measured so far.
struct PingService::Run {
  explicit Run(uv_loop_t* loop, MonoClock& clock) : pinger(loop, clock) {}
  IcmpPinger pinger;
  model::Micros period = model::kMicrosPerSecond;
  double rate = 0;  // probes per second reserved in the ProbeBudget
  std::optional<model::MicrosSinceEpoch> end;
  model::MicrosSinceEpoch next = 0;
  std::uint64_t sent = 0, received = 0;
  std::int64_t min_us = std::numeric_limits<std::int64_t>::max(), max_us = 0, sum_us = 0;
};

namespace {

std::string capability_path(PingService::Form form, int family) {
  return std::string("capabilities/ping-") +
         (form == PingService::Form::kAverage ? "average" : "detail") + "-ip" +
         std::to_string(family) + ".json";
}

std::string element(const char* base, int family) { return base + std::to_string(family); }

// The configured source address becomes the single value of the source constraint.
void constrain_source(json::OwnedMessage& cap, int family, const model::Address& source) {
  for (model::Parameter& p : cap.message.parameters) {
    if (p.element->name == element("source.ip", family)) {
      p.constraint = model::Constraint::single(model::Value::address(source));
    }
  }
}

std::optional<model::Address> address_param(const model::Message& spec, const std::string& name) {
  const model::Parameter* p = spec.find_parameter(name);
  if (!p || p->value.kind() != model::ValueKind::kAddress) return std::nullopt;
  return p->value.as_address();
}

}  // namespace

bool ProbeBudget::reserve(double rate, double& in_use) {
  in_use = used_;
  if (used_ + rate > limit_ + 1e-9) return false;
  used_ += rate;
  return true;
}

void ProbeBudget::release(double rate) { used_ = std::max(0.0, used_ - rate); }

Result<sched::ServicePtr> PingService::create(const model::RegistrySet& registries, Form form,
                                              int family, std::optional<model::Address> source,
                                              MonoClock& clock,
                                              std::shared_ptr<ProbeBudget> budget) {
  const std::string path = capability_path(form, family);
  auto cap = load_builtin_capability(registries, path);
  if (!cap) return fail(cap.error());
  if (source) {
    if (source->family != family) {
      return fail("ping: source address family does not match ping-*-ip" + std::to_string(family));
    }
    constrain_source(**cap, family, *source);
  }
  std::string name = std::string(cap.value()->message.label.value_or("ping"));
  return sched::ServicePtr(
      new PingService(std::move(cap.value()), std::move(name), form, family, clock,
                      budget ? std::move(budget) : std::make_shared<ProbeBudget>(100)));
}

PingService::PingService(std::unique_ptr<json::OwnedMessage> cap, std::string name, Form form,
                         int family, MonoClock& clock, std::shared_ptr<ProbeBudget> budget)
    : CapabilityService(std::move(cap), std::move(name)),
      form_(form),
      family_(family),
      clock_(clock),
      budget_(std::move(budget)) {}

PingService::~PingService() = default;

void PingService::start(sched::JobContext& ctx) {
  if (!ctx.loop()) return ctx.fail("ping needs an event loop");
  const model::Message& spec = ctx.specification();
  auto destination = address_param(spec, element("destination.ip", family_));
  if (!destination) return ctx.fail("ping: no destination address");
  const model::Micros period = spec.when->period().value_or(model::kMicrosPerSecond);
  const double rate = static_cast<double>(model::kMicrosPerSecond) / static_cast<double>(period);
  double in_use = 0;
  if (!budget_->reserve(rate, in_use)) {
    return ctx.fail("Overloaded: ping max-rate is " +
                    std::to_string(static_cast<long>(budget_->limit())) + " probes/s and " +
                    std::to_string(static_cast<long>(in_use)) + " are in use; retry later");
  }
  auto run = std::make_unique<Run>(ctx.loop(), clock_);
  if (auto st = run->pinger.open(*destination, address_param(spec, element("source.ip", family_)));
      !st) {
    budget_->release(rate);
    return ctx.fail("ping: " + st.error());
  }
  run->period = period;
  run->rate = rate;
  run->end = spec.when->resolve(ctx.now()).end;
  run->next = ctx.now();
  run->pinger.set_timeout_ms(
      static_cast<std::uint32_t>(std::max<model::Micros>(run->period / 1000, 1000)));
  Run& r = *run;
  r.pinger.set_on_reply([this, &ctx, &r](const PingReply& reply) {
    const std::int64_t us = reply.rtt_ns / 1000;
    ++r.received;
    r.min_us = std::min(r.min_us, us);
    r.max_us = std::max(r.max_us, us);
    r.sum_us += us;
    if (form_ == Form::kDetail) {
      const model::Value row[] = {model::Value::time(model::TimePoint::absolute(ctx.now())),
                                  model::Value::natural(static_cast<std::uint64_t>(us))};
      ctx.add_row(row);
    }
  });
  runs_[&ctx] = std::move(run);
  probe(ctx, r);
}

// Sends one probe and schedules the next, while the scope lasts.
void PingService::probe(sched::JobContext& ctx, Run& run) {
  if (run.end && run.next >= *run.end) return;  // the end of the scope completes the job
  ctx.at(run.next, [this, &ctx, &run] {
    ++run.sent;
    (void)run.pinger.send_probe();  // a failed send is a lost probe
    run.next += run.period;
    probe(ctx, run);
  });
}

void PingService::interrupt(sched::JobContext& ctx) { complete(ctx); }

void PingService::complete(sched::JobContext& ctx) {
  auto it = runs_.find(&ctx);
  if (it == runs_.end()) return ctx.finish();
  std::unique_ptr<Run> run = std::move(it->second);
  runs_.erase(it);
  budget_->release(run->rate);
  if (form_ == Form::kAverage) {
    const bool any = run->received > 0;
    const auto n = static_cast<std::int64_t>(run->received);
    const auto us = [](std::int64_t v) {  // a measured time is never negative (IcmpPinger)
      return model::Value::natural(static_cast<std::uint64_t>(v));
    };
    const model::Value row[] = {
        any ? us(run->min_us) : model::Value::none(),
        any ? us(run->sum_us / n) : model::Value::none(),
        any ? us(run->max_us) : model::Value::none(),
        model::Value::natural(run->received),
        model::Value::natural(run->sent - run->received),
    };
    ctx.add_row(row);
  }
  ctx.finish();
  Run* raw = run.release();  // freed once libuv has closed its handles (STYLE C7)
  raw->pinger.close([raw] { delete raw; });
}

}  // namespace mplane::services
