// What the mplane binary carries built in: the element registries (core and loopback) and the
// capabilities of the built-in services, embedded from conf/ at build time.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "parsers/base/result.h"
#include "parsers/mplane/registry.h"

namespace mplane::conf {

struct BuiltinFile {
  std::string_view path;  // relative to conf/, e.g. "capabilities/sleep.json"
  std::string_view content;
};
const std::vector<BuiltinFile>& builtin_files();
// The content of a built-in file, or an empty view.
std::string_view builtin_file(std::string_view path) noexcept;

// The core registry document (http://ict-mplane.eu/registry/core), verbatim.
std::string_view core_registry_json() noexcept;

// A registry set with the built-in registries (core, loopback, engine) plus the given registry
// files, in that order (they may include each other and the built-in ones). The error names the
// file and reason. An element redefined with another primitive is logged as a warning
// (redefinition_text): the definition loaded last counts (README, "Registries").
Result<model::RegistrySet> load_registries(const std::vector<std::string>& files);

// "FILE redefines element NAME: natural in URI, now time in URI for every message (…)".
std::string redefinition_text(const model::RegistrySet::Redefinition& r);

}  // namespace mplane::conf
