// The pieces every configuration loader of conf/ is made of (component_config.cc,
// supervisor_config.cc): one `key = value` line being checked (Field), value checks with errors
// "FILE:LINE: [section] key: reason", paths resolved against the configuration file's directory,
// "did you mean" suggestions, and tables of known keys (KeyRule) read strictly. Internal to conf/.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "conf/access_policy.h"
#include "conf/component_config.h"
#include "conf/ini.h"
#include "parsers/base/log.h"
#include "parsers/base/result.h"
#include "parsers/mplane/primitive.h"
#include "parsers/mplane/time_value.h"

namespace mplane::conf::fields {

inline constexpr std::uint64_t kNoLimit = std::numeric_limits<std::uint64_t>::max();

// " (did you mean 'x'?)" for the closest candidate within a small edit distance (case and '_'
// against '-' folded), else "".
std::string suggestion(std::string_view word, std::span<const std::string_view> candidates);

// "FILE:LINE: reason" as a failure.
Failure<std::string> error_at(const IniFile& ini, int line, std::string_view reason);
// "FILE:LINE: unknown key 'k' in [section]" with a suggestion among `keys`.
Failure<std::string> unknown_key(const IniFile& ini, const IniSection& section,
                                 const IniEntry& entry, std::span<const std::string_view> keys);

// One `key = value` line being checked, with what its errors must name.
struct Field {
  const IniFile& ini;
  const IniSection& section;
  const IniEntry& entry;

  // "FILE:LINE: [section] key: reason".
  Failure<std::string> error(std::string_view reason) const;
  // "FILE:LINE: [section] key: 'value' reason".
  Failure<std::string> bad(std::string_view reason) const;
};

Result<std::uint64_t> natural(const Field& f, std::uint64_t min, std::uint64_t max);
Result<model::Micros> duration(const Field& f);  // 30s, 5m, 1h30m, 1d, inf
Result<std::uint16_t> port(const Field& f);      // 1..65535
// An address of `family` (4, 6; 0 for either) in `text`.
Result<model::Address> address(const Field& f, std::string_view text, int family);
Result<log::Level> log_level(const Field& f);
Result<Workflow> workflow(const Field& f);  // client-initiated, component-initiated
// `text` split on ',', items trimmed, empty items skipped.
std::vector<std::string_view> comma_list(std::string_view text);

// `text` as a path relative to the directory of the configuration file (absolute paths as
// given), lexically normalised.
std::string resolve(const IniFile& ini, std::string_view text);
// The resolved path of an existing regular file / directory named by `text`.
Result<std::string> existing_file(const Field& f, std::string_view text);
Result<std::string> existing_directory(const Field& f, std::string_view text);
// The value as comma-separated existing files (items trimmed, empty items skipped), resolved.
Result<std::vector<std::string>> existing_files(const Field& f);
std::string with_leading_slash(const std::string& path);

// A registry_uri value: empty or the core registry URI (the built-in core: nullopt), a file path
// or file:// URL (the resolved path of an existing file). With `urls`, another URL is returned
// as given (it must name a registry loaded otherwise: the caller checks); without, it is an error.
struct RegistryUri {
  std::string file;  // resolved path, or empty
  std::string uri;   // a URL naming a loaded registry, or empty
};
Result<RegistryUri> registry_uri(const Field& f, bool urls);

// Registry files in load order: `preload`, `uri` (each unless empty), then `more`.
std::vector<std::string> registry_load_order(const std::string& preload, const std::string& uri,
                                             const std::vector<std::string>& more);

// [TLS]: cert, key and ca-chain, each an existing file; all three required.
Result<TlsFiles> read_tls(const IniFile& ini, const IniSection& section);
// [Roles] or [Authorizations]: every line, file order.
std::vector<RoleList> role_lists(const IniSection& section);

// Stores `r` through `set` or passes its error on.
template <class T, class Set>
Status<> store(Result<T> r, Set set) {
  if (!r) return fail(std::move(r).error());
  set(std::move(*r));
  return Ok{};
}

// A known key of a section and how its value lands in a `Config`.
template <class Config>
struct KeyRule {
  std::string_view key;
  Status<> (*apply)(const Field&, Config&);
};

// The keys of a section: rules and the object they write.
template <class Config>
struct KeyTable {
  std::span<const KeyRule<Config>> rules;
  Config& target;

  std::optional<Status<>> apply(const Field& f) const {
    for (const KeyRule<Config>& r : rules) {
      if (r.key == f.entry.key) return r.apply(f, target);
    }
    return std::nullopt;  // not one of ours
  }
  void add_keys(std::vector<std::string_view>& keys) const {
    for (const KeyRule<Config>& r : rules) keys.push_back(r.key);
  }
};
template <class Config, std::size_t N>
KeyTable<Config> keys_of(const KeyRule<Config> (&rules)[N], Config& target) {
  return {rules, target};
}

// Reads every line of `section` through the first table that knows its key; a key no table
// knows is an error, with a suggestion among all of them.
template <class... Configs>
Status<> read_keys(const IniFile& ini, const IniSection& section, KeyTable<Configs>... tables) {
  for (const IniEntry& e : section.entries) {
    const Field f{ini, section, e};
    std::optional<Status<>> applied;
    ((applied ? void() : void(applied = tables.apply(f))), ...);
    if (!applied) {
      std::vector<std::string_view> keys;
      (tables.add_keys(keys), ...);
      return unknown_key(ini, section, e, keys);
    }
    if (!*applied) return std::move(*applied);
  }
  return Ok{};
}

// The HTTP limits against hostile peers ([engine] of a component, [supervisor] of a supervisor):
// header-timeout, min-body-rate, max-connections, max-connections-per-peer, max-request-bytes,
// max-output-bytes.
std::span<const KeyRule<HttpLimits>> http_limit_keys();

}  // namespace mplane::conf::fields
