#include "engine/services/capability_service.h"

#include "conf/builtin.h"

namespace mplane::services {

Result<std::unique_ptr<json::OwnedMessage>> load_builtin_capability(
    const model::RegistrySet& registries, std::string_view path) {
  const std::string_view text = conf::builtin_file(path);
  if (text.empty()) return fail("no built-in capability " + std::string(path));
  json::MessageReader reader(registries);
  auto owned = json::parse_owned(reader, text);
  if (!owned) return fail(std::string(path) + ": " + owned.error().describe(text));
  return std::move(owned.value());
}

}  // namespace mplane::services
