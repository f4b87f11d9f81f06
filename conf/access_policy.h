// Who may use what (PROTOCOL.md §4.8): identity (certificate DN, §4.7) -> roles -> capabilities,
// matched exactly by label. Two layouts feed it:
//
// - the RI's [Roles] (identity = roles) and [Authorizations] (label = roles) sections of a
//   component or supervisor file: every line applies to every probe;
// - the architecture fork's users.conf (`identity: role1, role2`) and caps.conf
//   (`label, component-identity: role1, role2`, or `label: roles` for every probe).
//
// Role lists are split on ',' and trimmed of blanks (`guest, admin` gives "guest" and "admin";
// the RI keeps " admin", a role nobody holds). Labels are matched exactly (the RI takes the last
// [Authorizations] key that is a substring of the label, so that `ping` would also open
// `my-ping-v2`). Read-only after construction: share it between threads freely.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parsers/base/result.h"

namespace mplane::conf {

// One line of [Roles] (identity → roles) or [Authorizations] (capability label → roles). The
// roles are the value split on ',' and trimmed of blanks, empty ones dropped.
struct RoleList {
  std::string key;
  std::vector<std::string> roles;
};

// `value` split on ',', each item trimmed of blanks and tabs, empty items dropped.
std::vector<std::string> split_roles(std::string_view value);

class AccessPolicy {
 public:
  AccessPolicy();  // no configuration: everything allowed (restricted() false)

  // The RI's [Roles]/[Authorizations] (ComponentConfig::roles, ::authorizations). Restricted,
  // even when both are empty (then nothing is allowed). As conf::authorized() always did: the
  // first line of an identity and the last line of a label count (an INI file has one of each).
  static AccessPolicy from_roles(std::vector<RoleList> roles, std::vector<RoleList> authorizations);

  // The fork's two files. Blank lines and lines starting with '#' are skipped; a line is
  // `KEY: role1, role2` split at its last ':'. In caps.conf KEY is `label, component-identity`
  // (split at the first ',') or `label` alone (every probe). Errors "FILE:LINE: reason": a file
  // that cannot be read, a line without ':', an empty identity or label, the same identity (or
  // label and probe) twice.
  static Result<AccessPolicy> from_fork_files(const std::string& users_conf,
                                              const std::string& caps_conf);

  bool restricted() const { return restricted_; }

  // Whether `identity` may use the capability labelled `label` offered by the probe
  // `probe_identity` (empty: not probe-specific, only lines for every probe count). A line naming
  // the probe takes precedence over a line for every probe. Deny unless allowed (when restricted):
  // the identity must hold a role, and the label (for that probe) must grant one of them.
  bool allows(std::string_view identity, std::string_view label,
              std::string_view probe_identity = {}) const;

  // The roles of `identity`, in file order (empty if it has none): for pages and logs.
  std::vector<std::string> roles_of(std::string_view identity) const;

 private:
  using Roles = std::vector<std::string>;
  struct Grant {
    std::optional<Roles> every_probe;
    std::map<std::string, Roles, std::less<>> per_probe;
  };
  static const Roles* granted_roles(const Grant& grant, std::string_view probe_identity);
  Status<> add_fork_users(const std::string& path);  // users.conf
  Status<> add_fork_caps(const std::string& path);   // caps.conf

  bool restricted_ = false;
  std::map<std::string, Roles, std::less<>> users_;   // identity -> roles
  std::map<std::string, Grant, std::less<>> grants_;  // label -> roles
};

// The directories the fork searches for users.conf and caps.conf, in its order: /etc/mplane,
// then the home directory ($HOME), then $MPLANE_CONF_DIR (unset variables are left out).
std::vector<std::string> fork_access_dirs();

// Where the fork's two files are: each file is taken from the first of `dirs` that holds it (the
// fork's own rule: stepenta/RI mplane/sec.py looks up each file on its own, first found wins).
// nullopt unless both are found. Returns {users.conf path, caps.conf path}.
std::optional<std::pair<std::string, std::string>> find_fork_access_files(
    const std::vector<std::string>& dirs);
// The same in fork_access_dirs().
std::optional<std::pair<std::string, std::string>> find_fork_access_files();

}  // namespace mplane::conf
