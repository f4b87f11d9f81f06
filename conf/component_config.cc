#include "conf/component_config.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <limits>
#include <span>
#include <system_error>
#include <utility>

#include "parsers/base/log.h"
#include "parsers/mplane/primitive.h"
#include "parsers/mplane/registry.h"

namespace mplane::conf {
namespace {

namespace fs = std::filesystem;
using model::Micros;

constexpr std::uint64_t kNoLimit = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kMaxShards = 1024;  // a sanity bound, far above any core count we run on

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string_view trim(std::string_view s) {
  const std::size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

// ---- "did you mean" ------------------------------------------------------------------------

// Levenshtein distance after folding case and '_' to '-' (so listen_port ~ listen-port).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  auto fold = [](char c) {
    if (c == '_') return '-';
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  };
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t replace = diagonal + (fold(a[i - 1]) == fold(b[j - 1]) ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, replace});
    }
  }
  return row[b.size()];
}

// " (did you mean 'x'?)" for the closest candidate within a small distance, else "".
std::string suggestion(std::string_view word, std::span<const std::string_view> candidates) {
  std::string_view best;
  std::size_t best_distance = 3;
  for (std::string_view c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance && d * 3 <= word.size()) {
      best = c;
      best_distance = d;
    }
  }
  return best.empty() ? "" : " (did you mean " + in_quotes(best) + "?)";
}

// ---- errors and value checks ---------------------------------------------------------------

Failure<std::string> error_at(const IniFile& ini, int line, std::string_view reason) {
  return fail(located(ini.path, line, reason));
}

Failure<std::string> unknown_key(const IniFile& ini, const IniSection& section,
                                 const IniEntry& entry, std::span<const std::string_view> keys) {
  return error_at(ini, entry.line,
                  "unknown key " + in_quotes(entry.key) + " in [" + section.name + "]" +
                      suggestion(entry.key, keys));
}

// One `key = value` line being checked, with what its errors must name.
struct Field {
  const IniFile& ini;
  const IniSection& section;
  const IniEntry& entry;

  // "FILE:LINE: [section] key: reason".
  Failure<std::string> error(std::string_view reason) const {
    return error_at(ini, entry.line,
                    "[" + section.name + "] " + entry.key + ": " + std::string(reason));
  }
  // "FILE:LINE: [section] key: 'value' reason".
  Failure<std::string> bad(std::string_view reason) const {
    return error(in_quotes(entry.value) + " " + std::string(reason));
  }
};

Result<std::uint64_t> natural(const Field& f, std::uint64_t min, std::uint64_t max) {
  const std::string& v = f.entry.value;
  if (v.empty() || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return f.bad("is not a non-negative integer");
  }
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc()) return f.bad("is too large");
  if (n < min || n > max) {
    if (max == kNoLimit) return f.bad("must be at least " + std::to_string(min));
    return f.bad("is not in the range " + std::to_string(min) + ".." + std::to_string(max));
  }
  return n;
}

Result<Micros> duration(const Field& f) {
  auto d = model::parse_duration(f.entry.value);
  if (!d) return f.bad("is not a duration (like 30s, 5m, 1h30m, 1d or inf)");
  return *d;
}

Result<model::Address> address(const Field& f, std::string_view text, int family) {
  auto a = model::parse_address(text);
  if (!a || (family != 0 && a->family != family)) {
    return f.bad(family == 4   ? "is not an IPv4 address"
                 : family == 6 ? "is not an IPv6 address"
                               : "is not an IPv4 or IPv6 address");
  }
  return *a;
}

// `text` as a path relative to the directory of the configuration file (see the header).
std::string resolve(const IniFile& ini, std::string_view text) {
  const fs::path p(text);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (fs::path(ini.path).parent_path() / p).lexically_normal().string();
}

Result<std::string> existing_file(const Field& f, std::string_view text) {
  if (text.empty()) return f.error("no file name given");
  std::string path = resolve(f.ini, text);
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) return f.error("file " + in_quotes(path) + " does not exist");
  if (!fs::is_regular_file(st)) return f.error(in_quotes(path) + " is not a regular file");
  return path;
}

Result<std::string> existing_directory(const Field& f, std::string_view text) {
  if (text.empty()) return f.error("no directory given");
  std::string path = resolve(f.ini, text);
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return f.error(in_quotes(path) + " is not a directory");
  return path;
}

Result<std::uint16_t> port(const Field& f) {
  auto n = natural(f, 1, 65535);
  if (!n) return fail(std::move(n).error());
  return static_cast<std::uint16_t>(*n);
}

std::string with_leading_slash(const std::string& path) {
  return path.starts_with('/') ? path : "/" + path;
}

// ---- [component] and [engine] --------------------------------------------------------------

// A known key of a section and how its value lands in the config.
struct KeyRule {
  std::string_view key;
  Status<> (*apply)(const Field&, ComponentConfig&);
};

// Stores `r` through `set` or passes its error on.
template <class T, class Set>
Status<> store(Result<T> r, Set set) {
  if (!r) return fail(std::move(r).error());
  set(std::move(*r));
  return Ok{};
}

Status<> set_workflow(const Field& f, ComponentConfig& c) {
  if (f.entry.value == "client-initiated") {
    c.workflow = Workflow::kClientInitiated;
  } else if (f.entry.value == "component-initiated") {
    c.workflow = Workflow::kComponentInitiated;
  } else {
    return f.bad("is not client-initiated or component-initiated");
  }
  return Ok{};
}

// A file path, a file:// URL, or empty / the core registry URI for the built-in core.
Status<> set_registry_uri(const Field& f, ComponentConfig& c) {
  std::string_view v = f.entry.value;
  if (v.empty() || v == model::kCoreRegistryUri) {
    c.registry_uri.clear();
    return Ok{};
  }
  if (v.starts_with("file://")) {
    v.remove_prefix(7);
  } else if (v.find("://") != std::string_view::npos) {
    return f.bad("is a URL: only the core registry URI or a file path is supported");
  }
  return store(existing_file(f, v), [&](std::string p) { c.registry_uri = std::move(p); });
}

Status<> set_registry_preload(const Field& f, ComponentConfig& c) {
  if (f.entry.value.empty()) return Ok{};
  return store(existing_file(f, f.entry.value),
               [&](std::string p) { c.registry_preload = std::move(p); });
}

// Comma-separated, items trimmed, empty items skipped.
Status<> set_registries(const Field& f, ComponentConfig& c) {
  std::string_view rest = f.entry.value;
  while (!rest.empty()) {
    const std::size_t comma = std::min(rest.find(','), rest.size());
    const std::string_view item = trim(rest.substr(0, comma));
    rest.remove_prefix(std::min(comma + 1, rest.size()));
    if (item.empty()) continue;
    auto p = existing_file(f, item);
    if (!p) return fail(std::move(p).error());
    c.registries.push_back(std::move(*p));
  }
  return Ok{};
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

constexpr KeyRule kComponentKeys[] = {
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

constexpr KeyRule kEngineKeys[] = {
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
    {"header-timeout",
     [](const Field& f, ComponentConfig& c) {
       return store(duration(f), [&](auto d) { c.engine.header_timeout = d; });
     }},
    {"min-body-rate",
     [](const Field& f, ComponentConfig& c) {
       return store(natural(f, 1, kNoLimit), [&](auto n) { c.engine.min_body_rate = n; });
     }},
    {"max-connections",
     [](const Field& f, ComponentConfig& c) {
       return store(natural(f, 1, kNoLimit), [&](auto n) { c.engine.max_connections = n; });
     }},
    {"max-connections-per-peer",
     [](const Field& f, ComponentConfig& c) {
       return store(natural(f, 1, kNoLimit),
                    [&](auto n) { c.engine.max_connections_per_peer = n; });
     }},
    {"max-request-bytes",
     [](const Field& f, ComponentConfig& c) {
       return store(natural(f, 1, kNoLimit), [&](auto n) { c.engine.max_request_bytes = n; });
     }},
    {"max-output-bytes",
     [](const Field& f, ComponentConfig& c) {
       return store(natural(f, 1, kNoLimit), [&](auto n) { c.engine.max_output_bytes = n; });
     }},
    {"log-level",
     [](const Field& f, ComponentConfig& c) -> Status<> {
       auto level = log::parse_level(f.entry.value);
       if (!level) return f.bad("is not a log level (error, warn, info, debug)");
       c.engine.log_level = *level;
       return Ok{};
     }},
};

template <std::size_t N>
std::vector<std::string_view> rule_keys(const KeyRule (&rules)[N]) {
  std::vector<std::string_view> keys;
  for (const KeyRule& r : rules) keys.push_back(r.key);
  return keys;
}

template <std::size_t N>
Status<> read_keys(const IniFile& ini, const IniSection& section, const KeyRule (&rules)[N],
                   ComponentConfig& c) {
  for (const IniEntry& e : section.entries) {
    const auto* rule = std::find_if(std::begin(rules), std::end(rules),
                                    [&](const KeyRule& r) { return r.key == e.key; });
    if (rule == std::end(rules)) return unknown_key(ini, section, e, rule_keys(rules));
    if (auto st = rule->apply(Field{ini, section, e}, c); !st) return st;
  }
  return Ok{};
}

// ---- [TLS], [Roles], [Authorizations] ------------------------------------------------------

constexpr std::string_view kTlsKeys[] = {"cert", "key", "ca-chain"};

Status<> read_tls(const IniFile& ini, const IniSection& section, ComponentConfig& c) {
  TlsFiles tls;
  std::string* slots[] = {&tls.cert, &tls.key, &tls.ca_chain};
  for (const IniEntry& e : section.entries) {
    const auto* k = std::find(std::begin(kTlsKeys), std::end(kTlsKeys), e.key);
    if (k == std::end(kTlsKeys)) return unknown_key(ini, section, e, kTlsKeys);
    auto path = existing_file(Field{ini, section, e}, e.value);
    if (!path) return fail(std::move(path).error());
    *slots[k - std::begin(kTlsKeys)] = std::move(*path);
  }
  for (std::size_t i = 0; i < std::size(kTlsKeys); ++i) {
    if (slots[i]->empty()) {
      return error_at(ini, section.line, "[TLS] has no " + in_quotes(kTlsKeys[i]) + " key");
    }
  }
  c.tls = std::move(tls);
  return Ok{};
}

// Roles separated by ',', each trimmed of blanks; empty items dropped. (The RI splits on ','
// only, so that its `guest, admin` holds "guest" and " admin", a role nobody holds.)
std::vector<std::string> split_roles(std::string_view value) {
  std::vector<std::string> roles;
  for (;;) {
    const std::size_t comma = value.find(',');
    std::string_view role = value.substr(0, comma);
    while (!role.empty() && (role.front() == ' ' || role.front() == '\t')) role.remove_prefix(1);
    while (!role.empty() && (role.back() == ' ' || role.back() == '\t')) role.remove_suffix(1);
    if (!role.empty()) roles.emplace_back(role);
    if (comma == std::string_view::npos) return roles;
    value.remove_prefix(comma + 1);
  }
}

void read_role_lists(const IniSection& section, std::vector<RoleList>& out) {
  for (const IniEntry& e : section.entries) out.push_back({e.key, split_roles(e.value)});
}

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
  if (name == "component") return read_keys(ini, s, kComponentKeys, c);
  if (name == "engine") return read_keys(ini, s, kEngineKeys, c);
  if (name == "TLS") return read_tls(ini, s, c);
  if (name == "Roles") {
    read_role_lists(s, c.roles);
  } else if (name == "Authorizations") {
    read_role_lists(s, c.authorizations);
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
  std::vector<std::string> files;
  if (!config.registry_preload.empty()) files.push_back(config.registry_preload);
  if (!config.registry_uri.empty()) files.push_back(config.registry_uri);
  files.insert(files.end(), config.registries.begin(), config.registries.end());
  return files;
}

bool authorized(const ComponentConfig& config, std::string_view identity,
                std::string_view capability_label) {
  if (!config.tls || !config.access_control) return true;
  const RoleList* grant = nullptr;
  for (const RoleList& a : config.authorizations) {
    if (a.key == capability_label) grant = &a;  // the last line for the label wins
  }
  if (grant == nullptr) return false;
  const auto held = std::find_if(config.roles.begin(), config.roles.end(),
                                 [&](const RoleList& r) { return r.key == identity; });
  if (held == config.roles.end()) return false;
  return std::any_of(grant->roles.begin(), grant->roles.end(), [&](const std::string& role) {
    return std::find(held->roles.begin(), held->roles.end(), role) != held->roles.end();
  });
}

}  // namespace mplane::conf
