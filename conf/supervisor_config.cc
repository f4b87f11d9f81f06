#include "conf/supervisor_config.h"

#include <charconv>
#include <filesystem>
#include <system_error>
#include <utility>

#include "conf/config_fields.h"

namespace mplane::conf {
namespace {

using namespace fields;  // NOLINT(google-build-using-namespace): the loaders' vocabulary
using SupervisorKey = KeyRule<SupervisorConfig>;
namespace fs = std::filesystem;

// The value of [supervisor] access-files that searches the fork's places.
constexpr std::string_view kSearch = "search";

Status<> set_text(const Field& f, std::string& out) {
  out = f.entry.value;
  return Ok{};
}

Status<> set_path(const Field& f, std::string& out) {
  out = with_leading_slash(f.entry.value);
  return Ok{};
}

Status<> set_host(const Field& f, ListenAddress& out) {
  return store(address(f, f.entry.value, 0), [&](auto) { out.host = f.entry.value; });
}

Status<> set_duration(const Field& f, model::Micros& out) {
  return store(duration(f), [&](model::Micros d) { out = d; });
}

Status<> add_registries(const Field& f, SupervisorConfig& c) {
  return store(existing_files(f), [&](std::vector<std::string> files) {
    c.registries.insert(c.registries.end(), files.begin(), files.end());
  });
}

// ---- [client]: the component face ------------------------------------------------------------

Status<> set_southbound(const Field& f, SupervisorConfig& c) {
  return store(workflow(f), [&](Workflow w) { c.southbound = w; });
}

// Comma-separated http:// or https:// URLs, items trimmed, empty items skipped.
Status<> set_component_urls(const Field& f, SupervisorConfig& c) {
  for (std::string_view url : comma_list(f.entry.value)) {
    if (!url.starts_with("http://") && !url.starts_with("https://")) {
      return f.error(in_quotes(url) + " is not an http:// or https:// URL");
    }
    c.component_urls.emplace_back(url);
  }
  return Ok{};
}

constexpr SupervisorKey kClientKeys[] = {
    {"workflow", set_southbound},
    {"listen-host",
     [](const Field& f, SupervisorConfig& c) { return set_host(f, c.component_face); }},
    {"listen-port",
     [](const Field& f, SupervisorConfig& c) {
       return store(port(f), [&](auto p) { c.component_face.port = p; });
     }},
    {"listen-spec-link",
     [](const Field& f, SupervisorConfig& c) { return set_text(f, c.listen_spec_link); }},
    {"registration-path",
     [](const Field& f, SupervisorConfig& c) { return set_path(f, c.registration_path); }},
    {"specification-path",
     [](const Field& f, SupervisorConfig& c) { return set_path(f, c.specification_path); }},
    {"result-path", [](const Field& f, SupervisorConfig& c) { return set_path(f, c.result_path); }},
    {"component-urls", set_component_urls},
};

// ---- [component]: the client face ------------------------------------------------------------

Status<> check_northbound(const Field& f, SupervisorConfig&) {
  if (f.entry.value == "client-initiated") return Ok{};
  if (f.entry.value == "component-initiated") {
    return f.error(
        "a supervisor registering with another supervisor is not supported: the "
        "client face serves clients (client-initiated)");
  }
  return f.bad("is not client-initiated");
}

Status<> set_registry_uri(const Field& f, SupervisorConfig& c) {
  return store(registry_uri(f, true), [&](RegistryUri r) {
    c.registry_uri = std::move(r.file);
    c.registry_uri_name = std::move(r.uri);
  });
}

Status<> set_registry_preload(const Field& f, SupervisorConfig& c) {
  if (f.entry.value.empty()) return Ok{};
  return store(existing_file(f, f.entry.value),
               [&](std::string p) { c.registry_preload = std::move(p); });
}

constexpr SupervisorKey kComponentKeys[] = {
    {"workflow", check_northbound},
    {"registry_uri", set_registry_uri},
    {"registry_preload", set_registry_preload},
    {"registries", add_registries},
    {"listen-host", [](const Field& f, SupervisorConfig& c) { return set_host(f, c.client_face); }},
    {"listen-port",
     [](const Field& f, SupervisorConfig& c) {
       return store(port(f), [&](auto p) { c.client_face.port = p; });
     }},
    {"listen-cap-link",
     [](const Field& f, SupervisorConfig& c) { return set_text(f, c.listen_cap_link); }},
};

// ---- [supervisor] ----------------------------------------------------------------------------

Status<> set_listen(const Field& f, SupervisorConfig& c) {
  auto a = parse_listen_address(f.entry.value);
  if (!a) return f.bad("is not ADDR:PORT (like 0.0.0.0:8888 or [::]:8888)");
  c.listen = std::move(*a);
  return Ok{};
}

// The SQLite file: created if missing, so only its directory must exist.
Status<> set_state(const Field& f, SupervisorConfig& c) {
  if (f.entry.value.empty()) return f.error("no file name given");
  std::string path = resolve(f.ini, f.entry.value);
  std::error_code ec;
  const fs::path dir = fs::path(path).parent_path();
  if (!dir.empty() && !fs::is_directory(dir, ec)) {
    return f.error("directory " + in_quotes(dir.string()) + " does not exist");
  }
  if (fs::is_directory(path, ec)) return f.error(in_quotes(path) + " is a directory");
  c.state = std::move(path);
  return Ok{};
}

// A directory holding users.conf and caps.conf, or `search` (find_fork_access_files()).
Status<> set_access_files(const Field& f, SupervisorConfig& c) {
  std::optional<std::pair<std::string, std::string>> files;
  if (f.entry.value == kSearch) {
    files = find_fork_access_files();
    if (!files) {
      return f.error("users.conf and caps.conf are not in /etc/mplane, ~ or $MPLANE_CONF_DIR");
    }
    c.access_files = std::string(kSearch);
  } else {
    auto dir = existing_directory(f, f.entry.value);
    if (!dir) return fail(std::move(dir).error());
    files = find_fork_access_files({*dir});
    if (!files) return f.error(in_quotes(*dir) + " does not hold both users.conf and caps.conf");
    c.access_files = std::move(*dir);
  }
  auto policy = AccessPolicy::from_fork_files(files->first, files->second);
  if (!policy) return fail(std::move(policy).error());
  c.access = std::move(*policy);
  return Ok{};
}

// A bound of [supervisor]: at least 1.
Status<> set_limit(const Field& f, std::uint64_t& out) {
  return store(natural(f, 1, kNoLimit), [&](auto n) { out = n; });
}

constexpr SupervisorKey kSupervisorKeys[] = {
    {"listen", set_listen},
    {"state", set_state},
    {"poll-idle", [](const Field& f, SupervisorConfig& c) { return set_duration(f, c.poll_idle); }},
    {"poll-hold", [](const Field& f, SupervisorConfig& c) { return set_duration(f, c.poll_hold); }},
    {"withdraw-after",
     [](const Field& f, SupervisorConfig& c) { return set_duration(f, c.withdraw_after); }},
    {"result-retention",
     [](const Field& f, SupervisorConfig& c) { return set_duration(f, c.result_retention); }},
    {"immediate-wait",
     [](const Field& f, SupervisorConfig& c) { return set_duration(f, c.immediate_wait); }},
    {"access-files", set_access_files},
    {"max-probes",
     [](const Field& f, SupervisorConfig& c) { return set_limit(f, c.limits.max_probes); }},
    {"max-capabilities-per-probe",
     [](const Field& f, SupervisorConfig& c) {
       return set_limit(f, c.limits.max_capabilities_per_probe);
     }},
    {"max-registration-bytes",
     [](const Field& f, SupervisorConfig& c) {
       return set_limit(f, c.limits.max_registration_bytes);
     }},
    {"max-registered-bytes",
     [](const Field& f, SupervisorConfig& c) {
       return set_limit(f, c.limits.max_registered_bytes);
     }},
    {"max-specification-bytes",
     [](const Field& f, SupervisorConfig& c) {
       return set_limit(f, c.limits.max_specification_bytes);
     }},
    {"max-queued-per-probe",
     [](const Field& f, SupervisorConfig& c) {
       return set_limit(f, c.limits.max_queued_per_probe);
     }},
    {"max-queued-bytes",
     [](const Field& f, SupervisorConfig& c) { return set_limit(f, c.limits.max_queued_bytes); }},
    {"max-relays",
     [](const Field& f, SupervisorConfig& c) { return set_limit(f, c.limits.max_relays); }},
    {"max-relays-per-client",
     [](const Field& f, SupervisorConfig& c) {
       return store(natural(f, 0, kNoLimit), [&](auto n) { c.limits.max_relays_per_client = n; });
     }},
    {"max-reply-bytes",
     [](const Field& f, SupervisorConfig& c) { return set_limit(f, c.limits.max_reply_bytes); }},
    {"registries", add_registries},
    {"log-level",
     [](const Field& f, SupervisorConfig& c) {
       return store(log_level(f), [&](auto level) { c.log_level = level; });
     }},
};

// ---- sections and whole-file rules -----------------------------------------------------------

constexpr std::string_view kSectionNames[] = {
    "TLS", "Roles", "Authorizations", "client", "component", "supervisor", "gui"};

Status<> read_section(const IniFile& ini, const IniSection& s, SupervisorConfig& c) {
  const std::string_view name = s.name;
  if (name == "client") return read_keys(ini, s, keys_of(kClientKeys, c));
  if (name == "component") return read_keys(ini, s, keys_of(kComponentKeys, c));
  if (name == "supervisor") {
    return read_keys(ini, s, keys_of(kSupervisorKeys, c),
                     KeyTable<HttpLimits>{http_limit_keys(), c.http});
  }
  if (name == "TLS") return store(read_tls(ini, s), [&](TlsFiles t) { c.tls = std::move(t); });
  if (name == "gui") {
    c.other_sections.push_back(s);
    return Ok{};
  }
  if (name != "Roles" && name != "Authorizations") {  // both read by read_roles()
    return error_at(ini, s.line,
                    "unknown section [" + s.name + "]" + suggestion(name, kSectionNames));
  }
  return Ok{};
}

// [Roles] + [Authorizations] into the policy; not with access-files; [TLS] needs one of them.
Status<> read_roles(const IniFile& ini, SupervisorConfig& c) {
  const IniSection* roles = ini.find("Roles");
  const IniSection* authorizations = ini.find("Authorizations");
  if ((roles != nullptr) != (authorizations != nullptr)) {
    const IniSection* one = roles != nullptr ? roles : authorizations;
    return error_at(ini, one->line, "[Roles] and [Authorizations] go together: add the other");
  }
  if (roles != nullptr && !c.access_files.empty()) {
    return error_at(ini, roles->line,
                    "[Roles]/[Authorizations] and [supervisor] access-files both set access "
                    "control: keep one");
  }
  if (roles != nullptr) {
    c.access = AccessPolicy::from_roles(role_lists(*roles), role_lists(*authorizations));
  }
  if (c.tls && !c.access.restricted()) {
    return error_at(ini, ini.find("TLS")->line,
                    "[TLS] needs [Roles] and [Authorizations], or [supervisor] access-files "
                    "(TLS switches on access control)");
  }
  return Ok{};
}

// [supervisor] listen puts both faces on one address: a listen-port of a face contradicts it.
Status<> check_listen(const IniFile& ini, const SupervisorConfig& c) {
  if (!c.listen) return Ok{};
  for (const char* face : {"client", "component"}) {
    const IniSection* s = ini.find(face);
    const IniEntry* e = s != nullptr ? s->find("listen-port") : nullptr;
    if (e != nullptr) {
      return error_at(ini, e->line,
                      "[" + std::string(face) +
                          "] listen-port contradicts [supervisor] listen (both faces on one "
                          "port): keep one");
    }
  }
  return Ok{};
}

}  // namespace

Result<ListenAddress> parse_listen_address(std::string_view text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return fail("expected ADDR:PORT");
  std::string_view host = text.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string_view digits = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || port > 65535) {
    return fail("bad port in " + std::string(text));
  }
  if (!model::parse_address(host)) return fail("bad address in " + std::string(text));
  return ListenAddress{std::string(host), static_cast<std::uint16_t>(port)};
}

Result<SupervisorConfig> supervisor_config_from_ini(const IniFile& ini) {
  SupervisorConfig config;
  config.path = ini.path;
  for (const IniSection& s : ini.sections) {
    if (auto st = read_section(ini, s, config); !st) return fail(std::move(st).error());
  }
  if (auto st = read_roles(ini, config); !st) return fail(std::move(st).error());
  if (auto st = check_listen(ini, config); !st) return fail(std::move(st).error());
  return config;
}

Result<SupervisorConfig> load_supervisor_config(const std::string& path) {
  auto ini = load_ini(path);
  if (!ini) return fail(std::move(ini).error());
  return supervisor_config_from_ini(*ini);
}

std::vector<std::string> registry_files(const SupervisorConfig& config) {
  return registry_load_order(config.registry_preload, config.registry_uri, config.registries);
}

Status<> check_registry_uri(const SupervisorConfig& config, const model::RegistrySet& loaded) {
  if (config.registry_uri_name.empty() || loaded.has_uri(config.registry_uri_name)) return Ok{};
  return fail(config.path + ": [component] registry_uri: no loaded registry is named " +
              config.registry_uri_name + " (load its file with registry_preload or registries)");
}

}  // namespace mplane::conf
