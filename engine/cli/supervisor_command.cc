// `mplane supervisor`: the hub of the Client-Supervisor-Probe architecture (issue 12). Probes
// register and poll on the component face; clients list, specify, redeem and interrupt on the
// client face; the state survives a restart in an SQLite file.
#include <malloc.h>

#include <chrono>
#include <iostream>

#include "conf/builtin.h"
#include "conf/supervisor_config.h"
#include "engine/cli/args.h"
#include "engine/cli/command.h"
#include "engine/loop/shard_group.h"
#include "engine/loop/start_barrier.h"
#include "engine/supervisor/component_link.h"
#include "engine/supervisor/front_server.h"
#include "engine/supervisor/supervisor_server.h"
#include "parsers/base/log.h"
#include "parsers/mplane/time_value.h"
#include "transport/tls/tls_context.h"

namespace mplane::cli {
namespace {

const std::vector<OptionSpec> kSupervisorOptions = {
    {"config", "FILE",
     "supervisor configuration (the RI's supervisor layout plus [supervisor]; see "
     "conf/supervisor.conf)"},
    {"listen", "ADDR:PORT", "serve both faces here (default 0.0.0.0:8888)"},
    {"component-listen", "ADDR:PORT",
     "serve the component face apart, here (then --listen serves clients only)"},
    {"ca", "FILE", "CA certificates (PEM) that peers' certificates must chain to"},
    {"cert", "FILE", "this supervisor's certificate (PEM)"},
    {"key", "FILE", "this supervisor's private key (PEM)"},
    {"insecure", "", "plaintext HTTP without authentication (a warning is printed)"},
    {"registry", "FILE", "load an element registry besides the built-in ones", true},
    {"state", "FILE", "the SQLite state file (default ./mplane-supervisor.db)"},
    {"link", "URL",
     "the client face's URL as clients reach it (capability links; default: derived)"},
    {"poll-idle", "DURATION", "poll interval given to idle probes, ±20% (default 5s)"},
    {"poll-hold", "DURATION", "longest hold of a long poll (default 20s)"},
    {"withdraw-after", "DURATION", "withdraw a probe silent this long (default 30s)"},
    {"immediate-wait", "DURATION",
     "a client's specification waits this long for the result, then gets the receipt (default 5s)"},
    {"result-retention", "DURATION", "forget uncollected results after this (default 1h)"},
    {"component", "URL",
     "a client-initiated component to use: its capabilities are listed, specifications POSTed to "
     "it",
     true},
    {"shards", "N",
     "loops (threads): one holds the state, the others take connections (TLS, HTTP) and "
     "hand it requests; 1: one loop does all (default 0: one per core)"},
    {"log-level", "LEVEL",
     "error, warn (default: refusals, denials, withdrawals), info (also registrations), debug"},
};

constexpr std::string_view kSupervisorUsage =
    "usage: mplane supervisor [--listen ADDR:PORT] (--ca F --cert F --key F | --insecure)\n"
    "                         [--state FILE] [--registry FILE]... [options]\n"
    "Probes (component-initiated components) register and poll on the component face:\n"
    "  POST /register/capability, GET /show/specification, POST /register/result.\n"
    "Clients use the client face as they use `mplane component`: GET /capabilities,\n"
    "/capability, /capability/<token>; POST / (specification, redemption, interrupt), or\n"
    "POST /probe/<identity>/ for one probe; plus the architecture fork's GET /show/capability,\n"
    "POST /register/specification, POST /show/result. GET / is a status page.\n"
    "Stops cleanly on SIGINT/SIGTERM; the state file keeps what was registered, queued and\n"
    "measured.\n";

struct Settings {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8888;
  std::optional<std::pair<std::string, std::uint16_t>> component_face;
  std::optional<transport::TlsOptions> tls;
  std::vector<std::string> registries;
  std::vector<std::string> components;  // client-initiated components' URLs
  std::string state = "mplane-supervisor.db";
  supervisor::SupervisorOptions core;
  supervisor::FacePaths paths;
  conf::HttpLimits http;
  std::shared_ptr<const conf::AccessPolicy> access;  // null: everyone may use everything
  bool link_given = false;
  log::Level log_level = log::Level::kWarn;
  std::size_t shards = 0;  // 0: one per core
};

std::chrono::milliseconds ms(model::Micros us) { return std::chrono::milliseconds(us / 1000); }

Status<> duration(const ParsedArgs& args, const std::string& name, std::chrono::milliseconds& out) {
  if (!args.has(name)) return Ok{};
  auto us = model::parse_duration(args.get(name));
  if (!us) return fail("--" + name + " " + args.get(name) + ": " + us.error());
  out = ms(*us);
  return Ok{};
}

// The configuration file's settings (or the defaults: an empty SupervisorConfig).
Settings from_file(const conf::SupervisorConfig& c) {
  Settings s;
  if (c.listen) {  // both faces on one address
    s.host = c.listen->host;
    s.port = c.listen->port;
  } else if (!c.path.empty()) {  // the RI's layout: clients on [component], probes on [client]
    s.host = c.client_face.host;
    s.port = c.client_face.port;
    s.component_face = std::make_pair(c.component_face.host, c.component_face.port);
  }
  if (c.tls) {
    transport::TlsOptions t;
    t.ca_file = c.tls->ca_chain;
    t.cert_file = c.tls->cert;
    t.key_file = c.tls->key;
    s.tls = t;
  }
  s.registries = conf::registry_files(c);
  s.components = c.component_urls;
  if (!c.state.empty()) s.state = c.state;
  s.core.poll_idle = ms(c.poll_idle);
  s.core.poll_hold = ms(c.poll_hold);
  s.core.withdraw_after = ms(c.withdraw_after);
  s.core.result_retention = ms(c.result_retention);
  s.core.immediate_wait = ms(c.immediate_wait);
  if (!c.listen_cap_link.empty()) {
    s.core.capability_link = c.listen_cap_link;
    s.link_given = true;
  }
  s.paths = {c.registration_path, c.specification_path, c.result_path};
  s.http = c.http;
  if (c.access.restricted()) s.access = std::make_shared<conf::AccessPolicy>(c.access);
  s.log_level = c.log_level;
  return s;
}

Status<> apply_tls_flags(const ParsedArgs& args, Settings& s) {
  const bool tls_flags = args.has("ca") || args.has("cert") || args.has("key");
  if (tls_flags && (!args.has("ca") || !args.has("cert") || !args.has("key"))) {
    return fail("TLS needs all of --ca, --cert and --key");
  }
  if (tls_flags && args.has("insecure")) return fail("--insecure contradicts --ca/--cert/--key");
  if (tls_flags) {
    transport::TlsOptions t;
    t.ca_file = args.get("ca");
    t.cert_file = args.get("cert");
    t.key_file = args.get("key");
    s.tls = t;
  }
  if (args.has("insecure")) s.tls.reset();
  if (!s.tls && !args.has("insecure")) {
    return fail(
        "TLS with mutual authentication is mandatory: give --ca, --cert and --key (or a [TLS] "
        "section), or --insecure for plaintext");
  }
  return Ok{};
}

// The command line over the file's settings.
Result<Settings> configure(const ParsedArgs& args, const conf::SupervisorConfig& file) {
  Settings s = from_file(file);
  if (args.has("listen")) {
    auto a = conf::parse_listen_address(args.get("listen"));
    if (!a) return fail("--listen " + args.get("listen") + ": " + a.error());
    s.host = a->host;
    s.port = a->port;
    s.component_face.reset();
  }
  if (args.has("component-listen")) {
    auto a = conf::parse_listen_address(args.get("component-listen"));
    if (!a) return fail("--component-listen " + args.get("component-listen") + ": " + a.error());
    s.component_face = std::make_pair(a->host, a->port);
  }
  if (auto st = apply_tls_flags(args, s); !st) return fail(st.error());
  for (const std::string& r : args.all("registry")) s.registries.push_back(r);
  for (const std::string& u : args.all("component")) s.components.push_back(u);
  if (args.has("state")) s.state = args.get("state");
  for (auto [name, field] : {std::pair{"poll-idle", &s.core.poll_idle},
                             {"poll-hold", &s.core.poll_hold},
                             {"withdraw-after", &s.core.withdraw_after},
                             {"immediate-wait", &s.core.immediate_wait},
                             {"result-retention", &s.core.result_retention}}) {
    if (auto st = duration(args, name, *field); !st) return fail(st.error());
  }
  if (s.core.poll_idle.count() < 1000) return fail("--poll-idle must be at least 1s");
  if (args.has("link")) {
    s.core.capability_link = args.get("link");
    s.link_given = true;
  }
  if (s.link_given && !s.core.capability_link.ends_with('/')) s.core.capability_link += '/';
  if (args.has("shards")) {
    auto n = number_option(args, "shards", 0, 0, 64);
    if (!n) return fail(n.error());
    s.shards = static_cast<std::size_t>(*n);
  }
  if (args.has("log-level")) {
    auto level = log::parse_level(args.get("log-level"));
    if (!level) {
      return fail("--log-level " + args.get("log-level") + ": error, warn, info or debug");
    }
    s.log_level = *level;
  }
  if (s.access) {
    s.core.access = [policy = s.access](std::string_view client, std::string_view label,
                                        std::string_view probe) {
      return policy->allows(client, label, probe);
    };
  }
  return s;
}

// What runs on the shards: the home shard (0) holds the store, the core, its server and the
// links; the other shards (if any) each a FrontServer taking connections. Built on their loops,
// closed by the shards' shutdown hooks, destroyed after every shard has been joined.
struct Running {
  std::unique_ptr<supervisor::StateStore> store;
  std::unique_ptr<supervisor::Supervisor> core;
  std::unique_ptr<supervisor::SupervisorServer> server;
  std::vector<std::unique_ptr<supervisor::ComponentLink>> links;
  std::vector<std::unique_ptr<supervisor::FrontServer>> fronts;  // fronts[i] on shard i + 1

  std::uint16_t port() const { return fronts.empty() ? server->port() : fronts[0]->port(); }
  std::uint16_t component_port() const {
    return fronts.empty() ? server->component_port() : fronts[0]->component_port();
  }
};

std::int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

supervisor::SupervisorServerOptions server_options(const Settings& s, transport::TlsContext* tls) {
  supervisor::SupervisorServerOptions options;
  options.http.host = s.host;
  options.http.port = s.port;
  options.http.tls = tls;
  options.http.header_timeout_ms = static_cast<std::uint64_t>(s.http.header_timeout / 1000);
  options.http.min_body_rate = s.http.min_body_rate;
  options.http.max_output_bytes = s.http.max_output_bytes;
  options.http.connection_limits =  // one set of limits for every shard's listeners
      std::make_shared<transport::ConnectionLimits>(
          transport::ConnectionLimitOptions{.max_connections = s.http.max_connections,
                                            .max_per_peer = s.http.max_connections_per_peer,
                                            .max_body_bytes = s.http.max_request_bytes});
  if (s.component_face) {
    options.component_host = s.component_face->first;
    options.component_port = s.component_face->second;
  }
  options.paths = s.paths;
  return options;
}

// Home shard, first step: the core and its server, listening only when alone.
Status<> build_home(Running& r, const Settings& s, const supervisor::SupervisorServerOptions& o,
                    const model::RegistrySet& registries, bool alone, loop::Shard& shard) {
  r.core = std::make_unique<supervisor::Supervisor>(shard.loop(), registries, *r.store, s.core,
                                                    &wall_us);
  r.server = std::make_unique<supervisor::SupervisorServer>(shard.loop(), *r.core, registries, o);
  shard.add_shutdown_hook([&r] {
    for (auto& link : r.links) link->close();
    r.server->close();
    r.core->close();
  });
  return alone ? r.server->listen() : Ok{};
}

// Front shard `index` (> 0): listens on the same port as the others (SO_REUSEPORT) and forwards.
Status<> build_front(Running& r, supervisor::SupervisorServerOptions o, loop::ShardGroup& group,
                     std::size_t index, loop::Shard& shard) {
  if (index > 1) {  // the first front picked the port when 0 was asked for
    o.http.port = r.fronts[0]->port();
    o.component_port = r.fronts[0]->component_port();
  }
  auto post_to = [&group](std::size_t i) {
    return [&group, i](std::function<void()> work) {
      return group.post(i, loop::make_task(std::move(work)));
    };
  };
  auto front = std::make_unique<supervisor::FrontServer>(shard.loop(), *r.server, std::move(o),
                                                         post_to(0), post_to(index));
  supervisor::FrontServer* f = front.get();
  shard.add_shutdown_hook([f] { f->close(); });
  r.fronts.push_back(std::move(front));
  return f->listen();
}

// Home shard, last step: the links (the port is known now), the store read back, the links to
// client-initiated components; then requests are taken.
Status<> finish_home(Running& r, Settings& s, const model::RegistrySet& registries,
                     transport::TlsContext* client_tls, loop::Shard& shard) {
  if (!s.link_given) {  // the port is known now (0 picks one)
    const std::string host = s.host == "0.0.0.0" || s.host == "::" ? "127.0.0.1" : s.host;
    const bool v6 = host.find(':') != std::string::npos;
    s.core.capability_link = std::string(s.tls ? "https" : "http") + "://" +
                             (v6 ? "[" + host + "]" : host) + ":" + std::to_string(r.port()) + "/";
  }
  r.core->set_capability_link(s.core.capability_link);
  if (auto st = r.core->start(); !st) return fail(s.state + ": " + st.error());
  for (const std::string& url : s.components) {
    r.links.push_back(std::make_unique<supervisor::ComponentLink>(
        shard.loop(), *r.core, registries,
        supervisor::ComponentLinkOptions{.url = url, .tls = client_tls}));
    if (auto st = r.links.back()->start(); !st) return fail("--component " + st.error());
  }
  r.server->set_ready();
  return Ok{};
}

// Runs `step` on shard `index` and waits for it.
Status<> on_shard(loop::ShardGroup& group, std::size_t index,
                  const std::function<Status<>(loop::Shard&)>& step) {
  loop::StartBarrier barrier(1);
  const bool posted =
      group.post(index, loop::make_task([&] {
                   auto st = step(*loop::Shard::current());
                   barrier.done(st ? std::string_view() : std::string_view(st.error()));
                 }));
  if (!posted) return fail("shard " + std::to_string(index) + " is not running");
  return barrier.wait();
}

// Builds everything, shard by shard; the home shard takes requests once all is in place.
Status<> start_shards(Running& r, Settings& s, const model::RegistrySet& registries,
                      transport::TlsContext* tls, transport::TlsContext* client_tls,
                      loop::ShardGroup& group) {
  const auto options = server_options(s, tls);
  const bool alone = group.size() == 1;
  if (auto st = on_shard(
          group, 0,
          [&](loop::Shard& sh) { return build_home(r, s, options, registries, alone, sh); });
      !st) {
    return st;
  }
  for (std::size_t i = 1; i < group.size(); ++i) {
    auto st =
        on_shard(group, i, [&](loop::Shard& sh) { return build_front(r, options, group, i, sh); });
    if (!st) return st;
  }
  return on_shard(group, 0,
                  [&](loop::Shard& sh) { return finish_home(r, s, registries, client_tls, sh); });
}

}  // namespace

int run_supervisor(const std::vector<std::string>& raw, Io io) {
  auto args = parse_args(raw, kSupervisorOptions);
  if (!args) {
    io.err << "mplane supervisor: " << args.error() << " (see mplane supervisor --help)\n";
    return kExitUsage;
  }
  if (args->has("help")) {
    io.out << kSupervisorUsage << "Options:\n" << format_options(kSupervisorOptions);
    return kExitOk;
  }
  conf::SupervisorConfig file;
  if (args->has("config")) {  // a bad file is invalid input (exit 1), not a usage error
    auto loaded = conf::load_supervisor_config(args->get("config"));
    if (!loaded) {
      io.err << "mplane supervisor: " << loaded.error() << "\n";
      return kExitInvalid;
    }
    file = std::move(loaded.value());
  }
  auto settings = configure(*args, file);
  if (!settings) {
    io.err << "mplane supervisor: " << settings.error() << "\n";
    return kExitUsage;
  }
  Settings& s = *settings;
  log::set_level(s.log_level);
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  auto registries = conf::load_registries(s.registries);
  if (!registries) {
    io.err << "mplane supervisor: " << registries.error() << "\n";
    return kExitInvalid;
  }
  if (auto st = conf::check_registry_uri(file, *registries); !st) {
    io.err << "mplane supervisor: " << st.error() << "\n";
    return kExitInvalid;
  }
  if (s.tls && !s.access) {
    io.err << "mplane supervisor: no access control configured: every identity the domain CA "
              "certified may use every capability\n";
  }
  std::unique_ptr<transport::TlsContext> tls;
  std::unique_ptr<transport::TlsContext> client_tls;  // the same identity, to components
  if (s.tls) {
    for (auto role : {transport::TlsRole::kServer, transport::TlsRole::kClient}) {
      s.tls->role = role;
      auto ctx = transport::TlsContext::create(*s.tls);
      if (!ctx) {
        io.err << "mplane supervisor: " << ctx.error() << "\n";
        return kExitInvalid;
      }
      (role == transport::TlsRole::kServer ? tls : client_tls) = std::move(ctx.value());
    }
  } else {
    io.err << "mplane supervisor: WARNING: plaintext HTTP without authentication (--insecure)\n";
  }
  Running running;
  auto store = supervisor::open_sqlite_store(s.state);
  if (!store) {
    io.err << "mplane supervisor: " << store.error() << "\n";
    return kExitInvalid;
  }
  running.store = std::move(store.value());
  loop::ShardGroup group(s.shards);
  if (auto st = group.start(); !st) {
    io.err << "mplane supervisor: " << st.error() << "\n";
    return kExitInvalid;
  }
  if (auto st = start_shards(running, s, *registries, tls.get(), client_tls.get(), group); !st) {
    io.err << "mplane supervisor: " << st.error() << "\n";
    group.stop_all();
    group.join_all();
    return kExitInvalid;
  }
  if (auto st = group.install_signal_handlers(); !st) {
    io.err << "mplane supervisor: " << st.error() << "\n";
    group.stop_all();
    group.join_all();
    return kExitInvalid;
  }
  io.err << "mplane supervisor: listening on " << s.core.capability_link << " (port "
         << running.port() << ", components on port " << running.component_port() << "), "
         << group.size() << " shard(s), state " << s.state << "; SIGINT/SIGTERM stops\n";
  io.err.flush();
  group.run_until_stopped();
  io.err << "mplane supervisor: stopped\n";
  return kExitOk;
}

}  // namespace mplane::cli
