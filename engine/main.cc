// The mplane executable: the only file that tests do not link (STYLE C1).
#include <iostream>
#include <string>
#include <vector>

#include "engine/cli/command.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::vector<std::string> args(argv + 1, argv + argc);
  return mplane::cli::run_main(args, {std::cout, std::cerr});
}
