// Runs a command of the `mplane` binary in-process, its output and errors captured.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "engine/cli/command.h"

namespace mplane::test {

struct CliRun {
  int status;
  std::string out, err;
};

inline CliRun run_cli(cli::CommandFn command, const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int status = command(args, {out, err});
  return {status, out.str(), err.str()};
}

}  // namespace mplane::test
