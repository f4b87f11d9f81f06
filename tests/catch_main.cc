// The one Catch2 main of the unit-test binary.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <csignal>

int main(int argc, char** argv) {
  // As in the `mplane` binary (engine/main.cc): components, clients and test peers in this
  // process write sockets whose peer may have gone; that must be EPIPE, not a dead test run.
  std::signal(SIGPIPE, SIG_IGN);
  return Catch::Session().run(argc, argv);
}
