#include "engine/services/counter_service.h"

namespace mplane::services {

Result<sched::ServicePtr> CounterService::create(const model::RegistrySet& registries) {
  auto cap = load_builtin_capability(registries, "capabilities/counter.json");
  if (!cap) return fail(cap.error());
  return sched::ServicePtr(new CounterService(std::move(cap.value()), "counter"));
}

void CounterService::start(sched::JobContext& ctx) { produce(ctx); }

// One batch; then the next one on a later loop turn, unless the consumer is behind (resume()
// continues) or every row is out.
void CounterService::produce(sched::JobContext& ctx) {
  const model::Message& spec = ctx.specification();
  const model::Parameter* count = spec.find_parameter("test.count");
  const model::Parameter* input = spec.find_parameter("test.input");
  const auto total = static_cast<std::size_t>(count ? count->value.as_natural() : 0);
  const model::Value text = input ? input->value : model::Value::none();
  std::size_t next = ctx.row_count();
  for (std::size_t budget = kRowsPerBatch; budget > 0 && next < total; --budget, ++next) {
    const model::Value row[] = {model::Value::natural(next), text};
    ctx.add_row(row);
  }
  if (next >= total) return ctx.finish();
  if (ctx.paused()) return;
  ctx.at(ctx.now(), [&ctx] { produce(ctx); });
}

}  // namespace mplane::services
