// The HTTP limits against hostile peers of a configuration file ([engine] of a component,
// [supervisor] of a supervisor: conf::HttpLimits) applied to a server's options.
#pragma once

#include <cstdint>
#include <memory>

#include "conf/component_config.h"
#include "transport/http/http_server.h"

namespace mplane::cli {

inline void apply_http_limits(const conf::HttpLimits& limits, transport::HttpServerOptions& http) {
  http.header_timeout_ms = static_cast<std::uint64_t>(limits.header_timeout / 1000);
  http.min_body_rate = limits.min_body_rate;
  http.max_output_bytes = limits.max_output_bytes;
  http.connection_limits = std::make_shared<transport::ConnectionLimits>(
      transport::ConnectionLimitOptions{.max_connections = limits.max_connections,
                                        .max_per_peer = limits.max_connections_per_peer,
                                        .max_body_bytes = limits.max_request_bytes});
}

}  // namespace mplane::cli
