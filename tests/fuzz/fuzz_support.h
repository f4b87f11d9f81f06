// Shared by the libFuzzer targets.
#pragma once

#include "tests/registries_support.h"

namespace mplane::fuzz {

inline const model::RegistrySet& registries() { return test::builtin_registries(); }

}  // namespace mplane::fuzz
