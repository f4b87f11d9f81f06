// The supervisor's configuration (conf/supervisor_config.h): the shipped commented example, the
// RI's own supervisor-tls.conf filled in as the RI's runner fills it, the fork's access files,
// and bad lines named by FILE:LINE.
#include <catch2/catch.hpp>

#include <string>
#include <tuple>

#include "conf/builtin.h"
#include "conf/supervisor_config.h"
#include "engine/supervisor/supervisor.h"
#include "tests/test_support.h"

namespace mplane::conf {
namespace {

using test::TempDir;

Result<SupervisorConfig> from_text(std::string_view text, std::string path = "sup.conf") {
  auto ini = parse_ini(text, std::move(path));
  if (!ini) return fail(std::move(ini).error());
  return supervisor_config_from_ini(*ini);
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

constexpr model::Micros kSecond = model::kMicrosPerSecond;

TEST_CASE("supervisor config: the shipped example loads, with the defaults", "[conf][supervisor]") {
  const std::string path = (test::source_dir() / "conf" / "supervisor.conf").string();
  auto c = load_supervisor_config(path);
  REQUIRE(c.ok());
  CHECK_FALSE(c->tls);
  CHECK(c->access.restricted());  // its [Roles] and [Authorizations] apply without [TLS]
  CHECK(c->access.allows("org.mplane.SSB.Clients.Client-1", "test-loopback", "any.probe"));
  CHECK_FALSE(c->access.allows("org.mplane.SSB.Clients.Client-1", "sleep"));
  CHECK(c->access.roles_of("org.mplane.SSB.Supervisors.Supervisor-1") ==
        std::vector<std::string>{"admin", "guest"});
  CHECK(c->southbound == Workflow::kComponentInitiated);
  CHECK(c->component_face.host == "0.0.0.0");
  CHECK(c->component_face.port == 8888);
  CHECK(c->listen_spec_link == "https://supervisor.example.net:8888/");
  CHECK(c->registration_path == "/register/capability");
  CHECK(c->specification_path == "/show/specification");
  CHECK(c->result_path == "/register/result");
  CHECK(c->component_urls.empty());
  CHECK(c->client_face.port == 1228);
  CHECK(c->listen_cap_link == "https://supervisor.example.net:1228/");
  CHECK(c->registry_uri.empty());
  CHECK(c->registry_uri_name.empty());
  CHECK(registry_files(*c).empty());
  CHECK_FALSE(c->listen);
  CHECK(c->state.empty());
  CHECK(c->poll_idle == 5 * kSecond);
  CHECK(c->poll_hold == 20 * kSecond);
  CHECK(c->withdraw_after == 30 * kSecond);
  CHECK(c->result_retention == 3600 * kSecond);
  CHECK(c->immediate_wait == 5 * kSecond);
  CHECK(c->log_level == log::Level::kWarn);
  const HttpLimits defaults;
  CHECK(c->http.header_timeout == defaults.header_timeout);
  CHECK(c->http.max_request_bytes == defaults.max_request_bytes);
  CHECK(c->http.max_output_bytes == defaults.max_output_bytes);
  // The limits the file writes out are the defaults, and those are the supervisor's.
  const SupervisorConfig::Limits limits;
  const supervisor::SupervisorOptions core;
  for (auto [file, field, option] :
       {std::tuple{c->limits.max_probes, limits.max_probes, core.max_probes},
        {c->limits.max_capabilities_per_probe, limits.max_capabilities_per_probe,
         core.max_capabilities_per_probe},
        {c->limits.max_registration_bytes, limits.max_registration_bytes,
         core.max_registration_bytes},
        {c->limits.max_registered_bytes, limits.max_registered_bytes, core.max_registered_bytes},
        {c->limits.max_specification_bytes, limits.max_specification_bytes,
         core.max_specification_bytes},
        {c->limits.max_queued_per_probe, limits.max_queued_per_probe, core.max_queued_per_probe},
        {c->limits.max_queued_bytes, limits.max_queued_bytes, core.max_queued_bytes},
        {c->limits.max_relays, limits.max_relays, core.max_relays},
        {c->limits.max_relays_per_client, limits.max_relays_per_client, core.max_relays_per_client},
        {c->limits.max_reply_bytes, limits.max_reply_bytes, core.max_reply_bytes}}) {
    CHECK(file == field);
    CHECK(field == option);
  }
}

TEST_CASE("supervisor config: the RI's supervisor-tls.conf, filled in", "[conf][supervisor]") {
  // As ri-run.py fills it (@PKI@, the two ports), beside the files it names: the PKI (only
  // their existence is checked here) and testdata/loopback-registry.json.
  const TempDir dir;
  for (const char* f : {"Supervisor-SSB.crt", "Supervisor-SSB-plaintext.key", "root-ca.crt"}) {
    dir.write(std::string("pki/") + f, "-");
  }
  dir.write("testdata/loopback-registry.json", builtin_file("registry/loopback.json"));
  std::string text = test::read_file(test::data_dir() / "ri" / "supervisor-tls.conf");
  text = replace_all(text, "@PKI@", (dir.path() / "pki").string());
  text = replace_all(text, "@COMPONENT_FACE_PORT@", "29010");
  text = replace_all(text, "@CLIENT_FACE_PORT@", "29011");
  auto c = load_supervisor_config(dir.write("supervisor-tls.conf", text));
  REQUIRE(c.ok());
  REQUIRE(c->tls);
  CHECK(c->tls->cert == (dir.path() / "pki" / "Supervisor-SSB.crt").string());
  CHECK(c->access.allows("org.mplane.SSB.Clients.Client-1", "test-loopback"));
  CHECK_FALSE(c->access.allows("org.mplane.SSB.Clients.Client-2", "test-loopback"));
  CHECK(c->southbound == Workflow::kComponentInitiated);
  CHECK(c->component_face.port == 29010);
  CHECK(c->listen_spec_link == "https://127.0.0.1:29010/");
  CHECK(c->specification_path == "/show/specification");
  CHECK(c->client_face.port == 29011);
  CHECK(c->listen_cap_link == "https://127.0.0.1:29011/");
  CHECK(c->registry_uri_name == "http://mplane.corvid.ch/registry/loopback");
  CHECK(c->registry_preload == (dir.path() / "testdata" / "loopback-registry.json").string());
  auto regs = load_registries(registry_files(*c));
  REQUIRE(regs.ok());
  CHECK(check_registry_uri(*c, *regs).ok());
}

TEST_CASE("supervisor config: [supervisor] keys, one listen address, registry URLs",
          "[conf][supervisor]") {
  const TempDir dir;
  const std::string reg = dir.write("reg/extra.json", "{}");
  auto c = from_text(
      "[supervisor]\n"
      "listen = [::1]:8443\n"
      "state = " +
      (dir.path() / "state.db").string() +
      "\n"
      "poll-idle = 2s\npoll-hold = 1m\nwithdraw-after = 1h\n"
      "result-retention = inf\nimmediate-wait = 0s\n"
      "registries = " +
      reg +
      ",\nlog-level = debug\n"
      "header-timeout = 3s\nmax-connections-per-peer = 9\n"
      "max-probes = 7\nmax-relays-per-client = 0\nmax-reply-bytes = 4096\n"
      "[client]\ncomponent-urls = https://a:1/, http://b:2/\n"
      "workflow = client-initiated\n"
      "[component]\nregistry_uri = http://example.net/not-loaded\n");
  if (!c) FAIL(c.error());
  REQUIRE(c->listen);
  CHECK(c->listen->host == "::1");
  CHECK(c->listen->port == 8443);
  CHECK(c->state == (dir.path() / "state.db").string());
  CHECK(c->poll_idle == 2 * kSecond);
  CHECK(c->poll_hold == 60 * kSecond);
  CHECK(c->withdraw_after == 3600 * kSecond);
  CHECK(c->result_retention == model::kInfiniteDuration);
  CHECK(c->immediate_wait == 0);
  CHECK(c->registries == std::vector<std::string>{reg});
  CHECK(c->log_level == log::Level::kDebug);
  CHECK(c->http.header_timeout == 3 * kSecond);
  CHECK(c->http.max_connections_per_peer == 9);
  CHECK(c->limits.max_probes == 7);
  CHECK(c->limits.max_relays_per_client == 0);
  CHECK(c->limits.max_reply_bytes == 4096);
  CHECK_FALSE(from_text("[supervisor]\nmax-probes = 0\n").ok());
  CHECK(c->southbound == Workflow::kClientInitiated);
  CHECK(c->component_urls == std::vector<std::string>{"https://a:1/", "http://b:2/"});
  CHECK_FALSE(c->access.restricted());  // no access configuration: everything allowed
  auto regs = load_registries({});
  REQUIRE(regs.ok());
  CHECK(check_registry_uri(*c, *regs).error() ==
        "sup.conf: [component] registry_uri: no loaded registry is named "
        "http://example.net/not-loaded (load "
        "its file with registry_preload or registries)");
  CHECK(parse_listen_address("127.0.0.1:0").ok());
  CHECK_FALSE(parse_listen_address("127.0.0.1").ok());
  CHECK_FALSE(parse_listen_address("host:80").ok());
  CHECK_FALSE(parse_listen_address("127.0.0.1:65536").ok());
}

TEST_CASE("supervisor config: the fork's access files", "[conf][supervisor]") {
  const TempDir dir;
  dir.write("access/users.conf", "org.mplane.SSB.Clients.Client-1: guest\n");
  dir.write("access/caps.conf", "test-loopback, org.mplane.SSB.Components.Component-1: guest\n");
  const std::string path = dir.write("sup.conf", "[supervisor]\naccess-files = access\n");
  auto c = load_supervisor_config(path);
  REQUIRE(c.ok());
  CHECK(c->access_files == (dir.path() / "access").string());
  CHECK(c->access.allows("org.mplane.SSB.Clients.Client-1", "test-loopback",
                         "org.mplane.SSB.Components.Component-1"));
  CHECK_FALSE(c->access.allows("org.mplane.SSB.Clients.Client-1", "test-loopback",
                               "org.mplane.SSB.Components.Component-2"));
  dir.write("access/caps.conf", "# caps\ntest-loopback guest\n");
  auto bad = load_supervisor_config(path);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error() == (dir.path() / "access" / "caps.conf").string() +
                           ":2: expected 'label, component-identity: role1, role2'");
}

TEST_CASE("supervisor config: bad lines are named by FILE:LINE", "[conf][supervisor]") {
  const TempDir dir;
  dir.write("empty/x", "");
  const std::string empty_dir = (dir.path() / "empty").string();
  const std::pair<std::string, std::string> cases[] = {
      {"[supervisor]\npoll-idle = 5\n",
       "sup.conf:2: [supervisor] poll-idle: '5' is not a duration (like 30s, 5m, 1h30m, 1d or "
       "inf)"},
      {"[supervisor]\nlisten = 0.0.0.0\n",
       "sup.conf:2: [supervisor] listen: '0.0.0.0' is not ADDR:PORT (like 0.0.0.0:8888 or "
       "[::]:8888)"},
      {"[supervisor]\nlisten = 0.0.0.0:1\n[client]\nlisten-port = 2\n",
       "sup.conf:4: [client] listen-port contradicts [supervisor] listen (both faces on one "
       "port): keep one"},
      {"[supervisor]\npoll-idel = 5s\n",
       "sup.conf:2: unknown key 'poll-idel' in [supervisor] (did you mean 'poll-idle'?)"},
      {"[supervisor]\nmax-conections = 5\n",
       "sup.conf:2: unknown key 'max-conections' in [supervisor] (did you mean "
       "'max-connections'?)"},
      {"[supervisor]\nstate = /nonexistent-dir/s.db\n",
       "sup.conf:2: [supervisor] state: directory '/nonexistent-dir' does not exist"},
      {"[supervisor]\naccess-files = " + empty_dir + "\n",
       "sup.conf:2: [supervisor] access-files: '" + empty_dir +
           "' does not hold both users.conf and caps.conf"},
      {"[client]\nworkflow = sideways\n",
       "sup.conf:2: [client] workflow: 'sideways' is not client-initiated or "
       "component-initiated"},
      {"[client]\ncomponent-urls = https://a/, ftp://b/\n",
       "sup.conf:2: [client] component-urls: 'ftp://b/' is not an http:// or https:// URL"},
      {"[client]\nlisten-port = 0\n",
       "sup.conf:2: [client] listen-port: '0' is not in the range 1..65535"},
      {"[component]\nworkflow = component-initiated\n",
       "sup.conf:2: [component] workflow: a supervisor registering with another supervisor is "
       "not supported: the client face serves clients (client-initiated)"},
      {"[component]\nclient_host = x\n", "sup.conf:2: unknown key 'client_host' in [component]"},
      {"[Roles]\na = b\n", "sup.conf:1: [Roles] and [Authorizations] go together: add the other"},
      {"[Roles]\n[Authorizations]\n[supervisor]\naccess-files = " + (dir.path() / "acc").string() +
           "\n",
       "sup.conf:1: [Roles]/[Authorizations] and [supervisor] access-files both set access "
       "control: keep one"},
      {"[TLS]\ncert = " + empty_dir + "/x\nkey = " + empty_dir + "/x\nca-chain = " + empty_dir +
           "/x\n",
       "sup.conf:1: [TLS] needs [Roles] and [Authorizations], or [supervisor] access-files (TLS "
       "switches on access control)"},
      {"[superviser]\n", "sup.conf:1: unknown section [superviser] (did you mean 'supervisor'?)"},
  };
  dir.write("acc/users.conf", "u: g\n");
  dir.write("acc/caps.conf", "l: g\n");
  for (const auto& [text, error] : cases) {
    INFO(text);
    auto c = from_text(text);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error() == error);
  }
}

}  // namespace
}  // namespace mplane::conf
