// The supervisor's configuration file: the RI supervisor layout (PROTOCOL.md §5: [TLS],
// [Roles], [Authorizations], [client] for the southbound face, [component] for the northbound
// face) plus our [supervisor] section, read into a typed struct. conf/supervisor.conf documents
// every key.
//
// Strict, as the component's file (component_config.h): an unknown section or key, or a bad
// value, is an error "FILE:LINE: reason"; relative paths are resolved against the directory of
// the configuration file. [gui] (the RI's GUI supervisor) is kept unvalidated.
//
// Access control: [Roles] + [Authorizations] (the RI's) or [supervisor] access-files (the fork's
// users.conf and caps.conf), not both; [TLS] needs one of them. Either applies whenever present,
// also when TLS comes from the command line only (the RI ignores [Roles] without [TLS]: a file
// that names roles should not silently open everything). Neither: every identity the domain CA
// certified may use every capability.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/access_policy.h"
#include "conf/component_config.h"
#include "parsers/base/log.h"
#include "parsers/base/result.h"
#include "parsers/mplane/registry.h"
#include "parsers/mplane/time_value.h"

namespace mplane::conf {

// An address and port to listen on.
struct ListenAddress {
  std::string host = "0.0.0.0";
  std::uint16_t port = 0;
};

struct SupervisorConfig {
  std::string path;  // the configuration file, as given

  std::optional<TlsFiles> tls;  // [TLS]
  AccessPolicy access;          // from [Roles]/[Authorizations] or access-files (see above)
  std::string access_files;     // [supervisor] access-files: the resolved directory, or empty

  // Southbound, the component face ([client]).
  Workflow southbound = Workflow::kComponentInitiated;  // workflow
  ListenAddress component_face{"0.0.0.0", 8888};        // listen-host, listen-port
  std::string listen_spec_link;                         // written into specifications sent
  std::string registration_path = "/register/capability";
  std::string specification_path = "/show/specification";
  std::string result_path = "/register/result";
  std::vector<std::string> component_urls;  // client-initiated components to use

  // Northbound, the client face ([component]; its workflow must be client-initiated).
  ListenAddress client_face{"0.0.0.0", 1228};  // listen-host, listen-port
  std::string listen_cap_link;                 // written into capabilities re-exposed
  std::string registry_uri;             // a resolved file path; empty = built-in registries only
  std::string registry_uri_name;        // registry_uri given as a URL: must name a loaded registry
  std::string registry_preload;         // a resolved file path, or empty
  std::vector<std::string> registries;  // [component] registries and [supervisor] registries

  // [supervisor]
  std::optional<ListenAddress> listen;  // both faces on this one address (then not on the two)
  std::string state;                    // the SQLite file (resolved), or empty: none named
  model::Micros poll_idle = 5 * model::kMicrosPerSecond;        // callback when idle
  model::Micros poll_hold = 20 * model::kMicrosPerSecond;       // longest held poll (?wait=)
  model::Micros withdraw_after = 30 * model::kMicrosPerSecond;  // silent probe loses its caps
  model::Micros result_retention = 3600 * model::kMicrosPerSecond;
  model::Micros immediate_wait = 5 * model::kMicrosPerSecond;  // then the client gets a receipt
  // Probes behind one NAT share an address: a supervisor's connection bounds are wider than a
  // component's.
  HttpLimits http{.max_connections = 65536, .max_connections_per_peer = 65536};
  // What peers may make the supervisor hold (engine/supervisor/WIRE.md "Limits"); the keys are
  // these names with '-' for '_'. Defaults: SupervisorOptions'.
  struct Limits {
    std::uint64_t max_probes = 100000;
    std::uint64_t max_capabilities_per_probe = 1000;
    std::uint64_t max_registration_bytes = 1 << 20;
    std::uint64_t max_registered_bytes = 256 << 20;
    std::uint64_t max_specification_bytes = 1 << 20;
    std::uint64_t max_queued_per_probe = 10000;
    std::uint64_t max_queued_bytes = 256 << 20;
    std::uint64_t max_relays = 1000000;
    std::uint64_t max_relays_per_client = 0;  // 0: max_relays / 4
    std::uint64_t max_reply_bytes = std::uint64_t{1} << 30;
  } limits;
  log::Level log_level = log::Level::kWarn;

  std::vector<IniSection> other_sections;  // [gui]: not ours to check
};

// "ADDR:PORT", "[IPV6]:PORT" (port 0: any free port): the form of [supervisor] listen and of
// --listen. Errors name what is wrong, without a prefix.
Result<ListenAddress> parse_listen_address(std::string_view text);

// Reads and validates a supervisor configuration file.
Result<SupervisorConfig> load_supervisor_config(const std::string& path);

// Validates a parsed file; relative paths are resolved against the directory of `ini.path`,
// and the files they name must exist.
Result<SupervisorConfig> supervisor_config_from_ini(const IniFile& ini);

// The registry files to hand to load_registries(), in load order: registry_preload,
// registry_uri (a file), then `registries`.
std::vector<std::string> registry_files(const SupervisorConfig& config);

// registry_uri given as a URL must name a registry of `loaded` (built in, or loaded from
// registry_files()): else "FILE: [component] registry_uri: no loaded registry is named URI".
Status<> check_registry_uri(const SupervisorConfig& config, const model::RegistrySet& loaded);

}  // namespace mplane::conf
