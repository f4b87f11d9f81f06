// What the mplane binary carries built in: the core element registry (PROTOCOL.md §2.1).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "parsers/base/result.h"
#include "parsers/mplane/registry.h"

namespace mplane::conf {

// The core registry document (http://ict-mplane.eu/registry/core), verbatim.
std::string_view core_registry_json() noexcept;

// A registry set with the built-in core registry plus the given registry files (which may
// include each other and the core). The error names the file and the reason.
Result<model::RegistrySet> load_registries(const std::vector<std::string>& files);

}  // namespace mplane::conf
