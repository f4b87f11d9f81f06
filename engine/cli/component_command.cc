// `mplane component`: a client-initiated component serving its capabilities over HTTP(S).
#include <malloc.h>

#include <iostream>

#include "conf/builtin.h"
#include "conf/component_config.h"
#include "engine/cli/args.h"
#include "engine/cli/command.h"
#include "engine/component/component_server.h"
#include "engine/services/builtin_services.h"
#include "parsers/base/log.h"
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
};

constexpr std::string_view kUsage =
    "usage: mplane component [--config FILE] [--listen ADDR:PORT] (--ca F --cert F --key F | "
    "--insecure)\n"
    "                        [--service NAME]... [--registry FILE]...\n"
    "Serves the capabilities of the enabled services and runs the specifications clients send\n"
    "(GET /capability, /capability/<token>, /capabilities; POST / or /specification). Stops\n"
    "cleanly on SIGINT/SIGTERM: running jobs are interrupted and their results flushed.\n";

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
  conf::ComponentConfig file;
  if (args->has("config")) {  // a bad file is invalid input (exit 1), not a usage error
    auto loaded = conf::load_component_config(args->get("config"));
    if (!loaded) {
      io.err << "mplane component: " << loaded.error() << "\n";
      return kExitInvalid;
    }
    file = std::move(loaded.value());
  }
  auto config = configure(*args, std::move(file));
  if (!config) {
    io.err << "mplane component: " << config.error() << "\n";
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
  std::unique_ptr<transport::TlsContext> tls;
  std::unique_ptr<transport::TlsContext> export_tls;  // the same identity, as a client
  if (config->tls) {
    transport::TlsOptions t;
    t.ca_file = config->tls->ca_chain;
    t.cert_file = config->tls->cert;
    t.key_file = config->tls->key;
    for (auto role : {transport::TlsRole::kServer, transport::TlsRole::kClient}) {
      t.role = role;
      auto ctx = transport::TlsContext::create(t);
      if (!ctx) {
        io.err << "mplane component: " << ctx.error() << "\n";
        return kExitInvalid;
      }
      (role == transport::TlsRole::kServer ? tls : export_tls) = std::move(ctx.value());
    }
    if (!config->access_control) {
      io.err << "mplane component: no [Roles]/[Authorizations] (TLS from the command line): "
                "every identity of the domain may use every capability\n";
    }
  } else {
    io.err << "mplane component: WARNING: plaintext HTTP without authentication (--insecure)\n";
  }
  runtime::Engine engine(*registries, runtime::engine_options(*config));
  if (auto st = engine.start(); !st) {
    io.err << "mplane component: " << st.error() << "\n";
    return kExitInvalid;
  }
  component::ComponentOptions options;
  options.host = config->listen_host;
  options.port = config->listen_port;
  options.capability_link = config->listen_cap_link;
  options.http.tls = tls.get();
  options.http.header_timeout_ms = static_cast<std::uint64_t>(config->engine.header_timeout / 1000);
  options.http.min_body_rate = config->engine.min_body_rate;
  options.http.max_output_bytes = config->engine.max_output_bytes;
  options.http.connection_limits = std::make_shared<transport::ConnectionLimits>(
      transport::ConnectionLimitOptions{.max_connections = config->engine.max_connections,
                                        .max_per_peer = config->engine.max_connections_per_peer,
                                        .max_body_bytes = config->engine.max_request_bytes});
  options.export_tls = export_tls.get();
  options.scheme = tls ? "https" : "http";
  component::ComponentServer server(engine, *registries, options);
  if (auto st = server.start(); !st) {
    io.err << "mplane component: " << st.error() << "\n";
    engine.stop();
    engine.join();
    return kExitInvalid;
  }
  if (auto st = engine.install_signal_handlers(); !st) {
    io.err << "mplane component: " << st.error() << "\n";
    engine.stop();
    engine.join();
    return kExitInvalid;
  }
  const bool v6 = options.host.find(':') != std::string::npos;
  io.err << "mplane component: listening on " << options.scheme << "://"
         << (v6 ? "[" + options.host + "]" : options.host) << ":" << server.port() << "/ with "
         << engine.shard_count() << " shard(s), " << engine.capabilities().size()
         << " capabilities; SIGINT/SIGTERM stops\n";
  io.err.flush();
  engine.join();
  io.err << "mplane component: stopped\n";
  return kExitOk;
}

}  // namespace mplane::cli
