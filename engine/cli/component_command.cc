// `mplane component`: a client-initiated component serving its capabilities over HTTP(S),
// and/or a component-initiated one registering with supervisors (--supervisor, or
// `workflow = component-initiated` in the configuration).
#include <malloc.h>

#include <cstdlib>
#include <iostream>

#include "conf/builtin.h"
#include "conf/component_config.h"
#include "engine/cli/args.h"
#include "engine/cli/command.h"
#include "engine/cli/http_limits.h"
#include "engine/component/component_initiator.h"
#include "engine/component/component_server.h"
#include "engine/services/builtin_services.h"
#include "parsers/base/log.h"
#include "transport/http/http_url.h"
#include "transport/tls/tls_context.h"

namespace mplane::cli {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"config", "FILE", "component configuration (INI, RI layout; see conf/component.conf)"},
    {"listen", "ADDR:PORT", "address to listen on (default 0.0.0.0:1228, or the configuration's)"},
    {"ca", "FILE", "CA certificates (PEM) that peers' certificates must chain to"},
    {"cert", "FILE", "this component's certificate (PEM)"},
    {"key", "FILE", "this component's private key (PEM)"},
    {"insecure", "", "plaintext HTTP without authentication (a warning is printed)"},
    {"service", "NAME",
     "enable a built-in service with its default capability (" + conf::service_names_text() + ")",
     true},
    {"shards", "N",
     "event-loop threads (default: the configuration's [engine] shards, else one per core)"},
    {"registry", "FILE", "load an element registry besides the built-in ones", true},
    {"log-level", "LEVEL",
     "error, warn (default: refused handshakes, denied requests, overloads, dropped "
     "connections), info (also an access log), debug"},
    {"supervisor", "URL",
     "register with this supervisor and run its specifications (component-initiated; "
     "https://HOST:PORT, or http://HOST:PORT with --insecure)",
     true},
    {"spool", "DIR",
     "results no supervisor took wait in DIR/spool-HOST-PORT (default: the configuration's "
     "spool, else $XDG_STATE_HOME/mplane, else ~/.local/state/mplane)"},
    {"poll-interval", "SECONDS",
     "between polls when the supervisor sets no pace (default 5, or the configuration's)"},
};

constexpr std::string_view kUsage =
    "usage: mplane component [--config FILE] [--listen ADDR:PORT] (--ca F --cert F --key F | "
    "--insecure)\n"
    "                        [--service NAME]... [--registry FILE]...\n"
    "                        [--supervisor URL]... [--spool DIR]\n"
    "Serves the capabilities of the enabled services and runs the specifications clients send\n"
    "(GET /capability, /capability/<token>, /capabilities; POST / or /specification).\n"
    "With --supervisor (or `workflow = component-initiated`), registers with each supervisor\n"
    "instead, polls it for specifications and posts their results; results it cannot take wait\n"
    "in the spool, on disk, until it can. Listens too only with --listen. Stops cleanly on\n"
    "SIGINT/SIGTERM: running jobs are interrupted, their results flushed or spooled.\n";

Status<> apply_listen(const std::string& listen, conf::ComponentConfig& c) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return fail("--listen " + listen + ": expected ADDR:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string port = listen.substr(colon + 1);
  char* end = nullptr;
  const long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 0 || p > 65535)
    return fail("--listen " + listen + ": bad port");
  c.listen_host = host;
  c.listen_port = static_cast<std::uint16_t>(p);
  return Ok{};
}

// Applies the command-line options to `c` (the configuration file's, or the defaults). The
// errors are usage errors.
Result<conf::ComponentConfig> configure(const ParsedArgs& args, conf::ComponentConfig c) {
  for (const std::string& name : args.all("service")) {
    const auto names = conf::service_names();
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      std::string error = "--service " + name + ": no such built-in service (";
      for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) error += ", ";
        error += names[i];
      }
      return fail(error + ")");
    }
    const bool already = std::any_of(c.services.begin(), c.services.end(),
                                     [&](const conf::ServiceConfig& s) { return s.name == name; });
    if (!already) c.services.push_back(conf::service_config(name, {}, "--service " + name).value());
  }
  if (c.services.empty()) return fail("no service enabled: give --service NAME or --config FILE");
  if (args.has("listen")) {
    if (auto st = apply_listen(args.get("listen"), c); !st) return fail(st.error());
  }
  for (const std::string& r : args.all("registry")) c.registries.push_back(r);
  if (args.has("log-level")) {
    auto level = log::parse_level(args.get("log-level"));
    if (!level)
      return fail("--log-level " + args.get("log-level") + ": error, warn, info or debug");
    c.engine.log_level = *level;
  }
  auto shards = number_option(args, "shards", c.engine.shards, 0, 1024);
  if (!shards) return fail(shards.error());
  c.engine.shards = static_cast<std::uint32_t>(*shards);
  const bool tls_flags = args.has("ca") || args.has("cert") || args.has("key");
  if (tls_flags) {
    if (!args.has("ca") || !args.has("cert") || !args.has("key")) {
      return fail("TLS needs all of --ca, --cert and --key");
    }
    c.tls = conf::TlsFiles{args.get("cert"), args.get("key"), args.get("ca")};
  }
  if (args.has("insecure")) {
    if (tls_flags) return fail("--insecure contradicts --ca/--cert/--key");
    c.tls.reset();
  } else if (!c.tls) {
    return fail(
        "TLS with mutual authentication is mandatory: give --ca, --cert and --key (or a "
        "[TLS] section), or --insecure for plaintext");
  }
  return c;
}

// The component-initiated side: the supervisors to register with, where undelivered results
// wait, how often to poll without callback control.
struct Initiation {
  std::vector<transport::HttpUrl> supervisors;
  std::string spool_base;
  std::chrono::milliseconds poll_interval{5000};
};

// $XDG_STATE_HOME/mplane, else ~/.local/state/mplane (the XDG base directory rule).
Result<std::string> default_spool_base() {
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return std::string(x) + "/mplane";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/state/mplane";
  return fail("no spool directory: give --spool DIR (neither XDG_STATE_HOME nor HOME is set)");
}

// BASE/spool-HOST-PORT (an IPv6 host's colons as '_').
std::string spool_dir(const std::string& base, const transport::HttpUrl& url) {
  std::string host = url.host;
  std::replace(host.begin(), host.end(), ':', '_');
  return base + "/spool-" + host + "-" + std::to_string(url.port);
}

// A supervisor URL: https with TLS, http without (--insecure); no path (the paths are the
// configuration's).
Result<transport::HttpUrl> supervisor_url(const std::string& text, bool tls) {
  auto url = transport::parse_http_url(text);
  if (!url) return fail("--supervisor " + text + ": " + url.error());
  if (url->has_path && url->path != "/") {
    return fail("--supervisor " + text +
                ": give no path (registration_path, specification_path and result_path are "
                "set in the configuration)");
  }
  if (url->tls != tls) {
    return fail("--supervisor " + text +
                (tls ? ": an http:// supervisor needs --insecure"
                     : ": https needs --ca, --cert and --key"));
  }
  return url;
}

// Errors are usage errors. The configuration's client_host/client_port count as one more
// supervisor when its workflow is component-initiated (https iff TLS, as the RI's).
Result<Initiation> initiation(const ParsedArgs& args, const conf::ComponentConfig& c) {
  Initiation in;
  const bool tls = c.tls.has_value();
  for (const std::string& text : args.all("supervisor")) {
    auto url = supervisor_url(text, tls);
    if (!url) return fail(url.error());
    in.supervisors.push_back(*url);
  }
  if (c.workflow == conf::Workflow::kComponentInitiated) {
    transport::HttpUrl url;
    url.tls = tls;
    url.host = c.client_host;
    url.port = c.client_port;
    in.supervisors.push_back(url);
  }
  if (args.has("spool")) {
    in.spool_base = args.get("spool");
  } else if (!c.spool.empty()) {
    in.spool_base = c.spool;
  } else if (!in.supervisors.empty()) {
    auto base = default_spool_base();
    if (!base) return fail(base.error());
    in.spool_base = *base;
  }
  const double fallback = static_cast<double>(c.poll_interval) / model::kMicrosPerSecond;
  auto seconds = number_option(args, "poll-interval", fallback, 1, 3600);
  if (!seconds) return fail(seconds.error());
  in.poll_interval = std::chrono::milliseconds(static_cast<std::int64_t>(*seconds * 1000));
  return in;
}

// The component's TLS contexts: as a server and as a client (indirect export, supervisors),
// with the same identity. Null without TLS.
struct TlsContexts {
  std::unique_ptr<transport::TlsContext> server, client;
};
Result<TlsContexts> tls_contexts(const conf::ComponentConfig& config) {
  TlsContexts out;
  if (!config.tls) return out;
  transport::TlsOptions t;
  t.ca_file = config.tls->ca_chain;
  t.cert_file = config.tls->cert;
  t.key_file = config.tls->key;
  for (auto role : {transport::TlsRole::kServer, transport::TlsRole::kClient}) {
    t.role = role;
    auto ctx = transport::TlsContext::create(t);
    if (!ctx) return fail(ctx.error());
    (role == transport::TlsRole::kServer ? out.server : out.client) = std::move(ctx.value());
  }
  return out;
}

component::ComponentOptions server_options(const conf::ComponentConfig& config,
                                           const TlsContexts& tls) {
  component::ComponentOptions options;
  options.host = config.listen_host;
  options.port = config.listen_port;
  options.capability_link = config.listen_cap_link;
  options.http.tls = tls.server.get();
  apply_http_limits(config.engine, options.http);
  options.export_tls = tls.client.get();
  options.scheme = tls.server ? "https" : "http";
  return options;
}

component::InitiatorOptions initiator_options(const conf::ComponentConfig& config,
                                              const Initiation& in, std::size_t index,
                                              transport::TlsContext* tls) {
  component::InitiatorOptions o;
  o.supervisor = in.supervisors[index];
  o.registration_path = config.registration_path;
  o.specification_path = config.specification_path;
  o.result_path = config.result_path;
  o.tls = tls;
  o.spool_dir = spool_dir(in.spool_base, o.supervisor);
  o.spool_max_bytes = config.spool_max_bytes;
  o.shard = index;  // spread over the shards
  o.poll_interval = in.poll_interval;
  return o;
}

// Loads the configuration file (exit 1 when bad) and applies the options (exit 2).
Result<conf::ComponentConfig> load_config(const ParsedArgs& args, int& exit_code) {
  conf::ComponentConfig file;
  if (args.has("config")) {
    auto loaded = conf::load_component_config(args.get("config"));
    if (!loaded) {
      exit_code = kExitInvalid;
      return fail(loaded.error());
    }
    file = std::move(loaded.value());
  }
  exit_code = kExitUsage;
  return configure(args, std::move(file));
}

// Starts what the options ask for on the running engine: the server (with --listen, or without
// any supervisor) and one initiator per supervisor.
struct Started {
  std::unique_ptr<component::ComponentServer> server;
  std::vector<std::unique_ptr<component::ComponentInitiator>> initiators;
  std::vector<std::string> faces;  // "listening on URL", "registering with URL (spool DIR)"
};
Status<> start_faces(runtime::Engine& engine, const model::RegistrySet& registries,
                     const conf::ComponentConfig& config, const Initiation& in, bool listen,
                     const TlsContexts& tls, Started& started) {
  if (listen) {
    const auto options = server_options(config, tls);
    started.server = std::make_unique<component::ComponentServer>(engine, registries, options);
    if (auto st = started.server->start(); !st) return st;
    const bool v6 = options.host.find(':') != std::string::npos;
    started.faces.push_back("listening on " + options.scheme + "://" +
                            (v6 ? "[" + options.host + "]" : options.host) + ":" +
                            std::to_string(started.server->port()) + "/");
  }
  for (std::size_t i = 0; i < in.supervisors.size(); ++i) {
    auto o = initiator_options(config, in, i, tls.client.get());
    started.faces.push_back(std::string("registering with ") +
                            (o.supervisor.tls ? "https://" : "http://") + o.supervisor.authority() +
                            " (spool " + o.spool_dir + ")");
    auto initiator = std::make_unique<component::ComponentInitiator>(engine, registries, o);
    if (auto st = initiator->start(); !st) return st;
    started.initiators.push_back(std::move(initiator));
  }
  return Ok{};
}

}  // namespace

int run_component(const std::vector<std::string>& raw, Io io) {
  auto args = parse_args(raw, kOptions);
  if (!args) {
    io.err << "mplane component: " << args.error() << " (see mplane component --help)\n";
    return kExitUsage;
  }
  if (args->has("help")) {
    io.out << kUsage << "Options:\n" << format_options(kOptions);
    return kExitOk;
  }
  int exit_code = kExitOk;
  auto config = load_config(*args, exit_code);
  if (!config) {
    io.err << "mplane component: " << config.error() << "\n";
    return exit_code;
  }
  auto in = initiation(*args, *config);
  if (!in) {
    io.err << "mplane component: " << in.error() << "\n";
    return kExitUsage;
  }
  log::set_level(config->engine.log_level);
  // Buffers of 256 KiB and more (large requests and replies) are mapped and unmapped on their
  // own, so that their memory goes back to the system when a large exchange or a hostile
  // client is over (glibc's dynamic threshold would otherwise keep them in the heap).
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  auto registries = conf::load_registries(conf::registry_files(*config));
  if (!registries) {
    io.err << "mplane component: " << registries.error() << "\n";
    return kExitInvalid;
  }
  auto tls = tls_contexts(*config);
  if (!tls) {
    io.err << "mplane component: " << tls.error() << "\n";
    return kExitInvalid;
  }
  if (config->tls && !config->access_control) {
    io.err << "mplane component: no [Roles]/[Authorizations] (TLS from the command line): "
              "every identity of the domain may use every capability\n";
  } else if (!config->tls) {
    io.err << "mplane component: WARNING: plaintext HTTP without authentication (--insecure)\n";
  }
  runtime::Engine engine(*registries, runtime::engine_options(*config));
  if (auto st = engine.start(); !st) {
    io.err << "mplane component: " << st.error() << "\n";
    return kExitInvalid;
  }
  Started started;  // destroyed after engine.join(): the initiators' handles live in it
  const bool listen = in->supervisors.empty() || args->has("listen");
  auto st = start_faces(engine, *registries, *config, *in, listen, *tls, started);
  if (st) st = engine.install_signal_handlers();
  if (!st) {
    io.err << "mplane component: " << st.error() << "\n";
    engine.stop();
    engine.join();
    return kExitInvalid;
  }
  std::string faces;
  for (const std::string& f : started.faces) faces += (faces.empty() ? "" : ", ") + f;
  io.err << "mplane component: " << faces << " with " << engine.shard_count() << " shard(s), "
         << engine.capabilities().size() << " capabilities; SIGINT/SIGTERM stops\n";
  io.err.flush();
  engine.join();
  io.err << "mplane component: stopped\n";
  return kExitOk;
}

}  // namespace mplane::cli
