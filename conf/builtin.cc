#include "conf/builtin.h"

#include <fstream>
#include <sstream>

namespace mplane::conf {

extern const std::string_view kCoreRegistryJson;

std::string_view core_registry_json() noexcept { return kCoreRegistryJson; }

Result<model::RegistrySet> load_registries(const std::vector<std::string>& files) {
  model::RegistrySet set;
  if (auto st = set.add_document(core_registry_json(), "<built-in core registry>"); !st) {
    return fail(st.error());
  }
  std::vector<model::RegistrySet::Document> docs;
  for (const std::string& path : files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(path + ": cannot open registry file");
    std::ostringstream text;
    text << in.rdbuf();
    docs.push_back({text.str(), path});
  }
  if (auto st = set.add_documents(docs); !st) return fail(st.error());
  return set;
}

}  // namespace mplane::conf
