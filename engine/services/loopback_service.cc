#include "engine/services/loopback_service.h"

namespace mplane::services {

Result<sched::ServicePtr> LoopbackService::create(const model::RegistrySet& registries) {
  auto cap = load_builtin_capability(registries, "capabilities/loopback.json");
  if (!cap) return fail(cap.error());
  return sched::ServicePtr(new LoopbackService(std::move(cap.value()), "loopback"));
}

void LoopbackService::start(sched::JobContext& ctx) {
  const model::Parameter* input = ctx.specification().find_parameter("test.input");
  const model::Value row[] = {input ? input->value : model::Value::none()};
  ctx.add_row(row);
  const auto at = model::TimePoint::absolute(ctx.now());
  ctx.finish(model::When::range(at, at));
}

}  // namespace mplane::services
