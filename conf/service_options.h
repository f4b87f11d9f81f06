// The typed options of the built-in services ([service_NAME] sections), with their defaults:
// written here once. The configuration reader (component_config.cc) parses each option once
// into these; the services' factories take them as they are.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "parsers/mplane/primitive.h"
#include "parsers/mplane/time_value.h"

namespace mplane::conf {

// [service_sleep]
struct SleepOptions {
  model::Micros max_duration = 86400 * model::kMicrosPerSecond;  // max-duration
};

// [service_ping] (RI: [module_X] with module = mplane.components.ping)
struct PingOptions {
  // source-ip4 / source-ip6 (RI: ip4addr / ip6addr): the address probes are sent from. Absent
  // or AUTO: the address of the default route, found when the service is created.
  std::optional<model::Address> source_ip4;
  std::optional<model::Address> source_ip6;
  std::uint64_t max_rate = 100;  // max-rate: probes/s of all ping measurements together
};

// [service_capture]
struct CaptureOptions {
  std::string interface;             // live capture (empty: no live capability)
  std::string files;                 // directory of capture files clients may name (empty: none)
  std::string filter;                // BPF for the live capture
  std::uint64_t max_flows = 131072;  // flow table size
  model::Micros idle_timeout = 300 * model::kMicrosPerSecond;  // a flow without packets ends
  std::uint64_t store = 100000;  // finished flows kept for capture-flows-query
};

// A service's options: monostate for the services without any (loopback, counter).
using ServiceOptions = std::variant<std::monostate, SleepOptions, PingOptions, CaptureOptions>;

}  // namespace mplane::conf
