#include "conf/access_policy.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "conf/config_fields.h"
#include "conf/ini.h"

namespace mplane::conf {
namespace {

namespace fs = std::filesystem;

// One `KEY: roles` line of a fork file.
struct ForkLine {
  std::string key;
  std::vector<std::string> roles;
  int line = 0;
};

// The lines of a fork file (see AccessPolicy::from_fork_files), or "FILE:LINE: reason".
Result<std::vector<ForkLine>> read_fork_lines(const std::string& path, std::string_view what) {
  auto text = read_config_file(path);
  if (!text) return fail(std::move(text).error());
  std::vector<ForkLine> lines;
  std::string_view rest = *text;
  for (int number = 1; !rest.empty(); ++number) {
    const std::size_t end = std::min(rest.find('\n'), rest.size());
    const std::string_view line = trim(rest.substr(0, end));
    rest.remove_prefix(std::min(end + 1, rest.size()));
    if (line.empty() || line.front() == '#') continue;
    const std::size_t colon = line.rfind(':');
    if (colon == std::string_view::npos) {
      return fail(located(path, number, "expected '" + std::string(what) + ": role1, role2'"));
    }
    lines.push_back(
        {std::string(trim(line.substr(0, colon))), split_roles(line.substr(colon + 1)), number});
  }
  return lines;
}

// "FILE:LINE: WHAT again (first on line N)" if `seen` already holds `key`; records it otherwise.
Status<> once(std::map<std::string, int, std::less<>>& seen, const std::string& key,
              std::string_view what, const std::string& path, int line) {
  const auto [it, inserted] = seen.try_emplace(key, line);
  if (inserted) return Ok{};
  return fail(located(
      path, line, std::string(what) + " again (first on line " + std::to_string(it->second) + ")"));
}

bool share_a_role(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::any_of(a.begin(), a.end(), [&](const std::string& role) {
    return std::find(b.begin(), b.end(), role) != b.end();
  });
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

}  // namespace

std::vector<std::string> split_roles(std::string_view value) {
  const std::vector<std::string_view> roles = fields::comma_list(value);
  return {roles.begin(), roles.end()};
}

AccessPolicy::AccessPolicy() = default;

AccessPolicy AccessPolicy::from_roles(std::vector<RoleList> roles,
                                      std::vector<RoleList> authorizations) {
  AccessPolicy policy;
  policy.restricted_ = true;
  for (RoleList& r : roles) policy.users_.try_emplace(std::move(r.key), std::move(r.roles));
  for (RoleList& a : authorizations)
    policy.grants_[std::move(a.key)].every_probe = std::move(a.roles);
  return policy;
}

Result<AccessPolicy> AccessPolicy::from_fork_files(const std::string& users_conf,
                                                   const std::string& caps_conf) {
  AccessPolicy policy;
  policy.restricted_ = true;
  if (auto st = policy.add_fork_users(users_conf); !st) return fail(std::move(st).error());
  if (auto st = policy.add_fork_caps(caps_conf); !st) return fail(std::move(st).error());
  return policy;
}

Status<> AccessPolicy::add_fork_users(const std::string& path) {
  auto users = read_fork_lines(path, "identity");
  if (!users) return fail(std::move(users).error());
  std::map<std::string, int, std::less<>> seen;
  for (ForkLine& u : *users) {
    if (u.key.empty()) return fail(located(path, u.line, "no identity before ':'"));
    if (auto st = once(seen, u.key, "identity " + in_quotes(u.key), path, u.line); !st) return st;
    users_.emplace(std::move(u.key), std::move(u.roles));
  }
  return Ok{};
}

Status<> AccessPolicy::add_fork_caps(const std::string& path) {
  auto caps = read_fork_lines(path, "label, component-identity");
  if (!caps) return fail(std::move(caps).error());
  std::map<std::string, int, std::less<>> seen;
  for (ForkLine& c : *caps) {
    const std::size_t comma = c.key.find(',');
    const std::string label(trim(std::string_view(c.key).substr(0, comma)));
    const std::string probe(
        comma == std::string::npos ? "" : trim(std::string_view(c.key).substr(comma + 1)));
    if (label.empty()) return fail(located(path, c.line, "no capability label"));
    if (comma != std::string::npos && probe.empty()) {
      return fail(located(path, c.line, "no component identity after ','"));
    }
    std::string what = "label " + in_quotes(label);
    what += probe.empty() ? " for every probe" : " for " + in_quotes(probe);
    std::string key = label;  // label and probe, '\n' between: neither holds one
    key += '\n';
    key += probe;
    if (auto st = once(seen, key, what, path, c.line); !st) return st;
    Grant& grant = grants_[label];
    if (probe.empty()) {
      grant.every_probe = std::move(c.roles);
    } else {
      grant.per_probe.emplace(probe, std::move(c.roles));
    }
  }
  return Ok{};
}

const AccessPolicy::Roles* AccessPolicy::granted_roles(const Grant& grant,
                                                       std::string_view probe_identity) {
  if (!probe_identity.empty()) {
    const auto it = grant.per_probe.find(probe_identity);
    if (it != grant.per_probe.end()) return &it->second;
  }
  return grant.every_probe ? &*grant.every_probe : nullptr;
}

bool AccessPolicy::allows(std::string_view identity, std::string_view label,
                          std::string_view probe_identity) const {
  if (!restricted_) return true;
  const auto user = users_.find(identity);
  const auto grant = grants_.find(label);
  if (user == users_.end() || grant == grants_.end()) return false;
  const Roles* granted = granted_roles(grant->second, probe_identity);
  return granted != nullptr && share_a_role(*granted, user->second);
}

std::vector<std::string> AccessPolicy::roles_of(std::string_view identity) const {
  const auto user = users_.find(identity);
  return user == users_.end() ? std::vector<std::string>{} : user->second;
}

std::vector<std::string> fork_access_dirs() {
  std::vector<std::string> dirs = {"/etc/mplane"};
  for (const char* variable : {"HOME", "MPLANE_CONF_DIR"}) {
    const char* value = std::getenv(variable);  // NOLINT(concurrency-mt-unsafe): start-up only
    if (value != nullptr && *value != '\0') dirs.emplace_back(value);
  }
  return dirs;
}

std::optional<std::pair<std::string, std::string>> find_fork_access_files(
    const std::vector<std::string>& dirs) {
  auto first_holding = [&](const char* name) -> std::optional<std::string> {
    for (const std::string& dir : dirs) {
      const fs::path p = fs::path(dir) / name;
      if (is_file(p)) return p.string();
    }
    return std::nullopt;
  };
  auto users = first_holding("users.conf");
  auto caps = first_holding("caps.conf");
  if (!users || !caps) return std::nullopt;
  return std::pair{std::move(*users), std::move(*caps)};
}

std::optional<std::pair<std::string, std::string>> find_fork_access_files() {
  return find_fork_access_files(fork_access_dirs());
}

}  // namespace mplane::conf
