// The HTTP load generator behind `mplane bench http`: N keep-alive connections (asynchronous
// HTTP clients on one private loop), each with one request in flight, POSTing a body made per
// request, for a given time; it records every round trip's latency. Works against our
// component, the Python RI's, or any HTTP server.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "parsers/base/result.h"
#include "transport/http/http_url.h"
#include "transport/tls/tls_context.h"

namespace mplane::client {

// A request body with a place where a per-request value goes: before + expand(value) + after,
// where {n} in `value` is a counter and {random} 16 hex digits (a fixed-seed generator).
struct BodyTemplate {
  std::string before, after, value;
  std::uint64_t counter = 0;
  std::mt19937_64 rng{42};
  std::string make();
};

struct HttpLoadOptions {
  transport::HttpUrl target;             // HOST must be an IP literal
  transport::TlsContext* tls = nullptr;  // client role, for an https target
  int connections = 16;
  double seconds = 10;
  // One request per connection: measures connection set-up (with TLS, full handshakes).
  bool new_connections = false;
  std::string content_type = "application/x-mplane+json";
};

struct HttpLoadReport {
  std::vector<std::uint64_t> latencies_ns;  // one per response, in arrival order
  std::uint64_t ok = 0, non_200 = 0, receipts = 0;
  std::uint64_t errors = 0;  // connections that failed (each stops)
  double elapsed_s = 0;
};

// Runs the load; errors only for a target that is not an IP address. `body` makes each body.
Result<HttpLoadReport> run_http_load(const HttpLoadOptions& options, BodyTemplate& body);

// Whether `host` is an IPv4 or IPv6 literal (the load generators resolve no names).
bool is_ip_literal(const std::string& host);

// The p-quantile (0..1) of the latencies, in ms (0 when empty); reorders `v`.
double percentile_ms(std::vector<std::uint64_t>& v, double p);

}  // namespace mplane::client
