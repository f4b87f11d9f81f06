// Who may use what (conf/access_policy.h): the RI's [Roles]/[Authorizations], the fork's
// users.conf/caps.conf with per-probe lines, bad lines named by FILE:LINE, exact labels, roles
// with blanks, and where the fork's files are looked up.
#include <catch2/catch.hpp>

#include <string>

#include "conf/access_policy.h"
#include "conf/component_config.h"
#include "tests/test_support.h"

namespace mplane::conf {
namespace {

using test::TempDir;

const std::string kClient1 = "org.mplane.SSB.Clients.Client-1";
const std::string kClient2 = "org.mplane.SSB.Clients.Client-2";
const std::string kProbe1 = "org.mplane.PKI.Components.Component-1";
const std::string kProbe2 = "org.mplane.PKI.Components.Component-2";

// The fork's users.conf and caps.conf written to `dir` (shaped like stepenta/RI conf/, with a
// line for every probe and blanks around the roles).
Result<AccessPolicy> fork_policy(const TempDir& dir, std::string_view users,
                                 std::string_view caps) {
  return AccessPolicy::from_fork_files(dir.write("users.conf", users),
                                       dir.write("caps.conf", caps));
}

TEST_CASE("access policy: without configuration everything is allowed", "[conf][access]") {
  const AccessPolicy open;
  CHECK_FALSE(open.restricted());
  CHECK(open.allows("anyone", "anything"));
  CHECK(open.allows("anyone", "anything", kProbe1));
  CHECK(open.roles_of("anyone").empty());
}

TEST_CASE("access policy: the RI layout, exact labels, every probe", "[conf][access]") {
  const AccessPolicy p =
      AccessPolicy::from_roles({{kClient1, {"guest"}}, {kClient2, {"nobody"}}},
                               {{"test-loopback", {"guest", "admin"}}, {"ping", {"admin"}}});
  CHECK(p.restricted());
  CHECK(p.allows(kClient1, "test-loopback"));
  CHECK(p.allows(kClient1, "test-loopback", kProbe1));  // RI lines apply to every probe
  CHECK(p.allows(kClient1, "test-loopback", kProbe2));
  CHECK_FALSE(p.allows(kClient1, "ping"));           // no shared role
  CHECK_FALSE(p.allows(kClient2, "test-loopback"));  // holds a role the label does not grant
  CHECK_FALSE(p.allows("org.mplane.SSB.Clients.Client-9", "test-loopback"));  // no roles at all
  // Exact labels: the RI would open these through the substring `test-loopback` or `ping`.
  CHECK_FALSE(p.allows(kClient1, "test-loopback-2"));
  CHECK_FALSE(p.allows(kClient1, "my-test-loopback"));
  CHECK_FALSE(p.allows(kClient1, "loopback"));
  CHECK(p.roles_of(kClient1) == std::vector<std::string>{"guest"});
  CHECK(AccessPolicy::from_roles({}, {}).restricted());
  CHECK_FALSE(AccessPolicy::from_roles({}, {}).allows(kClient1, "test-loopback"));
}

TEST_CASE("access policy: roles split on commas with blanks trimmed", "[conf][access]") {
  CHECK(split_roles(" guest ,admin,, \tops ") == std::vector<std::string>{"guest", "admin", "ops"});
  CHECK(split_roles("").empty());
  CHECK(split_roles(" , ").empty());
  // `guest, admin` (RI: the role " admin", which nobody holds) grants admin here.
  const AccessPolicy p = AccessPolicy::from_roles({{kClient1, split_roles("admin")}},
                                                  {{"test-loopback", split_roles("guest, admin")}});
  CHECK(p.allows(kClient1, "test-loopback"));
}

TEST_CASE("access policy: a component file's [Roles] and [Authorizations]", "[conf][access]") {
  const TempDir dir;
  const std::string conf = dir.write("c.conf",
                                     "[TLS]\ncert = c\nkey = c\nca-chain = c\n"
                                     "[Roles]\n" +
                                         kClient1 +
                                         " = guest , admin\n"
                                         "[Authorizations]\ntest-loopback = admin\n");
  dir.write("c", "");
  auto c = load_component_config(conf);
  REQUIRE(c.ok());
  const AccessPolicy p = access_policy(*c);
  CHECK(p.restricted());
  CHECK(p.allows(kClient1, "test-loopback"));
  CHECK(authorized(*c, kClient1, "test-loopback"));
  CHECK_FALSE(authorized(*c, kClient1, "test-loopback-1"));
  c->access_control = false;  // TLS from the command line only: the domain is the boundary
  CHECK_FALSE(access_policy(*c).restricted());
}

TEST_CASE("access policy: the fork's files, with per-probe lines", "[conf][access]") {
  const TempDir dir;
  auto p = fork_policy(dir, "# users\n" + kClient1 + ": guest\n" + kClient2 + ": admin, guest\n\n",
                       "#\n# Probe 1\n#\n"
                       "tstat-log_tcp_complete-core, " +
                           kProbe1 +
                           ": admin\n"
                           "tstat-log_tcp_complete-end_to_end, " +
                           kProbe1 +
                           ": guest, admin\n"
                           "# Probe 2\n"
                           "tstat-log_tcp_complete-core, " +
                           kProbe2 +
                           ": guest, admin\n"
                           "# every probe\n"
                           "tstat-log_tcp_complete-layer7: guest\n"
                           "tstat-log_tcp_complete-end_to_end: admin\r\n");
  REQUIRE(p.ok());
  CHECK(p->restricted());
  CHECK(p->roles_of(kClient2) == std::vector<std::string>{"admin", "guest"});
  // A line naming the probe applies to that probe only.
  CHECK_FALSE(p->allows(kClient1, "tstat-log_tcp_complete-core", kProbe1));
  CHECK(p->allows(kClient1, "tstat-log_tcp_complete-core", kProbe2));
  CHECK_FALSE(p->allows(kClient1, "tstat-log_tcp_complete-core", "org.mplane.other"));
  CHECK_FALSE(p->allows(kClient1, "tstat-log_tcp_complete-core"));  // not probe-specific
  // A line for every probe, and a probe's own line before it.
  CHECK(p->allows(kClient1, "tstat-log_tcp_complete-layer7", kProbe2));
  CHECK(p->allows(kClient1, "tstat-log_tcp_complete-layer7"));
  CHECK(p->allows(kClient1, "tstat-log_tcp_complete-end_to_end", kProbe1));
  CHECK_FALSE(p->allows(kClient1, "tstat-log_tcp_complete-end_to_end", kProbe2));
  CHECK_FALSE(p->allows(kClient1, "tstat-log_tcp_complete-end_to_end"));
  CHECK_FALSE(p->allows("org.mplane.SSB.Clients.Client-9", "tstat-log_tcp_complete-layer7"));
  CHECK_FALSE(p->allows(kClient1, "tstat-log_tcp_complete-layer7-2"));  // exact labels
}

TEST_CASE("access policy: bad lines of the fork's files are named by FILE:LINE", "[conf][access]") {
  const TempDir dir;
  const std::string users = (dir.path() / "users.conf").string();
  const std::string caps = (dir.path() / "caps.conf").string();
  struct Case {
    std::string users, caps, error;
  };
  const Case cases[] = {
      {"# c\n" + kClient1 + " guest\n", "l: g\n", users + ":2: expected 'identity: role1, role2'"},
      {": guest\n", "l: g\n", users + ":1: no identity before ':'"},
      {kClient1 + ": guest\n\n" + kClient1 + ": admin\n", "l: g\n",
       users + ":3: identity '" + kClient1 + "' again (first on line 1)"},
      {"u: g\n", "l, " + kProbe1 + " guest\n",
       caps + ":1: expected 'label, component-identity: "
              "role1, role2'"},
      {"u: g\n", ", " + kProbe1 + ": guest\n", caps + ":1: no capability label"},
      {"u: g\n", "x: g\nlabel, : guest\n", caps + ":2: no component identity after ','"},
      {"u: g\n", "l, p: g\nl: g\nl , p : a\n",
       caps + ":3: label 'l' for 'p' again (first on line 1)"},
  };
  for (const Case& c : cases) {
    INFO(c.users << "|" << c.caps);
    auto p = fork_policy(dir, c.users, c.caps);
    REQUIRE_FALSE(p.ok());
    CHECK(p.error() == c.error);
  }
  auto missing = AccessPolicy::from_fork_files(users, (dir.path() / "none.conf").string());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error() ==
        (dir.path() / "none.conf").string() + ": cannot open configuration file");
}

TEST_CASE("access policy: each fork file from the first directory holding it", "[conf][access]") {
  const TempDir etc;
  const TempDir home;
  const TempDir conf_dir;
  const std::vector<std::string> dirs = {etc.path().string(), home.path().string(),
                                         conf_dir.path().string()};
  CHECK_FALSE(find_fork_access_files(dirs).has_value());
  const std::string caps = conf_dir.write("caps.conf", "l: g\n");
  CHECK_FALSE(find_fork_access_files(dirs).has_value());  // both or nothing
  const std::string users = conf_dir.write("users.conf", "u: g\n");
  CHECK(find_fork_access_files(dirs) == std::pair{users, caps});
  const std::string home_users = home.write("users.conf", "u: g\n");
  CHECK(find_fork_access_files(dirs) == std::pair{home_users, caps});  // the fork's order
  const std::string etc_caps = etc.write("caps.conf", "l: g\n");
  CHECK(find_fork_access_files(dirs) == std::pair{home_users, etc_caps});
  CHECK(fork_access_dirs().front() == "/etc/mplane");
}

}  // namespace
}  // namespace mplane::conf
