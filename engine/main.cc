// The mplane executable: the only file that tests do not link (STYLE C1).
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "engine/cli/command.h"

int main(int argc, char** argv) {
  // A write to a peer that has gone (a socket, a pipe) must come back as an error (EPIPE), never
  // as a signal that kills the process: libuv writes sockets with write(2), mbedTLS records go
  // out through libuv, and stdout may be a pipe. Every write path handles the error.
  std::signal(SIGPIPE, SIG_IGN);
  std::ios::sync_with_stdio(false);
  std::vector<std::string> args(argv + 1, argv + argc);
  const int status = mplane::cli::run_main(args, {std::cout, std::cerr});
  // With SIGPIPE ignored, output lost to a closed pipe (`mplane ... | head -1`) shows here:
  // never report success for it (a command that failed has said why already).
  if (!std::cout.flush() && status == mplane::cli::kExitOk) {
    std::cerr << "mplane: cannot write to standard output (closed pipe?)\n";
    return mplane::cli::kExitInvalid;
  }
  return status;
}
