// The supervisor load generator behind `mplane bench supervisor` (issue 12): simulated
// component-initiated probes and clients around one supervisor, all asynchronous clients on
// private loops (one per --threads), for a given time.
//
// A probe (engine/supervisor/WIRE.md, PROTOCOL.md §4.3) registers one loopback capability
// (`test-loopback`, test.input → test.output, a token of its own) and a callback capability,
// polls `GET /show/specification?wait=S`, answers every specification at once with a result
// (POST /register/result, the specification's token, test.output = test.input) and polls
// again when the reply's `callback` specification says (`now + Ns`; without one, after
// poll_interval_s). A 428 makes it register again. Idle probes register `test-loopback-idle`
// (the same schema: clients address only `test-loopback`) and poll the same way, without
// ?wait=, closing their connection between polls.
//
// A client sends specifications for `test-loopback` to the client face (POST, `when` now, a
// token and test.input of its own), redeems receipts until the result is in, and records the
// round trip from the specification's POST to the result in hand.
//
// Identities: with `pki_dir`, every probe has its own certificate (component role, issued into
// PKI_DIR/bench/ on first use and reused after) and the clients share one (client role);
// plaintext, every probe sends `Forged-MPlane-Identity` (which our supervisor honours only
// without TLS, and the RI ignores).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/base/result.h"
#include "transport/http/http_url.h"

namespace mplane::client {

// A process's memory (kB, from /proc/PID/status) and CPU time (s, /proc/PID/stat).
struct ProcessUsage {
  std::uint64_t vm_rss_kb = 0, vm_hwm_kb = 0;
  double cpu_s = 0;
  bool ok = false;
};
ProcessUsage read_process_usage(int pid);

struct SupervisorLoadOptions {
  transport::HttpUrl component_face;  // HOST must be an IP literal
  transport::HttpUrl client_face;
  std::string pki_dir;  // https: the domain (ca.crt, ca.key) the supervisor trusts
  int probes = 10;
  int clients = 4;
  int idle_probes = 0;
  int threads = 1;
  double seconds = 10;
  int wait_s = 20;                   // active probes' ?wait=
  double poll_interval_s = 1;        // when a poll reply carries no callback specification
  double redeem_interval_s = 0.005;  // between redemptions of a receipt
  double ramp_s = 2;                 // probes' first registrations spread over this time
  int max_registering = 16;          // per loop: registrations (connections, handshakes) in flight
  double settle_s = 1;        // between the last registration and the window (the RI adds its relay
                              // services a moment after it answered the registration)
  bool label_suffix = false;  // client labels end in -<digits> (the RI's supervisor)
  std::string label = "test-loopback";
  int supervisor_pid = 0;  // > 0: its memory and CPU time go into the report
};

// Counters of one run (or one loop of it; merged with add()).
struct SupervisorLoadReport {
  std::vector<std::uint64_t> latencies_ns;  // one per completed round trip
  std::uint64_t specifications = 0;         // POSTed by clients
  std::uint64_t redemptions = 0;
  std::uint64_t polls = 0;  // 200 replies to a probe's poll
  std::uint64_t registrations = 0;
  std::uint64_t results_posted = 0;  // accepted (200) by the supervisor
  std::uint64_t in_flight_at_end = 0;
  std::size_t targets = 0;  // distinct POST targets the clients found (specification_targets)
  std::map<std::string, std::uint64_t> errors;  // by kind
  double elapsed_s = 0;                         // of the measured window
  double setup_s = 0;  // issuing identities and registering every probe, before the window
  // The supervisor (options.supervisor_pid): before any probe registered, at the window's start
  // and end; and this process's CPU time over the window.
  ProcessUsage supervisor_before, supervisor_start, supervisor_end;
  double own_cpu_s = 0;
  void add(SupervisorLoadReport&& other);
};

// Issues (or reuses) the identities, then runs; errors: a target that is not an IP address, a
// PKI that cannot issue, a TLS context that cannot be built.
Result<SupervisorLoadReport> run_supervisor_load(const SupervisorLoadOptions& options);

// Latency summary of a report, in ms (percentile_ms of http_load.h on a copy).
struct LatencySummary {
  double p50 = 0, p99 = 0, max = 0, mean = 0;
};
LatencySummary summarize_latencies(std::vector<std::uint64_t> latencies_ns);

// Where clients POST: the paths of the `link`s of the capabilities labelled `label` in a GET
// /capabilities reply (an envelope, as `mplane component` answers), distinct, in order; `/` when
// the reply is not such a listing (the RI's supervisor answers 404) or names none. The one
// place to adapt when the supervisor's README settles how a client addresses a probe.
std::vector<std::string> specification_targets(int status, std::string_view listing,
                                               std::string_view label);

}  // namespace mplane::client
