#include "conf/config_fields.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <system_error>
#include <utility>

#include "parsers/mplane/registry.h"

namespace mplane::conf::fields {
namespace {

namespace fs = std::filesystem;

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

}  // namespace

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

Failure<std::string> Field::error(std::string_view reason) const {
  return error_at(ini, entry.line,
                  "[" + section.name + "] " + entry.key + ": " + std::string(reason));
}

Failure<std::string> Field::bad(std::string_view reason) const {
  return error(in_quotes(entry.value) + " " + std::string(reason));
}

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

Result<model::Micros> duration(const Field& f) {
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

std::vector<std::string_view> comma_list(std::string_view text) {
  std::vector<std::string_view> items;
  while (!text.empty()) {
    const std::size_t comma = std::min(text.find(','), text.size());
    const std::string_view item = trim(text.substr(0, comma));
    text.remove_prefix(std::min(comma + 1, text.size()));
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

Result<std::vector<std::string>> existing_files(const Field& f) {
  std::vector<std::string> files;
  for (std::string_view item : comma_list(f.entry.value)) {
    auto p = existing_file(f, item);
    if (!p) return fail(std::move(p).error());
    files.push_back(std::move(*p));
  }
  return files;
}

Result<Workflow> workflow(const Field& f) {
  if (f.entry.value == "client-initiated") return Workflow::kClientInitiated;
  if (f.entry.value == "component-initiated") return Workflow::kComponentInitiated;
  return f.bad("is not client-initiated or component-initiated");
}

Result<log::Level> log_level(const Field& f) {
  auto level = log::parse_level(f.entry.value);
  if (!level) return f.bad("is not a log level (error, warn, info, debug)");
  return *level;
}

Result<RegistryUri> registry_uri(const Field& f, bool urls) {
  std::string_view v = f.entry.value;
  if (v.empty() || v == model::kCoreRegistryUri) return RegistryUri{};
  if (v.starts_with("file://")) {
    v.remove_prefix(7);
  } else if (v.find("://") != std::string_view::npos) {
    if (urls) return RegistryUri{{}, std::string(v)};
    return f.bad("is a URL: only the core registry URI or a file path is supported");
  }
  auto file = existing_file(f, v);
  if (!file) return fail(std::move(file).error());
  return RegistryUri{std::move(*file), {}};
}

std::vector<std::string> registry_load_order(const std::string& preload, const std::string& uri,
                                             const std::vector<std::string>& more) {
  std::vector<std::string> files;
  if (!preload.empty()) files.push_back(preload);
  if (!uri.empty()) files.push_back(uri);
  files.insert(files.end(), more.begin(), more.end());
  return files;
}

// ---- sections --------------------------------------------------------------------------------

Result<TlsFiles> read_tls(const IniFile& ini, const IniSection& section) {
  static constexpr std::string_view kTlsKeys[] = {"cert", "key", "ca-chain"};
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
  return tls;
}

std::vector<RoleList> role_lists(const IniSection& section) {
  std::vector<RoleList> out;
  for (const IniEntry& e : section.entries) out.push_back({e.key, split_roles(e.value)});
  return out;
}

namespace {

constexpr KeyRule<HttpLimits> kHttpLimitKeys[] = {
    {"header-timeout",
     [](const Field& f, HttpLimits& l) {
       return store(duration(f), [&](auto d) { l.header_timeout = d; });
     }},
    {"min-body-rate",
     [](const Field& f, HttpLimits& l) {
       return store(natural(f, 1, kNoLimit), [&](auto n) { l.min_body_rate = n; });
     }},
    {"max-connections",
     [](const Field& f, HttpLimits& l) {
       return store(natural(f, 1, kNoLimit), [&](auto n) { l.max_connections = n; });
     }},
    {"max-connections-per-peer",
     [](const Field& f, HttpLimits& l) {
       return store(natural(f, 1, kNoLimit), [&](auto n) { l.max_connections_per_peer = n; });
     }},
    {"max-request-bytes",
     [](const Field& f, HttpLimits& l) {
       return store(natural(f, 1, kNoLimit), [&](auto n) { l.max_request_bytes = n; });
     }},
    {"max-output-bytes",
     [](const Field& f, HttpLimits& l) {
       return store(natural(f, 1, kNoLimit), [&](auto n) { l.max_output_bytes = n; });
     }},
};

}  // namespace

std::span<const KeyRule<HttpLimits>> http_limit_keys() { return kHttpLimitKeys; }

}  // namespace mplane::conf::fields
