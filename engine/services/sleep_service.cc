#include "engine/services/sleep_service.h"

namespace mplane::services {

Result<sched::ServicePtr> SleepService::create(const model::RegistrySet& registries,
                                               model::Micros max_duration) {
  auto cap = load_builtin_capability(registries, "capabilities/sleep.json");
  if (!cap) return fail(cap.error());
  return sched::ServicePtr(new SleepService(std::move(cap.value()), max_duration));
}

void SleepService::start(sched::JobContext& ctx) {
  const model::When& when = *ctx.specification().when;
  std::optional<model::Micros> duration = when.resolved_duration(ctx.now());
  if (duration && max_duration_ > 0) duration = std::min(*duration, max_duration_);
  if (!duration && max_duration_ > 0) duration = max_duration_;
  if (!duration) return;  // until interrupted
  ctx.at(ctx.now() + *duration, [&ctx] { complete(ctx); });
}

void SleepService::interrupt(sched::JobContext& ctx) { complete(ctx); }

// One row: how long it actually ran, in milliseconds; the measured interval is the run.
void SleepService::complete(sched::JobContext& ctx) {
  const model::MicrosSinceEpoch began = ctx.started_at();
  const model::MicrosSinceEpoch now = std::max(ctx.now(), began);
  const model::Value row[] = {
      model::Value::natural(static_cast<std::uint64_t>((now - began) / 1000))};
  ctx.add_row(row);
  ctx.finish(
      model::When::range(model::TimePoint::absolute(began), model::TimePoint::absolute(now)));
}

}  // namespace mplane::services
