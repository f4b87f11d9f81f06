#include "engine/cli/command.h"

namespace mplane::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> kCommands = {
      {"msg", "check, canonicalise and hash mPlane messages (JSON files)", &run_msg},
      {"run", "run one specification against the local services and print the result", &run_run},
      {"component", "serve the built-in services' capabilities to clients over HTTP",
       &run_component},
      {"supervisor",
       "the hub between probes and clients: probes push capabilities and pull specifications",
       &run_supervisor},
      {"pki", "create a domain CA and issue certificates for components, clients, supervisors",
       &run_pki},
      {"client", "talk to a component: list its capabilities, run them, or an mpcli shell",
       &run_client},
      {"bench", "load generator: `mplane bench http` drives a component with specifications",
       &run_bench},
      {"capture", "passive TCP/UDP flow analysis of a capture file or a live interface",
       &run_capture},
      {"agent", "IP over AMQP: `mplane agent connect` carries a tun's packets over a broker",
       &run_agent},
      {"router", "IP over AMQP: forwards each agent's packets to the other agents", &run_router},
  };
  return kCommands;
}

namespace {

void print_help(std::ostream& out) {
  out << "usage: mplane COMMAND [ARGS...]\n\n"
         "mplane-engine: a high-performance engine for the mPlane measurement protocol.\n\n"
         "Commands:\n";
  for (const Command& c : commands()) {
    out << "  " << c.name << std::string(12 - c.name.size(), ' ') << c.summary << "\n";
  }
  out << "\nRun `mplane COMMAND --help` for the options of a command.\n"
         "Options:\n  -h, --help    show this help\n  --version     print the version\n";
}

}  // namespace

int run_main(const std::vector<std::string>& args, Io io) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_help(args.empty() ? io.err : io.out);
    return args.empty() ? kExitUsage : kExitOk;
  }
  if (args[0] == "--version") {
    io.out << "mplane 0.1.0\n";
    return kExitOk;
  }
  for (const Command& c : commands()) {
    if (c.name == args[0]) return c.run({args.begin() + 1, args.end()}, io);
  }
  io.err << "mplane: unknown command '" << args[0] << "' (run `mplane --help` for the list)\n";
  return kExitUsage;
}

}  // namespace mplane::cli
