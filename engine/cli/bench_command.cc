// `mplane bench http`: drives an HTTP server with mPlane specifications over keep-alive
// connections (one request in flight per connection) and reports requests/s and latency
// percentiles. Works against our component, the Python RI's, or any HTTP server.
#include <algorithm>
#include <fstream>
#include <sstream>

#include "conf/builtin.h"
#include "engine/cli/args.h"
#include "engine/cli/bench_supervisor.h"
#include "engine/cli/command.h"
#include "engine/client/http_load.h"
#include "parsers/json/message_reader.h"
#include "parsers/json/message_writer.h"
#include "transport/http/http_url.h"
#include "transport/tls/tls_context.h"

namespace mplane::cli {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"url", "URL", "server to drive, http://HOST:PORT/PATH or https://HOST:PORT/PATH"},
    {"ca", "FILE", "https: CA certificates (PEM) the server must chain to"},
    {"cert", "FILE", "https: our client certificate (PEM)"},
    {"key", "FILE", "https: our client key (PEM)"},
    {"spec", "FILE", "the specification (JSON) to POST"},
    {"param", "NAME=VALUE",
     "set a parameter per request; {n} in VALUE is a counter, {random} 16 hex digits", true},
    {"connections", "N", "concurrent keep-alive connections (default 16)"},
    {"duration", "S", "seconds to run (default 10)"},
    {"registry", "FILE", "load an element registry besides the built-in ones", true},
    {"new-connections", "",
     "one request per connection: measures connection set-up (with https: full TLS handshakes, no "
     "resumption)"},
};
constexpr std::string_view kUsage =
    "usage: mplane bench http --url URL --spec FILE [--param NAME=VALUE]... [--connections N] "
    "[--duration S]\n"
    "Prints `requests/s: N` and the latency percentiles of the specification round trips.\n";
constexpr std::string_view kSubcommands =
    "Subcommands:\n"
    "  http    keep N keep-alive connections busy POSTing a specification to URL (any HTTP\n"
    "          server: our component, the RI's, nginx) for S seconds\n"
    "  supervisor  simulated probes and clients around a supervisor (ours or the RI's):\n"
    "          relayed round trips/s, latency, polls/s, the supervisor's memory per probe\n";
constexpr std::string_view kMarker = "__mplane_bench_value__";

using client::BodyTemplate;

// The body template from --spec and the last --param (its value, with a marker in its place).
Result<BodyTemplate> body_template(const ParsedArgs& args) {
  std::ifstream in(args.get("spec"), std::ios::binary);
  if (!in) return fail(args.get("spec") + ": cannot open file");
  std::ostringstream text;
  text << in.rdbuf();
  BodyTemplate t;
  const auto params = args.all("param");
  if (params.empty()) {
    t.before = text.str();
    return t;
  }
  auto regs = conf::load_registries(args.all("registry"));
  if (!regs) return fail(regs.error());
  json::MessageReader reader(*regs);
  auto spec = json::parse_owned(reader, text.str());
  if (!spec) return fail(args.get("spec") + ": " + spec.error().describe(text.str()));
  const std::string& p = params.back();
  const auto eq = p.find('=');
  if (eq == std::string::npos) return fail("--param " + p + ": expected NAME=VALUE");
  model::Parameter* param = nullptr;
  for (auto& candidate : (*spec)->message.parameters) {
    if (candidate.element->name == p.substr(0, eq)) param = &candidate;
  }
  if (!param)
    return fail("--param " + p + ": the specification has no parameter " + p.substr(0, eq));
  param->value = model::Value::string(kMarker);
  const std::string body = json::to_json((*spec)->message, {.pretty = false});
  const auto at = body.find(kMarker);
  t.before = body.substr(0, at);
  t.after = body.substr(at + kMarker.size());
  t.value = p.substr(eq + 1);
  return t;
}

int print_report(client::HttpLoadReport& report, int connections, Io io) {
  auto& lat = report.latencies_ns;
  io.out << "requests/s: "
         << static_cast<std::uint64_t>(static_cast<double>(lat.size()) / report.elapsed_s) << "\n";
  io.out << "latency: p50 " << client::percentile_ms(lat, 0.50) << " ms, p90 "
         << client::percentile_ms(lat, 0.90) << " ms, p99 " << client::percentile_ms(lat, 0.99)
         << " ms, max "
         << (lat.empty() ? 0.0
                         : static_cast<double>(*std::max_element(lat.begin(), lat.end())) / 1e6)
         << " ms\n";
  io.out << "responses: " << lat.size() << " (200: " << report.ok
         << ", other status: " << report.non_200 << ", receipts: " << report.receipts
         << "), connection errors: " << report.errors << ", " << connections << " connections, "
         << report.elapsed_s << " s\n";
  return lat.empty() ? kExitInvalid : kExitOk;
}

// Usage errors (exit 2), from the arguments alone: before any file is read.
Status<> check_usage(const ParsedArgs& args) {
  if (!args.has("url") || !args.has("spec")) return fail("--url and --spec are required");
  auto target = transport::parse_http_url(args.get("url"));
  if (!target) return fail(target.error());
  if (target->tls && !(args.has("ca") && args.has("cert") && args.has("key"))) {
    return fail("an https URL needs --ca, --cert and --key");
  }
  for (const std::string& p : args.all("param")) {
    if (p.find('=') == std::string::npos) return fail("--param " + p + ": expected NAME=VALUE");
  }
  auto connections = number_option(args, "connections", 16, 1, 10000);
  if (!connections) return fail(connections.error());
  auto duration = number_option(args, "duration", 10, 0.1, 86400);
  if (!duration) return fail(duration.error());
  return Ok{};
}

Result<std::unique_ptr<transport::TlsContext>> client_tls(const ParsedArgs& args) {
  transport::TlsOptions t;
  t.role = transport::TlsRole::kClient;
  t.ca_file = args.get("ca");
  t.cert_file = args.get("cert");
  t.key_file = args.get("key");
  return transport::TlsContext::create(t);
}

void print_help(std::ostream& out) {
  out << kUsage << kSubcommands << "Options of `bench http`:\n" << format_options(kOptions);
  out << "\n";
  print_bench_supervisor_help(out);
}

}  // namespace

int run_bench(const std::vector<std::string>& raw, Io io) {
  if (raw.empty() || raw[0] == "--help" || raw[0] == "-h") {
    print_help(raw.empty() ? io.err : io.out);
    return raw.empty() ? kExitUsage : kExitOk;
  }
  if (raw[0] == "supervisor") return run_bench_supervisor({raw.begin() + 1, raw.end()}, io);
  if (raw[0] != "http") {
    io.err << "mplane bench: unknown subcommand '" << raw[0]
           << "' (expected http or supervisor; see mplane bench --help)\n";
    return kExitUsage;
  }
  auto args = parse_args({raw.begin() + 1, raw.end()}, kOptions);
  if (!args) {
    io.err << "mplane bench http: " << args.error() << " (see mplane bench http --help)\n";
    return kExitUsage;
  }
  if (args->has("help")) {
    print_help(io.out);
    return kExitOk;
  }
  if (auto st = check_usage(*args); !st) {
    io.err << "mplane bench http: " << st.error() << "\n";
    return kExitUsage;
  }
  const transport::HttpUrl target = transport::parse_http_url(args->get("url")).value();
  auto body = body_template(*args);
  if (!body) {
    io.err << "mplane bench http: " << body.error() << "\n";
    return kExitInvalid;
  }
  std::unique_ptr<transport::TlsContext> tls;
  if (target.tls) {
    auto ctx = client_tls(*args);
    if (!ctx) {
      io.err << "mplane bench http: " << ctx.error() << "\n";
      return kExitInvalid;
    }
    tls = std::move(ctx.value());
  }
  const double connections = number_option(*args, "connections", 16, 1, 10000).value();
  const double duration = number_option(*args, "duration", 10, 0.1, 86400).value();
  client::HttpLoadOptions load;
  load.target = target;
  load.tls = tls.get();
  load.connections = static_cast<int>(connections);
  load.seconds = duration;
  load.new_connections = args->has("new-connections");
  auto report = client::run_http_load(load, body.value());
  if (!report) {
    io.err << "mplane bench: " << report.error() << "\n";
    return kExitUsage;
  }
  const int status = print_report(report.value(), load.connections, io);
  return status;
}

}  // namespace mplane::cli
