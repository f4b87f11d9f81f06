// `mplane bench supervisor`: simulated component-initiated probes and clients around one
// supervisor (engine/client/supervisor_load.h); prints round trips/s, latency, polls/s, errors
// by kind, and the supervisor's memory and CPU time when given its pid.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "engine/cli/command.h"

namespace mplane::cli {

// `raw` holds the arguments after `supervisor`.
int run_bench_supervisor(const std::vector<std::string>& raw, Io io);
void print_bench_supervisor_help(std::ostream& out);

}  // namespace mplane::cli
