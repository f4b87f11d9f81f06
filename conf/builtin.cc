#include "conf/builtin.h"

#include <fstream>
#include <sstream>

#include "parsers/base/log.h"

namespace mplane::conf {

std::string_view builtin_file(std::string_view path) noexcept {
  for (const BuiltinFile& f : builtin_files()) {
    if (f.path == path) return f.content;
  }
  return {};
}

std::string_view core_registry_json() noexcept { return builtin_file("registry/core.json"); }

std::string redefinition_text(const model::RegistrySet::Redefinition& r) {
  return r.source + " redefines element " + r.name + ": " +
         std::string(model::prim_name(r.before)) + " in " + r.before_uri + ", now " +
         std::string(model::prim_name(r.after)) + " in " + r.after_uri +
         " for every message (the definition loaded last counts)";
}

Result<model::RegistrySet> load_registries(const std::vector<std::string>& files) {
  model::RegistrySet set;
  std::vector<model::RegistrySet::Document> docs = {
      {std::string(core_registry_json()), "<built-in core registry>"},
      {std::string(builtin_file("registry/loopback.json")), "<built-in loopback registry>"},
      {std::string(builtin_file("registry/engine.json")), "<built-in engine registry>"},
  };
  for (const std::string& path : files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(path + ": cannot open registry file");
    std::ostringstream text;
    text << in.rdbuf();
    docs.push_back({text.str(), path});
  }
  if (auto st = set.add_documents(docs); !st) return fail(st.error());
  for (const model::RegistrySet::Redefinition& r : set.redefinitions()) {
    log::write(log::Level::kWarn, redefinition_text(r));
  }
  return set;
}

}  // namespace mplane::conf
