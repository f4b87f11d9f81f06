#include "conf/component_config.h"

#include <algorithm>
#include <span>
#include <utility>

#include "conf/config_fields.h"
#include "parsers/base/log.h"
#include "parsers/mplane/primitive.h"
#include "parsers/mplane/registry.h"

namespace mplane::conf {
namespace {

using namespace fields;  // NOLINT(google-build-using-namespace): the loaders' vocabulary
using ComponentKey = KeyRule<ComponentConfig>;
constexpr std::uint64_t kMaxShards = 1024;  // a sanity bound, far above any core count we run on

// ---- [component] and [engine] --------------------------------------------------------------

Status<> set_workflow(const Field& f, ComponentConfig& c) {
  return store(workflow(f), [&](Workflow w) { c.workflow = w; });
}

// A file path, a file:// URL, or empty / the core registry URI for the built-in core.
Status<> set_registry_uri(const Field& f, ComponentConfig& c) {
  return store(registry_uri(f, false), [&](RegistryUri r) { c.registry_uri = std::move(r.file); });
}

Status<> set_registry_preload(const Field& f, ComponentConfig& c) {
  if (f.entry.value.empty()) return Ok{};
  return store(existing_file(f, f.entry.value),
               [&](std::string p) { c.registry_preload = std::move(p); });
}

// Comma-separated, items trimmed, empty items skipped.
Status<> set_registries(const Field& f, ComponentConfig& c) {
  return store(existing_files(f), [&](std::vector<std::string> files) {
    c.registries.insert(c.registries.end(), files.begin(), files.end());
  });
}

Status<> set_listen_host(const Field& f, ComponentConfig& c) {
  if (auto a = address(f, f.entry.value, 0); !a) return fail(std::move(a).error());
  c.listen_host = f.entry.value;
  return Ok{};
}

Status<> set_client_host(const Field& f, ComponentConfig& c) {
  if (f.entry.value.empty()) return f.error("empty host name");
  c.client_host = f.entry.value;
  return Ok{};
}

constexpr ComponentKey kComponentKeys[] = {
    {"workflow", set_workflow},
    {"registry_uri", set_registry_uri},
    {"registry_preload", set_registry_preload},
    {"registries", set_registries},
    {"scheduler_max_results",
     [](const Field& f, ComponentConfig& c) {
       return store(natural(f, 0, kNoLimit), [&](auto n) { c.scheduler_max_results = n; });
     }},
    {"listen-host", set_listen_host},
    {"listen-port",
     [](const Field& f, ComponentConfig& c) {
       return store(port(f), [&](auto n) { c.listen_port = n; });
     }},
    {"listen-cap-link",
     [](const Field& f, ComponentConfig& c) -> Status<> {
       c.listen_cap_link = f.entry.value;
       return Ok{};
     }},
    {"client_host", set_client_host},
    {"client_port",
     [](const Field& f, ComponentConfig& c) {
       return store(port(f), [&](auto n) { c.client_port = n; });
     }},
    {"registration_path",
     [](const Field& f, ComponentConfig& c) -> Status<> {
       c.registration_path = with_leading_slash(f.entry.value);
       return Ok{};
     }},
    {"specification_path",
     [](const Field& f, ComponentConfig& c) -> Status<> {
       c.specification_path = with_leading_slash(f.entry.value);
       return Ok{};
     }},
    {"result_path",
     [](const Field& f, ComponentConfig& c) -> Status<> {
       c.result_path = with_leading_slash(f.entry.value);
       return Ok{};
     }},
    {"indirect_export_uri",
     [](const Field& f, ComponentConfig& c) -> Status<> {
       c.indirect_export_uri = f.entry.value;
       return Ok{};
     }},
    {"spool",
     [](const Field& f, ComponentConfig& c) -> Status<> {
       if (f.entry.value.empty()) return f.error("no directory given");
       c.spool = resolve(f.ini, f.entry.value);
       return Ok{};
     }},
    {"spool_max_bytes",
     [](const Field& f, ComponentConfig& c) {
       return store(natural(f, 1, kNoLimit), [&](auto n) { c.spool_max_bytes = n; });
     }},
    {"poll_interval",
     [](const Field& f, ComponentConfig& c) -> Status<> {
       auto d = duration(f);
       if (!d) return fail(std::move(d).error());
       if (*d < model::kMicrosPerSecond || *d > 3600 * model::kMicrosPerSecond) {
         return f.bad("is not between 1s and 1h");
       }
       c.poll_interval = *d;
       return Ok{};
     }},
};

constexpr ComponentKey kEngineKeys[] = {
    {"shards",
     [](const Field& f, ComponentConfig& c) {
       return store(natural(f, 0, kMaxShards),
                    [&](auto n) { c.engine.shards = static_cast<std::uint32_t>(n); });
     }},
    {"immediate-wait",
     [](const Field& f, ComponentConfig& c) {
       return store(duration(f), [&](auto d) { c.engine.immediate_wait = d; });
     }},
    {"max-jobs",
     [](const Field& f, ComponentConfig& c) {
       return store(natural(f, 1, kNoLimit), [&](auto n) { c.engine.max_jobs = n; });
     }},
    {"max-jobs-per-identity",
     [](const Field& f, ComponentConfig& c) {
       return store(natural(f, 0, kNoLimit), [&](auto n) { c.engine.max_jobs_per_identity = n; });
     }},
    {"retention",
     [](const Field& f, ComponentConfig& c) {
       return store(duration(f), [&](auto d) { c.engine.retention = d; });
     }},
    {"result-retention",
     [](const Field& f, ComponentConfig& c) {
       return store(duration(f), [&](auto d) { c.engine.result_retention = d; });
     }},
    {"max-retained-results",
     [](const Field& f, ComponentConfig& c) {
       return store(natural(f, 1, kNoLimit), [&](auto n) { c.engine.max_retained_results = n; });
     }},
    {"stream-after-rows",
     [](const Field& f, ComponentConfig& c) {
       return store(natural(f, 0, kNoLimit), [&](auto n) { c.engine.stream_after_rows = n; });
     }},
    {"log-level",
     [](const Field& f, ComponentConfig& c) {
       return store(log_level(f), [&](auto level) { c.engine.log_level = level; });
     }},
};

// ---- [TLS], [Roles], [Authorizations] ------------------------------------------------------

// ---- services ------------------------------------------------------------------------------

// One option of a service: its keys, how its value lands in the service's typed options
// (parsed once, here), and the canonical text of its default (none: no default).
struct OptionRule {
  std::string_view key;
  std::string_view ri_key;  // the RI module's keyword argument, or empty
  // Parses the value into `options`; returns its canonical text (ServiceConfig::options).
  Result<std::string> (*apply)(const Field& f, ServiceOptions& options);
  std::string (*fallback)();  // null: no default
};

struct ServiceRule {
  std::string_view name;
  std::span<const OptionRule> options;
  ServiceOptions (*defaults)();  // the typed options with every default
};

Result<std::string> canonical_duration(const Field& f, model::Micros& out) {
  auto d = duration(f);
  if (!d) return fail(std::move(d).error());
  out = *d;
  return model::format_duration(*d);
}

Result<std::string> canonical_count(const Field& f, std::uint64_t& out) {
  auto n = natural(f, 1, kNoLimit);
  if (!n) return fail(std::move(n).error());
  out = *n;
  return std::to_string(*n);
}

Result<std::string> canonical_text(const Field& f, std::string& out) {
  if (f.entry.value.empty()) return f.bad("is empty");
  out = f.entry.value;
  return out;
}

// AUTO (kept as nullopt) or an address of `family`.
Result<std::string> canonical_source(const Field& f, int family,
                                     std::optional<model::Address>& out) {
  if (f.entry.value == "AUTO") return std::string("AUTO");
  auto a = address(f, f.entry.value, family);
  if (!a) return fail(std::move(a).error());
  out = *a;
  char buf[model::kMaxScalarChars];
  return std::string(buf, model::format_address(buf, *a));
}

template <class Options>
Options& typed(ServiceOptions& o) {
  return std::get<Options>(o);
}

constexpr OptionRule kSleepOptions[] = {
    {"max-duration", "",
     [](const Field& f, ServiceOptions& o) {
       return canonical_duration(f, typed<SleepOptions>(o).max_duration);
     },
     [] { return model::format_duration(SleepOptions{}.max_duration); }},
};
constexpr OptionRule kPingOptions[] = {
    {"source-ip4", "ip4addr",
     [](const Field& f, ServiceOptions& o) {
       return canonical_source(f, 4, typed<PingOptions>(o).source_ip4);
     },
     nullptr},
    {"source-ip6", "ip6addr",
     [](const Field& f, ServiceOptions& o) {
       return canonical_source(f, 6, typed<PingOptions>(o).source_ip6);
     },
     nullptr},
    {"max-rate", "",
     [](const Field& f, ServiceOptions& o) {
       return canonical_count(f, typed<PingOptions>(o).max_rate);
     },
     [] { return std::to_string(PingOptions{}.max_rate); }},
};
constexpr OptionRule kCaptureOptions[] = {
    {"interface", "",
     [](const Field& f, ServiceOptions& o) {
       return canonical_text(f, typed<CaptureOptions>(o).interface);
     },
     nullptr},
    {"files", "",
     [](const Field& f, ServiceOptions& o) -> Result<std::string> {
       auto dir = existing_directory(f, f.entry.value);
       if (!dir) return fail(std::move(dir).error());
       typed<CaptureOptions>(o).files = *dir;
       return dir;
     },
     nullptr},
    {"filter", "",
     [](const Field& f, ServiceOptions& o) {
       return canonical_text(f, typed<CaptureOptions>(o).filter);
     },
     nullptr},
    {"max-flows", "",
     [](const Field& f, ServiceOptions& o) {
       return canonical_count(f, typed<CaptureOptions>(o).max_flows);
     },
     [] { return std::to_string(CaptureOptions{}.max_flows); }},
    {"idle-timeout", "",
     [](const Field& f, ServiceOptions& o) {
       return canonical_duration(f, typed<CaptureOptions>(o).idle_timeout);
     },
     [] { return model::format_duration(CaptureOptions{}.idle_timeout); }},
    {"store", "",
     [](const Field& f, ServiceOptions& o) {
       return canonical_count(f, typed<CaptureOptions>(o).store);
     },
     [] { return std::to_string(CaptureOptions{}.store); }},
};

template <class Options>
ServiceOptions defaults_of() {
  return Options{};
}

// The built-in services: the one table of their names and options (the services' factories,
// engine/services/builtin_services.cc, take the typed options it gives).
constexpr ServiceRule kServices[] = {
    {"loopback", {}, defaults_of<std::monostate>},
    {"sleep", kSleepOptions, defaults_of<SleepOptions>},
    {"ping", kPingOptions, defaults_of<PingOptions>},
    {"counter", {}, defaults_of<std::monostate>},
    {"capture", kCaptureOptions, defaults_of<CaptureOptions>},
};
constexpr std::string_view kServiceNames[] = {"loopback", "sleep", "ping", "counter", "capture"};
constexpr std::string_view kPingModule = "mplane.components.ping";

// Reads the options of `section` for `rule`; with `ri_layout` the keys are the RI module's
// keyword arguments (and `module`, already read), otherwise our names. With `whole`, a section
// that enables no measurement is an error (a file; not the defaults of `--service NAME`).
Result<ServiceConfig> read_service(const IniFile& ini, const IniSection& section,
                                   const ServiceRule& rule, bool ri_layout, bool whole = true) {
  ServiceConfig service{
      std::string(rule.name), {}, ini.path + ":" + std::to_string(section.line), rule.defaults()};
  auto key_of = [&](const OptionRule& o) { return ri_layout ? o.ri_key : o.key; };
  std::vector<std::string_view> keys;
  for (const OptionRule& o : rule.options) {
    if (!key_of(o).empty()) keys.push_back(key_of(o));
  }
  for (const IniEntry& e : section.entries) {
    if (ri_layout && e.key == "module") continue;
    const auto o = std::find_if(rule.options.begin(), rule.options.end(), [&](const auto& r) {
      return !key_of(r).empty() && key_of(r) == e.key;
    });
    if (o == rule.options.end()) return unknown_key(ini, section, e, keys);
    auto v = o->apply(Field{ini, section, e}, service.typed);
    if (!v) return fail(std::move(v).error());
    service.options[std::string(o->key)] = std::move(*v);
  }
  for (const OptionRule& o : rule.options) {
    if (o.fallback) service.options.try_emplace(std::string(o.key), o.fallback());
  }
  if (!whole) return service;
  if (rule.name == "ping" && !service.options.contains("source-ip4") &&
      !service.options.contains("source-ip6")) {
    const std::string what = ri_layout ? "ip4addr and/or ip6addr" : "source-ip4 and/or source-ip6";
    return error_at(
        ini, section.line,
        "[" + section.name + "] enables no measurement: set " + what + " (an address or AUTO)");
  }
  if (rule.name == "capture" && !service.options.contains("interface") &&
      !service.options.contains("files")) {
    return error_at(ini, section.line,
                    "[" + section.name +
                        "] enables no measurement: set interface (live capture) and/or files "
                        "(a directory of capture files clients may name)");
  }
  return service;
}

const ServiceRule* find_service(std::string_view name) {
  for (const ServiceRule& s : kServices) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

// The service an RI `module` names: the ping module, or any module whose last dotted component
// is `loopback`.
const ServiceRule* service_for_module(std::string_view module) {
  if (module == kPingModule) return find_service("ping");
  const std::size_t dot = module.rfind('.');
  const std::string_view last = dot == std::string_view::npos ? module : module.substr(dot + 1);
  return last == "loopback" ? find_service("loopback") : nullptr;
}

Status<> add_service(const IniFile& ini, const IniSection& section, const ServiceRule& rule,
                     bool ri_layout, ComponentConfig& c) {
  for (const ServiceConfig& s : c.services) {
    if (s.name == rule.name) {
      return error_at(ini, section.line,
                      "[" + section.name + "] enables service " + in_quotes(rule.name) +
                          " again (already enabled at " + s.origin + ")");
    }
  }
  auto service = read_service(ini, section, rule, ri_layout);
  if (!service) return fail(std::move(service).error());
  c.services.push_back(std::move(*service));
  return Ok{};
}

Status<> read_service_section(const IniFile& ini, const IniSection& section, ComponentConfig& c) {
  const std::string_view name = std::string_view(section.name).substr(8);  // after "service_"
  const ServiceRule* rule = find_service(name);
  if (rule == nullptr) {
    return error_at(ini, section.line,
                    "unknown service [" + section.name + "] (built-in services: " +
                        service_names_text() + ")" + suggestion(name, kServiceNames));
  }
  return add_service(ini, section, *rule, false, c);
}

Status<> read_module_section(const IniFile& ini, const IniSection& section, ComponentConfig& c) {
  const IniEntry* module = section.find("module");
  if (module == nullptr) {
    return error_at(ini, section.line, "[" + section.name + "] has no 'module' key");
  }
  const ServiceRule* rule = service_for_module(module->value);
  if (rule == nullptr) {
    return error_at(ini, module->line,
                    "no built-in service for module " + in_quotes(module->value) + " in [" +
                        section.name + "] (known: " + std::string(kPingModule) +
                        ", mplane.components.loopback)");
  }
  return add_service(ini, section, *rule, true, c);
}

// ---- sections and whole-file rules ---------------------------------------------------------

constexpr std::string_view kSectionNames[] = {"component",      "engine", "TLS",        "Roles",
                                              "Authorizations", "client", "supervisor", "gui"};

Status<> read_section(const IniFile& ini, const IniSection& s, ComponentConfig& c) {
  const std::string_view name = s.name;
  if (name == "component") return read_keys(ini, s, keys_of(kComponentKeys, c));
  if (name == "engine") {
    return read_keys(ini, s, keys_of(kEngineKeys, c),
                     KeyTable<HttpLimits>{http_limit_keys(), c.engine});
  }
  if (name == "TLS") return store(read_tls(ini, s), [&](TlsFiles t) { c.tls = std::move(t); });
  if (name == "Roles") {
    c.roles = role_lists(s);
  } else if (name == "Authorizations") {
    c.authorizations = role_lists(s);
  } else if (name == "client" || name == "supervisor" || name == "gui") {
    c.other_sections.push_back(s);
  } else if (name.starts_with("service_")) {
    return read_service_section(ini, s, c);
  } else if (name.starts_with("module_")) {
    return read_module_section(ini, s, c);
  } else {
    return error_at(ini, s.line,
                    "unknown section [" + s.name + "]" + suggestion(name, kSectionNames));
  }
  return Ok{};
}

Status<> check_whole(const IniFile& ini, const ComponentConfig& c) {
  if (c.workflow == Workflow::kComponentInitiated && c.client_host.empty()) {
    const int line = ini.find("component")->find("workflow")->line;
    return error_at(ini, line, "[component] workflow = component-initiated needs client_host");
  }
  if (c.tls && (!ini.find("Roles") || !ini.find("Authorizations"))) {
    return error_at(ini, ini.find("TLS")->line,
                    "[TLS] needs [Roles] and [Authorizations] sections (TLS switches on access "
                    "control)");
  }
  return Ok{};
}

}  // namespace

Result<ComponentConfig> component_config_from_ini(const IniFile& ini) {
  ComponentConfig config;
  config.path = ini.path;
  for (const IniSection& s : ini.sections) {
    if (auto st = read_section(ini, s, config); !st) return fail(std::move(st).error());
  }
  if (auto st = check_whole(ini, config); !st) return fail(std::move(st).error());
  config.access_control = config.tls.has_value();  // [TLS] requires [Roles], [Authorizations]
  return config;
}

Result<ComponentConfig> load_component_config(const std::string& path) {
  auto ini = load_ini(path);
  if (!ini) return fail(std::move(ini).error());
  return component_config_from_ini(*ini);
}

std::vector<std::string_view> service_names() {
  return {std::begin(kServiceNames), std::end(kServiceNames)};
}

std::string service_names_text() {
  std::string out;
  for (std::string_view n : kServiceNames) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

Result<ServiceConfig> service_config(std::string_view name,
                                     const std::map<std::string, std::string>& options,
                                     const std::string& origin) {
  const ServiceRule* rule = find_service(name);
  if (rule == nullptr) {
    return fail(origin + ": no built-in service '" + std::string(name) +
                "' (built-in services: " + service_names_text() + ")");
  }
  IniFile ini;
  ini.path = origin;
  IniSection section;
  section.name = "service_" + std::string(name);
  for (const auto& [key, value] : options) section.entries.push_back({key, value, 0});
  auto service = read_service(ini, section, *rule, false, false);
  if (!service) return service;
  service->origin = origin;
  return service;
}

std::vector<std::string> registry_files(const ComponentConfig& config) {
  return registry_load_order(config.registry_preload, config.registry_uri, config.registries);
}

AccessPolicy access_policy(const ComponentConfig& config) {
  if (!config.tls || !config.access_control) return {};
  return AccessPolicy::from_roles(config.roles, config.authorizations);
}

bool authorized(const ComponentConfig& config, std::string_view identity,
                std::string_view capability_label) {
  return access_policy(config).allows(identity, capability_label);
}

}  // namespace mplane::conf
