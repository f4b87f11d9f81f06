// The built-in registries (core, loopback), loaded once per process: for tests and fuzzers.
#pragma once

#include <cstdlib>

#include "conf/builtin.h"

namespace mplane::test {

inline const model::RegistrySet& builtin_registries() {
  static const model::RegistrySet regs = [] {
    auto r = conf::load_registries({});
    if (!r) std::abort();  // the registries built into the binary must load
    return std::move(r.value());
  }();
  return regs;
}

}  // namespace mplane::test
