// Shared by the libFuzzer targets: the built-in registries, loaded once.
#pragma once

#include <cstdlib>

#include "conf/builtin.h"

namespace mplane::fuzz {

inline const model::RegistrySet& registries() {
  static const model::RegistrySet regs = [] {
    auto r = conf::load_registries({});
    if (!r) std::abort();
    return std::move(r.value());
  }();
  return regs;
}

}  // namespace mplane::fuzz
