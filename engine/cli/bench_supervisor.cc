#include "engine/cli/bench_supervisor.h"

#include <iomanip>

#include "engine/cli/args.h"
#include "engine/client/http_load.h"
#include "engine/client/supervisor_load.h"
#include "transport/http/http_url.h"

namespace mplane::cli {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"component-face", "URL", "the supervisor's component face, http(s)://IP:PORT/"},
    {"client-face", "URL", "its client face (the same URL when one port serves both)"},
    {"probes", "N", "simulated probes that answer specifications (default 10)"},
    {"clients", "M", "simulated clients, one specification in flight each (default 4)"},
    {"duration", "S", "seconds of the measured window, after every probe registered (default 10)"},
    {"idle-probes", "K", "more probes that register and poll but get no work (default 0)"},
    {"pki", "DIR",
     "https: the domain directory whose ca.crt the supervisor trusts; probe and client "
     "certificates are issued into DIR/bench/ once and reused"},
    {"insecure", "", "allow http:// faces (probes then name themselves by Forged-MPlane-Identity)"},
    {"label-suffix", "", "client labels end in -<digits> (the RI's supervisor refuses others)"},
    {"threads", "T", "loops (threads) sharing the probes and clients (default 1)"},
    {"wait", "S", "the probes' long poll, GET /show/specification?wait=S (default 20)"},
    {"poll-interval", "S",
     "a probe's pause when a poll reply carries no callback specification (default 1)"},
    {"redeem-interval", "S", "a client's pause between redemptions of a receipt (default 0.005)"},
    {"ramp", "S", "spread the probes' first registrations over S seconds (default 2)"},
    {"settle", "S", "pause between the last registration and the window (default 1)"},
    {"max-registering", "N",
     "registrations (connections, TLS handshakes) in flight per thread (default 16)"},
    {"pid", "P", "the supervisor's process id: its memory and CPU time are reported"},
};
constexpr std::string_view kUsage =
    "usage: mplane bench supervisor --component-face URL --client-face URL [--probes N] "
    "[--clients M] [--duration S] [--idle-probes K] [--pki DIR | --insecure] [--label-suffix] "
    "[--pid P]\n"
    "Simulated probes register, long-poll and answer; simulated clients send specifications "
    "through the\nsupervisor and redeem them. Prints `round trips/s: N`, latency percentiles, "
    "polls/s, errors by kind.\n";

// The faces' URLs; usage errors (exit 2) from the arguments alone.
Status<> check_faces(const ParsedArgs& args) {
  if (!args.has("component-face") || !args.has("client-face")) {
    return fail("--component-face and --client-face are required");
  }
  for (const char* face : {"component-face", "client-face"}) {
    auto url = transport::parse_http_url(args.get(face));
    if (!url) return fail(url.error());
    if (!client::is_ip_literal(url->host)) return fail(url->host + " is not an IP address");
    if (url->tls && !args.has("pki")) return fail("an https face needs --pki DIR");
    if (!url->tls && !args.has("insecure")) {
      return fail(std::string("--") + face + " is http://: add --insecure to run without TLS");
    }
  }
  return Ok{};
}

// The load's options; usage errors (exit 2) from the arguments alone, the first one found.
Result<client::SupervisorLoadOptions> load_options(const ParsedArgs& args) {
  if (auto st = check_faces(args); !st) return fail(st.error());
  Status<> bad = Ok{};
  auto number = [&](const char* name, double fallback, double min, double max) {
    auto n = number_option(args, name, fallback, min, max);
    if (!n && bad) bad = fail(n.error());
    return n ? *n : fallback;
  };
  client::SupervisorLoadOptions o;
  o.component_face = transport::parse_http_url(args.get("component-face")).value();
  o.client_face = transport::parse_http_url(args.get("client-face")).value();
  o.pki_dir = args.get("pki");
  o.probes = static_cast<int>(number("probes", 10, 0, 100000));
  o.clients = static_cast<int>(number("clients", 4, 0, 10000));
  o.seconds = number("duration", 10, 0.1, 86400);
  o.idle_probes = static_cast<int>(number("idle-probes", 0, 0, 100000));
  o.threads = static_cast<int>(number("threads", 1, 1, 64));
  o.wait_s = static_cast<int>(number("wait", 20, 0, 3600));
  o.poll_interval_s = number("poll-interval", 1, 0, 3600);
  o.redeem_interval_s = number("redeem-interval", 0.005, 0, 60);
  o.ramp_s = number("ramp", 2, 0, 3600);
  o.settle_s = number("settle", 1, 0, 60);
  o.max_registering = static_cast<int>(number("max-registering", 16, 1, 10000));
  o.supervisor_pid = static_cast<int>(number("pid", 0, 0, 1e9));
  o.label_suffix = args.has("label-suffix");
  if (!bad) return fail(bad.error());
  return o;
}

void print_supervisor_usage(const client::SupervisorLoadReport& r, int registered, Io io) {
  const auto& before = r.supervisor_before;
  const auto& end = r.supervisor_end;
  if (!end.ok) return;
  io.out << "supervisor: VmRSS " << before.vm_rss_kb << " kB before, " << end.vm_rss_kb
         << " kB at the end (VmHWM " << end.vm_hwm_kb << " kB)";
  if (registered > 0 && end.vm_rss_kb >= before.vm_rss_kb) {
    io.out << ", " << static_cast<double>(end.vm_rss_kb - before.vm_rss_kb) / registered
           << " kB per registered probe";
  }
  io.out << "\nCPU s over the window: supervisor " << end.cpu_s - r.supervisor_start.cpu_s
         << ", load generator " << r.own_cpu_s << "\n";
}

int print_report(client::SupervisorLoadReport& r, const client::SupervisorLoadOptions& o, Io io) {
  const auto lat = client::summarize_latencies(r.latencies_ns);
  const double secs = r.elapsed_s > 0 ? r.elapsed_s : 1;
  io.out << std::fixed << std::setprecision(2);  // the RI manages a fraction of one per second
  io.out << "round trips/s: " << static_cast<double>(r.latencies_ns.size()) / secs << "\n";
  io.out << "latency: p50 " << lat.p50 << " ms, p99 " << lat.p99 << " ms, max " << lat.max
         << " ms, mean " << lat.mean << " ms\n";
  io.out << "polls/s: " << static_cast<double>(r.polls) / secs << "\n";
  io.out << "round trips: " << r.latencies_ns.size() << " (specifications " << r.specifications
         << ", redemptions " << r.redemptions << ", results posted " << r.results_posted
         << ", in flight at the end " << r.in_flight_at_end << "), " << o.probes << " probes + "
         << o.idle_probes << " idle, " << o.clients << " clients, " << r.targets
         << " target path(s), " << r.elapsed_s << " s (set-up " << r.setup_s << " s, "
         << r.registrations << " registrations)\n";
  std::uint64_t errors = 0;
  for (const auto& [kind, n] : r.errors) errors += n;
  io.out << "errors: " << errors << "\n";
  for (const auto& [kind, n] : r.errors) io.out << "  " << kind << ": " << n << "\n";
  print_supervisor_usage(r, o.probes + o.idle_probes, io);
  return r.latencies_ns.empty() && o.clients > 0 ? kExitInvalid : kExitOk;
}

}  // namespace

void print_bench_supervisor_help(std::ostream& out) {
  out << kUsage << "Options of `bench supervisor`:\n" << format_options(kOptions);
}

int run_bench_supervisor(const std::vector<std::string>& raw, Io io) {
  auto args = parse_args(raw, kOptions);
  if (!args) {
    io.err << "mplane bench supervisor: " << args.error() << " (see mplane bench --help)\n";
    return kExitUsage;
  }
  if (args->has("help")) {
    print_bench_supervisor_help(io.out);
    return kExitOk;
  }
  auto options = load_options(*args);
  if (!options) {
    io.err << "mplane bench supervisor: " << options.error() << "\n";
    return kExitUsage;
  }
  auto report = client::run_supervisor_load(*options);
  if (!report) {
    io.err << "mplane bench supervisor: " << report.error() << "\n";
    return kExitInvalid;
  }
  return print_report(report.value(), *options, io);
}

}  // namespace mplane::cli
