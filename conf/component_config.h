// The component's configuration file: the RI's mpcom/supervisor INI layout (PROTOCOL.md §5)
// plus our [engine] and [service_NAME] sections, read into a typed struct.
//
// Strict: an unknown section, an unknown key or a bad value is an error "FILE:LINE: reason"
// (the RI ignores unknown keys and crashes on some bad values). [client], [supervisor] and
// [gui] belong to other programs sharing a supervisor file: they are kept unvalidated.
//
// Relative paths in values (registry and TLS files) are resolved against the directory of the
// configuration file, so that a configuration works from any working directory. The RI
// resolves them against its working directory instead: an RI file that relies on that must
// use absolute paths, or sit in the directory the RI was started from.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/access_policy.h"
#include "conf/ini.h"
#include "conf/service_options.h"
#include "parsers/base/log.h"
#include "parsers/base/result.h"
#include "parsers/mplane/time_value.h"

namespace mplane::conf {

enum class Workflow : std::uint8_t { kClientInitiated, kComponentInitiated };

// [TLS]: resolved paths of existing files. Its presence switches on HTTPS and access control.
struct TlsFiles {
  std::string cert;
  std::string key;
  std::string ca_chain;
};

// HTTP against hostile peers (see transport/http/http_server.h): [engine] of a component,
// [supervisor] of a supervisor.
struct HttpLimits {
  model::Micros header_timeout = 10 * model::kMicrosPerSecond;  // total, from the first byte
  std::uint64_t min_body_rate = 16 * 1024;                      // bytes/s, after 10 s
  std::uint64_t max_connections = 4096;                         // open, all peers
  std::uint64_t max_connections_per_peer = 256;                 // open, one IP address
  std::uint64_t max_output_bytes = 4 * 1024 * 1024;             // unwritten replies, per connection
  std::uint64_t max_request_bytes = 256 * 1024 * 1024;  // request bodies in progress, in all
};

// [engine]: our scheduler and result store, and the HTTP limits.
struct EngineConfig : HttpLimits {
  std::uint32_t shards = 0;                                    // 0 = one per core
  model::Micros immediate_wait = 5 * model::kMicrosPerSecond;  // then the client gets a receipt
  std::uint64_t max_jobs = 10000;  // pending + running, in the whole process
  // Pending + running of one authenticated identity; 0: max_jobs / 4 (at least 1).
  std::uint64_t max_jobs_per_identity = 0;
  model::Micros retention = 0;  // a collected result is kept so long (0: forgotten, as the RI)
  model::Micros result_retention = 3600 * model::kMicrosPerSecond;  // an uncollected one
  std::uint64_t max_retained_results = 10000;
  // A result of more rows than this is streamed to the client that waits for it, as they are
  // measured, and not kept (0: never streamed).
  std::uint64_t stream_after_rows = 10000;
  log::Level log_level = log::Level::kWarn;
};

// A built-in service to enable, from [service_NAME] or the RI's [module_X] layout. `typed`
// holds its options, parsed once (SleepOptions, PingOptions, CaptureOptions; defaults where
// not set). `options` holds the same under our key names as text, canonical and with
// defaults filled in (durations as format_duration gives them, addresses as format_address
// gives them or `AUTO`, numbers in decimal; an optional option without default is absent), for
// display. A ServiceConfig built without `typed` (monostate for a service that has options)
// has its `options` parsed by service_config() when its service is made.
struct ServiceConfig {
  std::string name;  // one of service_names()
  std::map<std::string, std::string> options;
  std::string origin;  // "FILE:LINE" of the section header
  ServiceOptions typed{};
};

struct ComponentConfig {
  std::string path;  // the configuration file, as given

  // [component]
  Workflow workflow = Workflow::kClientInitiated;
  std::string registry_uri;             // a resolved file path; empty = built-in registries only
  std::string registry_preload;         // a resolved file path, or empty
  std::vector<std::string> registries;  // ours: further registry files, resolved
  std::uint64_t scheduler_max_results = 0;  // 0 = unlimited
  std::string listen_host = "0.0.0.0";      // ours
  std::uint16_t listen_port = 1228;
  std::string listen_cap_link;
  std::string client_host;  // component-initiated: required then
  std::uint16_t client_port = 1228;
  std::string registration_path = "/register/capability";
  std::string specification_path = "/show/specification";
  std::string result_path = "/register/result";
  std::string indirect_export_uri;
  // Ours, component-initiated: the base directory of the result spools (one subdirectory per
  // supervisor; empty: the default, see `mplane component --help`), their bound, and the
  // interval between polls when the supervisor sets none (callback control).
  std::string spool;
  std::uint64_t spool_max_bytes = 256ULL * 1024 * 1024;
  model::Micros poll_interval = 5 * model::kMicrosPerSecond;

  std::optional<TlsFiles> tls;
  // [Roles]/[Authorizations] decide who may use what: set by a [TLS] section in the file
  // (which requires both). TLS from the command line alone (--ca/--cert/--key) leaves it off:
  // every identity the domain CA certified may use every capability.
  bool access_control = false;
  std::vector<RoleList> roles;           // [Roles], file order
  std::vector<RoleList> authorizations;  // [Authorizations], file order (the last match wins)

  EngineConfig engine;
  std::vector<ServiceConfig> services;     // file order, each service at most once
  std::vector<IniSection> other_sections;  // [client], [supervisor], [gui]: not ours to check
};

// Reads and validates a configuration file.
Result<ComponentConfig> load_component_config(const std::string& path);

// Validates a parsed file; relative paths are resolved against the directory of `ini.path`,
// and the files they name must exist.
Result<ComponentConfig> component_config_from_ini(const IniFile& ini);

// The built-in services' names, in the order of the one table that also holds their options
// (component_config.cc): loopback, sleep, ping, counter, capture.
std::vector<std::string_view> service_names();
// The same, as "loopback, sleep, …" (help texts, errors).
std::string service_names_text();

// The service `name` with `options` (our key names, as in a [service_NAME] section) parsed and
// defaults filled in; `origin` names where they come from in errors. Errors: an unknown service,
// an unknown option, a bad value.
Result<ServiceConfig> service_config(std::string_view name,
                                     const std::map<std::string, std::string>& options,
                                     const std::string& origin);

// The registry files to hand to load_registries(), in load order: registry_preload,
// registry_uri (unless it is the built-in core), then `registries`.
std::vector<std::string> registry_files(const ComponentConfig& config);

// Who may use what under this configuration (PROTOCOL.md §4.8): everything without [TLS] (or
// without access_control); otherwise [Roles] and [Authorizations] (AccessPolicy::from_roles:
// labels matched exactly, where the RI takes the last key that is a *substring* of the label,
// so that `ping = guest` would also open `ping-detail-ip4` and `my-ping-v2`).
AccessPolicy access_policy(const ComponentConfig& config);

// access_policy(config).allows(identity, capability_label): for one check (it builds the
// policy each time; keep the AccessPolicy for many).
bool authorized(const ComponentConfig& config, std::string_view identity,
                std::string_view capability_label);

}  // namespace mplane::conf
