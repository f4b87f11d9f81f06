// The `mplane` subcommands. Each takes its arguments (after the subcommand words) and the
// streams to write to, and returns the process exit status: 0 success, 1 the input was
// invalid (a message, a file), 2 a usage error. Errors are one line on `err`.
#pragma once

#include <istream>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace mplane::cli {

struct Io {
  std::ostream& out;
  std::ostream& err;
};

using CommandFn = int (*)(const std::vector<std::string>& args, Io io);

struct Command {
  std::string_view name;
  std::string_view summary;
  CommandFn run;
};

// The table of subcommands, in the order `mplane --help` lists them.
const std::vector<Command>& commands();

// Dispatches `mplane ARGS...` (argv without the program name).
int run_main(const std::vector<std::string>& args, Io io);

int run_msg(const std::vector<std::string>& args, Io io);
int run_run(const std::vector<std::string>& args, Io io);
int run_component(const std::vector<std::string>& args, Io io);
int run_supervisor(const std::vector<std::string>& args, Io io);
int run_bench(const std::vector<std::string>& args, Io io);
int run_pki(const std::vector<std::string>& args, Io io);
int run_capture(const std::vector<std::string>& args, Io io);
int run_agent(const std::vector<std::string>& args, Io io);
int run_router(const std::vector<std::string>& args, Io io);
int run_client(const std::vector<std::string>& args, Io io);
// The same, with the shell reading its commands from `in` (tests drive it through a string).
int run_client(const std::vector<std::string>& args, Io io, std::istream& in);

constexpr int kExitOk = 0;
constexpr int kExitInvalid = 1;
constexpr int kExitUsage = 2;

}  // namespace mplane::cli
