// The component configuration: typed values, FILE:LINE errors, path resolution, the RI's
// access check (PROTOCOL.md §4.8), and the shipped configuration files.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "conf/component_config.h"
#include "tests/test_support.h"

namespace mplane::conf {
namespace {

namespace fs = std::filesystem;
using Options = std::map<std::string, std::string>;

Result<ComponentConfig> from_text(std::string_view text, std::string path = "comp.conf") {
  auto ini = parse_ini(text, std::move(path));
  if (!ini) return fail(std::move(ini).error());
  return component_config_from_ini(*ini);
}

ComponentConfig config_of(std::string_view text) {
  auto c = from_text(text);
  if (!c) FAIL(c.error());
  return std::move(c).value();
}

using test::TempDir;

TEST_CASE("component config: an empty file gives the defaults", "[conf][component]") {
  const ComponentConfig c = config_of("");
  CHECK(c.path == "comp.conf");
  CHECK(c.workflow == Workflow::kClientInitiated);
  CHECK(c.registry_uri.empty());
  CHECK(registry_files(c).empty());
  CHECK(c.scheduler_max_results == 0);
  CHECK(c.listen_host == "0.0.0.0");
  CHECK(c.listen_port == 1228);
  CHECK(c.client_port == 1228);
  CHECK(c.registration_path == "/register/capability");
  CHECK(c.specification_path == "/show/specification");
  CHECK(c.result_path == "/register/result");
  CHECK_FALSE(c.tls.has_value());
  CHECK(c.engine.shards == 0);
  CHECK(c.engine.immediate_wait == 5 * model::kMicrosPerSecond);
  CHECK(c.engine.max_jobs == 10000);
  CHECK(c.engine.retention == 0);
  CHECK(c.engine.result_retention == 3600 * model::kMicrosPerSecond);
  CHECK(c.engine.max_retained_results == 10000);
  CHECK(c.services.empty());
}

TEST_CASE("component config: every key of [component] and [engine]", "[conf][component]") {
  const ComponentConfig c = config_of(
      "[component]\n"
      "workflow = component-initiated\n"
      "registry_uri = http://ict-mplane.eu/registry/core\n"
      "scheduler_max_results = 3\n"
      "listen-host = ::1\n"
      "listen-port = 65535\n"
      "listen-cap-link = https://host:8888/\n"
      "client_host = sup.example.org\n"
      "client_port = 8888\n"
      "registration_path = reg/cap\n"
      "specification_path = /spec\n"
      "result_path =\n"
      "indirect_export_uri = udp://host:9000\n"
      "registries = ,\n"
      "[engine]\n"
      "shards = 4\n"
      "immediate-wait = 0s\n"
      "max-jobs = 1\n"
      "retention = 1m30s\n"
      "result-retention = inf\n"
      "max-retained-results = 7\n");
  CHECK(c.workflow == Workflow::kComponentInitiated);
  CHECK(c.registry_uri.empty());  // the core URI means the built-in registry
  CHECK(c.registries.empty());
  CHECK(c.scheduler_max_results == 3);
  CHECK(c.listen_host == "::1");
  CHECK(c.listen_port == 65535);
  CHECK(c.listen_cap_link == "https://host:8888/");
  CHECK(c.client_host == "sup.example.org");
  CHECK(c.client_port == 8888);
  CHECK(c.registration_path == "/reg/cap");
  CHECK(c.specification_path == "/spec");
  CHECK(c.result_path == "/");
  CHECK(c.indirect_export_uri == "udp://host:9000");
  CHECK(c.engine.shards == 4);
  CHECK(c.engine.immediate_wait == 0);
  CHECK(c.engine.max_jobs == 1);
  CHECK(c.engine.retention == 90 * model::kMicrosPerSecond);
  CHECK(c.engine.result_retention == model::kInfiniteDuration);
  CHECK(c.engine.max_retained_results == 7);
}

TEST_CASE("component config: services, canonical options and defaults", "[conf][component]") {
  const ComponentConfig c = config_of(
      "[service_loopback]\n"
      "[service_sleep]\n"
      "max-duration = 90m\n"
      "[service_ping]\n"
      "source-ip4 = 192.0.2.19\n"
      "source-ip6 = 2001:DB8:0:0::1\n"
      "[client]\n"
      "default-url = http://x/\n"
      "[supervisor]\n"
      "[gui]\n"
      "gui-port = 8899\n");
  REQUIRE(c.services.size() == 3);
  CHECK(c.services[0].name == "loopback");
  CHECK(c.services[0].options.empty());
  CHECK(c.services[0].origin == "comp.conf:1");
  CHECK(c.services[1].name == "sleep");
  CHECK(c.services[1].options == Options{{"max-duration", "1h30m"}});
  CHECK(c.services[2].name == "ping");
  CHECK(c.services[2].origin == "comp.conf:4");
  CHECK(c.services[2].options ==
        Options{{"source-ip4", "192.0.2.19"}, {"source-ip6", "2001:db8::1"}, {"max-rate", "100"}});
  REQUIRE(c.other_sections.size() == 3);
  CHECK(c.other_sections[0].name == "client");
  CHECK(c.other_sections[0].find("default-url")->value == "http://x/");
  CHECK(c.other_sections[2].find("gui-port")->line == 11);

  const ComponentConfig d = config_of("[service_sleep]\n[service_ping]\nsource-ip6 = AUTO\n");
  CHECK(d.services[0].options == Options{{"max-duration", "1d"}});
  CHECK(d.services[1].options == Options{{"source-ip6", "AUTO"}, {"max-rate", "100"}});
}

TEST_CASE("component config: the RI's [module_*] layout maps to services", "[conf][component]") {
  const ComponentConfig c = config_of(
      "[module_a]\n"
      "module = mplane.components.ping\n"
      "ip4addr = AUTO\n"
      "ip6addr = ::1\n"
      "[module_b]\n"
      "module = my.own.loopback\n");
  REQUIRE(c.services.size() == 2);
  CHECK(c.services[0].name == "ping");
  CHECK(c.services[0].options ==
        Options{{"source-ip4", "AUTO"}, {"source-ip6", "::1"}, {"max-rate", "100"}});
  CHECK(c.services[1].name == "loopback");
  CHECK(c.services[1].origin == "comp.conf:5");
  CHECK(config_of("[module_x]\nmodule = loopback\n").services[0].name == "loopback");
}

TEST_CASE("component config: errors name file, line and reason", "[conf][component]") {
  auto [text, error] = GENERATE(table<std::string, std::string>({
      // sections
      {"[component]\n[xyz]\n", "comp.conf:2: unknown section [xyz]"},
      {"[tls]\n", "comp.conf:1: unknown section [tls] (did you mean 'TLS'?)"},
      {"[DEFAULT]\n", "comp.conf:1: unknown section [DEFAULT]"},
      // [component]
      {"[component]\nworkflow = client-initiated\nlisten_port = 1\n",
       "comp.conf:3: unknown key 'listen_port' in [component] (did you mean 'listen-port'?)"},
      {"[component]\nfoo = 1\n", "comp.conf:2: unknown key 'foo' in [component]"},
      {"[component]\nworkflow = push\n",
       "comp.conf:2: [component] workflow: 'push' is not client-initiated or component-initiated"},
      {"[component]\nworkflow = component-initiated\n",
       "comp.conf:2: [component] workflow = component-initiated needs client_host"},
      {"[component]\nclient_host =\n", "comp.conf:2: [component] client_host: empty host name"},
      {"[component]\nspool =\n", "comp.conf:2: [component] spool: no directory given"},
      {"[component]\nspool_max_bytes = 0\n",
       "comp.conf:2: [component] spool_max_bytes: '0' must be at least 1"},
      {"[component]\npoll_interval = 0s\n",
       "comp.conf:2: [component] poll_interval: '0s' is not between 1s and 1h"},
      {"[component]\npoll_interval = 2h\n",
       "comp.conf:2: [component] poll_interval: '2h' is not between 1s and 1h"},
      {"[component]\nlisten-port = 0\n",
       "comp.conf:2: [component] listen-port: '0' is not in the range 1..65535"},
      {"[component]\nlisten-port = 65536\n",
       "comp.conf:2: [component] listen-port: '65536' is not in the range 1..65535"},
      {"[component]\nclient_port = -1\n",
       "comp.conf:2: [component] client_port: '-1' is not a non-negative integer"},
      {"[component]\nscheduler_max_results = 1.5\n",
       "comp.conf:2: [component] scheduler_max_results: '1.5' is not a non-negative integer"},
      {"[component]\nlisten-host = localhost\n",
       "comp.conf:2: [component] listen-host: 'localhost' is not an IPv4 or IPv6 address"},
      {"[component]\nregistry_uri = http://example.org/reg.json\n",
       "comp.conf:2: [component] registry_uri: 'http://example.org/reg.json' is a URL: only the "
       "core registry URI or a file path is supported"},
      {"[component]\nregistry_uri = nope.json\n",
       "comp.conf:2: [component] registry_uri: file 'nope.json' does not exist"},
      {"[component]\nregistry_preload = a/../nope.json\n",
       "comp.conf:2: [component] registry_preload: file 'nope.json' does not exist"},
      {"[component]\nregistries = /nonexistent/a.json\n",
       "comp.conf:2: [component] registries: file '/nonexistent/a.json' does not exist"},
      // [engine]
      {"\n[engine]\nshards = 1\n\nshards = 2\n",
       "comp.conf:5: duplicate key 'shards' in [engine] (first at line 3)"},
      {"[engine]\nshards = x\n", "comp.conf:2: [engine] shards: 'x' is not a non-negative integer"},
      {"[engine]\nshards = 2000\n",
       "comp.conf:2: [engine] shards: '2000' is not in the range 0..1024"},
      {"[engine]\nshard = 2\n",
       "comp.conf:2: unknown key 'shard' in [engine] (did you mean 'shards'?)"},
      {"[engine]\nmax-jobs = 0\n", "comp.conf:2: [engine] max-jobs: '0' must be at least 1"},
      {"[engine]\nmax-retained-results = 99999999999999999999\n",
       "comp.conf:2: [engine] max-retained-results: '99999999999999999999' is too large"},
      {"[engine]\nimmediate-wait = 5\n",
       "comp.conf:2: [engine] immediate-wait: '5' is not a duration (like 30s, 5m, 1h30m, 1d or "
       "inf)"},
      {"[engine]\nretention = 5 minutes\n",
       "comp.conf:2: [engine] retention: '5 minutes' is not a duration (like 30s, 5m, 1h30m, 1d or "
       "inf)"},
      // [TLS]
      {"[TLS]\n", "comp.conf:1: [TLS] has no 'cert' key"},
      {"[TLS]\ncrt = a.pem\n", "comp.conf:2: unknown key 'crt' in [TLS] (did you mean 'cert'?)"},
      {"[TLS]\ncert = missing.pem\n", "comp.conf:2: [TLS] cert: file 'missing.pem' does not exist"},
      {"[TLS]\ncert =\n", "comp.conf:2: [TLS] cert: no file name given"},
      // services
      {"[service_pong]\n",
       "comp.conf:1: unknown service [service_pong] (built-in services: loopback, sleep, ping, "
       "counter, capture) (did you mean 'ping'?)"},
      {"[service_loopback]\nx = 1\n", "comp.conf:2: unknown key 'x' in [service_loopback]"},
      {"[service_capture]\nfilter = tcp\n",
       "comp.conf:1: [service_capture] enables no measurement: set interface (live capture) "
       "and/or files (a directory of capture files clients may name)"},
      {"[service_capture]\nfiles = /nonexistent\n",
       "comp.conf:2: [service_capture] files: '/nonexistent' is not a directory"},
      {"[service_sleep]\nmax-duration = forever\n",
       "comp.conf:2: [service_sleep] max-duration: 'forever' is not a duration (like 30s, 5m, "
       "1h30m, 1d or inf)"},
      {"[service_ping]\nmax-rate = 10\n",
       "comp.conf:1: [service_ping] enables no measurement: set source-ip4 and/or source-ip6 (an "
       "address or AUTO)"},
      {"[service_ping]\nsource-ip4 = ::1\n",
       "comp.conf:2: [service_ping] source-ip4: '::1' is not an IPv4 address"},
      {"[service_ping]\nsource-ip6 = 1.2.3.4\n",
       "comp.conf:2: [service_ping] source-ip6: '1.2.3.4' is not an IPv6 address"},
      {"[service_ping]\nsource-ip4 = auto\n",
       "comp.conf:2: [service_ping] source-ip4: 'auto' is not an IPv4 address"},
      {"[service_ping]\nsource-ip4 = 10.0.0.0/8\n",
       "comp.conf:2: [service_ping] source-ip4: '10.0.0.0/8' is not an IPv4 address"},
      {"[service_ping]\nsource-ip4 = AUTO\nmax-rate = 0\n",
       "comp.conf:3: [service_ping] max-rate: '0' must be at least 1"},
      {"[service_ping]\nsource_ip4 = AUTO\n",
       "comp.conf:2: unknown key 'source_ip4' in [service_ping] (did you mean 'source-ip4'?)"},
      {"[service_loopback]\n[module_lo]\nmodule = mplane.components.loopback\n",
       "comp.conf:2: [module_lo] enables service 'loopback' again (already enabled at "
       "comp.conf:1)"},
      // the RI's [module_*] layout
      {"[module_x]\nip4addr = AUTO\n", "comp.conf:1: [module_x] has no 'module' key"},
      {"[module_x]\n\nmodule = foo.bar\n",
       "comp.conf:3: no built-in service for module 'foo.bar' in [module_x] (known: "
       "mplane.components.ping, mplane.components.loopback)"},
      {"[module_x]\nmodule = mplane.components.ping\nip4adr = AUTO\n",
       "comp.conf:3: unknown key 'ip4adr' in [module_x] (did you mean 'ip4addr'?)"},
      {"[module_x]\nmodule = mplane.components.ping\nsource-ip4 = AUTO\n",
       "comp.conf:3: unknown key 'source-ip4' in [module_x]"},
      {"[module_x]\nmodule = mplane.components.ping\n",
       "comp.conf:1: [module_x] enables no measurement: set ip4addr and/or ip6addr (an address "
       "or AUTO)"},
      // INI errors come through unchanged
      {"[component]\nworkflow\n",
       "comp.conf:2: line is not a section header, a key = value pair or a comment"},
  }));
  INFO(text);
  auto c = from_text(text);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error() == error);
}

TEST_CASE("component config: relative paths are relative to the file's directory",
          "[conf][component]") {
  const TempDir dir;
  const std::string core = dir.write("reg/core.json", "{}");
  const std::string extra = dir.write("etc/extra.json", "{}");
  const std::string more = dir.write("etc/more.json", "{}");
  const std::string cert = dir.write("etc/certs/c.pem", "x");
  const std::string key = dir.write("etc/certs/k.pem", "x");
  const std::string ca = dir.write("ca.pem", "x");
  const std::string path = dir.write("etc/comp.conf",
                                     "[component]\n"
                                     "registry_uri = ../reg/core.json\n"
                                     "registry_preload = " +
                                         core +
                                         "\n"
                                         "registries = extra.json, ./more.json\n"
                                         "[TLS]\n"
                                         "cert = certs/c.pem\n"
                                         "key = certs/k.pem\n"
                                         "ca-chain = " +
                                         ca +
                                         "\n"
                                         "[Roles]\n"
                                         "[Authorizations]\n");
  auto c = load_component_config(path);
  if (!c) FAIL(c.error());
  CHECK(c->path == path);
  CHECK(c->registry_uri == core);
  CHECK(c->registry_preload == core);
  CHECK(c->registries == std::vector<std::string>{extra, more});
  CHECK(registry_files(*c) == std::vector<std::string>{core, core, extra, more});
  REQUIRE(c->tls.has_value());
  CHECK(c->access_control);
  CHECK(c->tls->cert == cert);
  const std::string url = dir.write("etc/url.conf", "[component]\nregistry_uri = file://" + core);
  CHECK(load_component_config(url)->registry_uri == core);
  CHECK(c->tls->key == key);
  CHECK(c->tls->ca_chain == ca);

  // A missing file is named by its resolved path, at the line of its key.
  const std::string bad = dir.write("etc/bad.conf", "[TLS]\ncert = certs/c.pem\nkey = k.pem\n");
  CHECK(load_component_config(bad).error() ==
        bad + ":3: [TLS] key: file '" + (dir.path() / "etc/k.pem").string() + "' does not exist");
  const std::string not_file = dir.write("etc/dir.conf", "[component]\nregistries = certs\n");
  CHECK(load_component_config(not_file).error() == not_file + ":2: [component] registries: '" +
                                                       (dir.path() / "etc/certs").string() +
                                                       "' is not a regular file");

  // [TLS] switches on access control: [Roles] and [Authorizations] are required.
  const std::string no_rbac = dir.write("etc/norbac.conf",
                                        "[Roles]\n"
                                        "[TLS]\n"
                                        "cert = certs/c.pem\n"
                                        "key = certs/k.pem\n"
                                        "ca-chain = certs/c.pem\n");
  CHECK(load_component_config(no_rbac).error() ==
        no_rbac +
            ":2: [TLS] needs [Roles] and [Authorizations] sections (TLS switches on access "
            "control)");
  const std::string partial = dir.write("etc/partial.conf", "[TLS]\ncert = certs/c.pem\n");
  CHECK(load_component_config(partial).error() == partial + ":1: [TLS] has no 'key' key");
  CHECK(load_component_config(path + ".missing").error() ==
        path + ".missing: cannot open configuration file");
}

// The §4.8 example, with TLS switched on without certificate files.
ComponentConfig rbac_config(std::string_view authorizations) {
  ComponentConfig c = config_of(
      "[Roles]\n"
      "org.mplane.SSB.Clients.Client-1 = guest\n"
      "org.mplane.SSB.Supervisors.Supervisor-1 = admin\n"
      "Identity.Unauthenticated.Default = admin\n"
      "org.mplane.SSB.Clients.Both = guest,admin\n"
      "[Authorizations]\n" +
      std::string(authorizations));
  c.tls = TlsFiles{};
  c.access_control = true;
  return c;
}

constexpr std::string_view kClient = "org.mplane.SSB.Clients.Client-1";
constexpr std::string_view kSupervisor = "org.mplane.SSB.Supervisors.Supervisor-1";

TEST_CASE("authorized: labels exactly, roles trimmed", "[conf][component][rbac]") {
  auto [authorizations, identity, label,
        allowed] = GENERATE(table<std::string, std::string, std::string, bool>({
      // the §4.8 example
      {"ping-average-ip4 = guest,admin\nping-detail-ip4 = guest,admin\n", std::string(kClient),
       "ping-average-ip4", true},
      {"ping-average-ip4 = guest,admin\n", std::string(kSupervisor), "ping-average-ip4", true},
      {"ping-average-ip4 = guest,admin\n", "Identity.Unauthenticated.Default", "ping-average-ip4",
       true},
      // labels match exactly (the RI takes a key that is a substring of the label)
      {"ping-average = guest\n", std::string(kClient), "my-ping-average-ip4-v2", false},
      {"ping-average = guest\n", std::string(kClient), "ping-average-ip4", false},
      {"ping-average-ip4-v2 = guest\n", std::string(kClient), "ping-average-ip4", false},
      // no key matches, unknown identity, disjoint roles
      {"ping-average-ip4 = guest\n", std::string(kClient), "ping-detail-ip4", false},
      {"ping-average-ip4 = guest\n", "org.mplane.Unknown", "ping-average-ip4", false},
      {"ping-average-ip4 = guest\n", std::string(kSupervisor), "ping-average-ip4", false},
      {"ping-average-ip4 = admin,root\n", "org.mplane.SSB.Clients.Both", "ping-average-ip4", true},
      // "guest, admin" with a space holds both roles (the RI's split keeps " admin")
      {"ping-average-ip4 = guest, admin\n", std::string(kSupervisor), "ping-average-ip4", true},
      {"ping-average-ip4 = guest, admin\n", std::string(kClient), "ping-average-ip4", true},
      {"ping-average-ip4 = admin , guest\n", std::string(kClient), "ping-average-ip4", true},
      // identities are exact
      {"ping-average-ip4 = guest\n", "org.mplane.ssb.clients.client-1", "ping-average-ip4", false},
  }));
  INFO(authorizations << identity << " " << label);
  const ComponentConfig c = rbac_config(authorizations);
  CHECK(authorized(c, identity, label) == allowed);
}

TEST_CASE("authorized: everything is allowed without [TLS]", "[conf][component][rbac]") {
  ComponentConfig c = rbac_config("ping = admin\n");
  CHECK_FALSE(authorized(c, kClient, "ping"));
  c.access_control = false;  // TLS from the command line only: the domain is the boundary
  CHECK(authorized(c, kClient, "ping"));
  c.access_control = true;
  c.tls.reset();
  CHECK(authorized(c, kClient, "ping"));
  CHECK(authorized(c, "anyone", "anything"));
  CHECK(authorized(config_of(""), "anyone", "anything"));
}

TEST_CASE("authorized: role lists are split on ',' and trimmed", "[conf][component][rbac]") {
  const ComponentConfig c = config_of("[Roles]\nid = guest, admin,,x \n[Authorizations]\nk =\n");
  REQUIRE(c.roles.size() == 1);
  CHECK(c.roles[0].roles == std::vector<std::string>{"guest", "admin", "x"});
  CHECK(c.authorizations[0].roles.empty());
}

TEST_CASE("shipped component configurations load", "[conf][component]") {
  const fs::path conf = fs::path(MPLANE_SOURCE_DIR) / "conf";
  auto example = load_component_config((conf / "component.conf").string());
  if (!example) FAIL(example.error());
  CHECK(example->workflow == Workflow::kClientInitiated);
  CHECK(example->registries ==
        std::vector<std::string>{(conf / "registry/loopback.json").lexically_normal().string()});
  CHECK_FALSE(example->tls.has_value());
  REQUIRE(example->services.size() == 3);
  CHECK(example->services[0].name == "loopback");
  CHECK(example->services[1].name == "sleep");
  CHECK(example->services[2].name == "ping");
  CHECK(example->roles.size() == 3);

  auto ri = load_component_config((conf / "component-ri-style.conf").string());
  if (!ri) FAIL(ri.error());
  REQUIRE(ri->services.size() == 2);
  CHECK(ri->services[0].name == "ping");
  CHECK(ri->services[0].options.at("source-ip4") == "AUTO");
  CHECK(ri->services[1].name == "loopback");
}

}  // namespace
}  // namespace mplane::conf
