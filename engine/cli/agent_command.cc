// `mplane agent connect` and `mplane router`: IP over AMQP (issue 13), wire-compatible with
// ioppytest-agent (../shared/agent/WIRE.md). Each runs on one libuv loop of its own; SIGINT and
// SIGTERM stop it cleanly (the tun removed, the connection closed, exit 0), SIGUSR1 prints its
// counters, which are printed on exit too.
#include <uv.h>

#include <csignal>
#include <cstdlib>
#include <functional>
#include <sstream>

#include "engine/agent/packet_router.h"
#include "engine/agent/routing_keys.h"
#include "engine/agent/tun_agent.h"
#include "engine/cli/args.h"
#include "engine/cli/command.h"
#include "parsers/base/log.h"

namespace mplane::cli {
namespace {

namespace amqp = transport::amqp;

const std::vector<OptionSpec> kAgentOptions = {
    {"url", "URL", "the broker, amqp://USER:PASS@HOST[:PORT]/VHOST (default: $AMQP_URL)"},
    {"name", "NAME", "this agent's name: its routing keys (fromAgent.NAME..., toAgent.NAME...)"},
    {"exchange", "NAME", "the topic exchange (default amq.topic)"},
    {"ipv4-address", "A", "the tun's IPv4 address, A/24 (agent_1..agent_6: 10.2.0.N)"},
    {"ipv6-prefix", "P", "the tun's IPv6 prefix: P::H/64 (agent_1..agent_6: bbbb)"},
    {"ipv6-host", "H", "the tun's IPv6 host part: P::H/64 and fe80::H/64"},
    {"mtu", "N", "the tun's MTU (default: the kernel's, 1500)"},
    {"dev", "NAME", "the tun's name (default: the kernel picks tunN)"},
    {"netns", "NS",
     "create the tun in network namespace NS (/run/netns/NS); the broker "
     "connection stays in this one"},
    {"format", "json|raw", "message bodies: the original's JSON (default) or the raw packet"},
    {"dump", "FILE.pcap", "write every packet crossing the tunnel, both ways, to a pcap file"},
    {"log-level", "LEVEL", "error, warn (default), info, debug"},
};

const std::vector<OptionSpec> kRouterOptions = {
    {"url", "URL", "the broker, amqp://USER:PASS@HOST[:PORT]/VHOST (default: $AMQP_URL)"},
    {"exchange", "NAME", "the topic exchange (default amq.topic)"},
    {"agents", "A,B,...", "the agents of the link (more are learned from their tun-started)"},
    {"sniffer", "NAME", "an agent name that gets a copy of every packet"},
    {"log-level", "LEVEL", "error, warn (default), info, debug"},
};

// Runs `loop` until SIGINT/SIGTERM, then `stop(done)`, then until done; SIGUSR1 calls `report`.
void run_until_signalled(uv_loop_t* loop, const std::function<void(std::function<void()>)>& stop,
                         const std::function<void()>& report) {
  struct Signals {
    uv_signal_t term{}, intr{}, usr1{};
    const std::function<void(std::function<void()>)>* stop;
    const std::function<void()>* report;
    bool stopping = false;
  } s{{}, {}, {}, &stop, &report};
  auto on_stop = [](uv_signal_t* h, int) noexcept {
    auto* self = static_cast<Signals*>(h->data);
    if (self->stopping) return;
    self->stopping = true;
    (*self->stop)([self] {
      for (uv_signal_t* sig : {&self->term, &self->intr, &self->usr1}) {
        uv_close(reinterpret_cast<uv_handle_t*>(sig), nullptr);
      }
    });
  };
  for (auto [h, signum] : {std::pair{&s.term, SIGTERM}, {&s.intr, SIGINT}}) {
    uv_signal_init(loop, h);
    h->data = &s;
    uv_signal_start(h, on_stop, signum);
  }
  uv_signal_init(loop, &s.usr1);
  s.usr1.data = &s;
  uv_signal_start(
      &s.usr1, [](uv_signal_t* h, int) noexcept { (*static_cast<Signals*>(h->data)->report)(); },
      SIGUSR1);
  uv_run(loop, UV_RUN_DEFAULT);
}

// Runs the loop until the closed handles are freed, then closes it.
void finish(uv_loop_t* loop) {
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
}

Result<amqp::AmqpUrl> broker_url(const ParsedArgs& args) {
  std::string text;
  if (args.has("url")) {
    text = args.get("url");
  } else if (const char* env = std::getenv("AMQP_URL"); env && *env) {
    text = env;
  } else {
    return fail("no broker: give --url amqp://USER:PASS@HOST[:PORT]/VHOST or set AMQP_URL");
  }
  auto url = amqp::parse_amqp_url(text);
  if (!url) return fail("--url: " + url.error());
  return url;
}

Result<agent::TunAgentOptions> agent_options(const ParsedArgs& args) {
  agent::TunAgentOptions o;
  auto url = broker_url(args);
  if (!url) return fail(url.error());
  o.url = std::move(url.value());
  if (!args.has("name")) return fail("--name NAME is required");
  o.name = args.get("name");
  if (auto st = agent::validate_agent_name(o.name); !st) return fail("--name: " + st.error());
  agent::TunAddressOptions a;
  if (args.has("ipv4-address")) a.ipv4_address = args.get("ipv4-address");
  if (args.has("ipv6-prefix")) a.ipv6_prefix = args.get("ipv6-prefix");
  if (args.has("ipv6-host")) a.ipv6_host = args.get("ipv6-host");
  auto addresses = agent::resolve_tun_addresses(o.name, a);
  if (!addresses) return fail(addresses.error());
  o.addresses = std::move(addresses.value());
  if (args.has("mtu")) {
    auto mtu = number_option(args, "mtu", 1500, 68, 65535);
    if (!mtu) return fail(mtu.error());
    o.mtu = static_cast<std::uint32_t>(*mtu);
  }
  if (args.has("format")) {
    auto f = agent::parse_packet_format(args.get("format"));
    if (!f) return fail("--format: " + f.error());
    o.format = *f;
  }
  if (args.has("exchange")) o.exchange = args.get("exchange");
  o.tun = {args.has("dev") ? args.get("dev") : "", args.has("netns") ? args.get("netns") : ""};
  if (args.has("dump")) o.dump_path = args.get("dump");
  return o;
}

Status<> apply_log_level(const ParsedArgs& args) {
  if (!args.has("log-level")) return Ok{};
  auto level = log::parse_level(args.get("log-level"));
  if (!level) return fail("--log-level " + args.get("log-level") + ": error, warn, info or debug");
  log::set_level(*level);
  return Ok{};
}

int run_agent_connect(const std::vector<std::string>& raw, Io io) {
  auto args = parse_args(raw, kAgentOptions);
  if (!args) {
    io.err << "mplane agent connect: " << args.error() << " (see mplane agent connect --help)\n";
    return kExitUsage;
  }
  if (args->has("help")) {
    io.out << "usage: mplane agent connect --url URL --name NAME [options]\n"
              "A tun interface whose IP packets travel as AMQP messages (ioppytest-agent's "
              "wire format).\nOptions:\n"
           << format_options(kAgentOptions);
    return kExitOk;
  }
  auto options = agent_options(*args);
  if (!options) {
    io.err << "mplane agent connect: " << options.error() << "\n";
    return kExitUsage;
  }
  if (auto st = apply_log_level(*args); !st) {
    io.err << "mplane agent connect: " << st.error() << "\n";
    return kExitUsage;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  loop::SystemWallClock clock;
  agent::TunAgent tunnel(&loop, clock, std::move(options.value()));
  if (auto st = tunnel.start(); !st) {
    io.err << "mplane agent connect: " << st.error() << "\n";
    tunnel.stop([] {});
    finish(&loop);
    return kExitInvalid;
  }
  io.err << "mplane agent: " << args->get("name") << " up on " << tunnel.tun()->name()
         << " (broker " << tunnel.amqp()->url().redacted() << "); SIGINT/SIGTERM stops, SIGUSR1 "
         << "prints counters\n";
  io.err.flush();
  auto report = [&] { io.err << "mplane agent: " << tunnel.describe() << "\n" << std::flush; };
  run_until_signalled(
      &loop, [&](std::function<void()> done) { tunnel.stop(std::move(done)); }, report);
  finish(&loop);
  report();
  io.err << "mplane agent: stopped\n";
  return kExitOk;
}

}  // namespace

int run_agent(const std::vector<std::string>& raw, Io io) {
  if (raw.empty() || raw[0] == "--help" || raw[0] == "-h") {
    io.out << "usage: mplane agent connect --url URL --name NAME [options]\n"
              "Subcommands:\n  connect   a tun interface carried over AMQP (see "
              "`mplane agent connect --help`)\n";
    return raw.empty() ? kExitUsage : kExitOk;
  }
  if (raw[0] == "connect") return run_agent_connect({raw.begin() + 1, raw.end()}, io);
  io.err << "mplane agent: unknown subcommand '" << raw[0] << "' (see mplane agent --help)\n";
  return kExitUsage;
}

int run_router(const std::vector<std::string>& raw, Io io) {
  auto args = parse_args(raw, kRouterOptions);
  if (!args) {
    io.err << "mplane router: " << args.error() << " (see mplane router --help)\n";
    return kExitUsage;
  }
  if (args->has("help")) {
    io.out << "usage: mplane router --url URL [--agents A,B,...] [--sniffer NAME]\n"
              "Forwards each agent's packets to the other agents of the link.\nOptions:\n"
           << format_options(kRouterOptions);
    return kExitOk;
  }
  agent::PacketRouterOptions o;
  auto url = broker_url(*args);
  if (!url) {
    io.err << "mplane router: " << url.error() << "\n";
    return kExitUsage;
  }
  o.url = std::move(url.value());
  if (args->has("exchange")) o.exchange = args->get("exchange");
  if (args->has("agents")) {
    std::stringstream list(args->get("agents"));
    for (std::string name; std::getline(list, name, ',');) {
      if (auto st = agent::validate_agent_name(name); !st) {
        io.err << "mplane router: --agents: " << st.error() << "\n";
        return kExitUsage;
      }
      o.agents.push_back(name);
    }
  }
  if (args->has("sniffer")) o.sniffer = args->get("sniffer");
  if (auto st = apply_log_level(*args); !st) {
    io.err << "mplane router: " << st.error() << "\n";
    return kExitUsage;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  agent::PacketRouter router(&loop, std::move(o));
  if (auto st = router.start(); !st) {
    io.err << "mplane router: " << st.error() << "\n";
    router.stop();
    finish(&loop);
    return kExitInvalid;
  }
  io.err << "mplane router: routing; SIGINT/SIGTERM stops, SIGUSR1 prints counters\n" << std::flush;
  auto report = [&] { io.err << "mplane router: " << router.describe() << "\n" << std::flush; };
  run_until_signalled(
      &loop,
      [&](std::function<void()> done) {
        router.stop();
        done();
      },
      report);
  finish(&loop);
  report();
  io.err << "mplane router: stopped\n";
  return kExitOk;
}

}  // namespace mplane::cli
