#include "engine/client/http_load.h"

#include <uv.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "transport/http/async_http_client.h"

namespace mplane::client {

std::string BodyTemplate::make() {
  if (value.empty() && after.empty()) return before;
  std::string v = value;
  for (std::size_t at; (at = v.find("{n}")) != std::string::npos;) {
    v.replace(at, 3, std::to_string(counter));
  }
  for (std::size_t at; (at = v.find("{random}")) != std::string::npos;) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(rng()));
    v.replace(at, 8, hex);
  }
  ++counter;
  return before + v + after;
}

namespace {

struct Load {
  const HttpLoadOptions& options;
  BodyTemplate& body;
  std::uint64_t end_at = 0;  // uv_hrtime
  HttpLoadReport report;
};

// One connection with one request in flight: the next request goes when the response is in.
class Worker {
 public:
  Worker(uv_loop_t* loop, Load& load) : load_(load), client_(loop, client_options(load.options)) {}
  void next() {
    if (uv_hrtime() >= load_.end_at) return client_.close();
    const std::string body = load_.body.make();
    sent_at_ = uv_hrtime();
    client_.request("POST", load_.options.target.path, load_.options.content_type, body,
                    [this](const Result<transport::HttpMessage>& r) { on_response(r); });
  }

 private:
  static transport::AsyncHttpClientOptions client_options(const HttpLoadOptions& o) {
    transport::AsyncHttpClientOptions c;
    c.host = o.target.host;
    c.port = o.target.port;
    c.tls = o.tls;
    if (o.new_connections) c.session_key = "";  // full handshakes: no resumption
    return c;
  }

  void on_response(const Result<transport::HttpMessage>& r) {
    HttpLoadReport& report = load_.report;
    if (!r) {  // this connection stops
      ++report.errors;
      return client_.close();
    }
    report.latencies_ns.push_back(uv_hrtime() - sent_at_);
    (r->status == 200 ? report.ok : report.non_200) += 1;
    if (r->body.find("\"receipt\"") != std::string::npos) ++report.receipts;
    if (load_.options.new_connections) client_.close();  // the next request connects again
    next();
  }

  Load& load_;
  transport::AsyncHttpClient client_;
  std::uint64_t sent_at_ = 0;
};

}  // namespace

Result<HttpLoadReport> run_http_load(const HttpLoadOptions& options, BodyTemplate& body) {
  if (!is_ip_literal(options.target.host))
    return fail(options.target.host + " is not an IP address");
  uv_loop_t loop;
  uv_loop_init(&loop);
  Load load{options, body, 0, {}};
  const std::uint64_t start = uv_hrtime();
  load.end_at = start + static_cast<std::uint64_t>(options.seconds * 1e9);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < options.connections; ++i) {
    workers.push_back(std::make_unique<Worker>(&loop, load));
    workers.back()->next();
  }
  uv_run(&loop, UV_RUN_DEFAULT);  // until every worker has stopped and closed
  load.report.elapsed_s = static_cast<double>(uv_hrtime() - start) / 1e9;
  workers.clear();
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return std::move(load.report);
}

bool is_ip_literal(const std::string& host) {
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  return uv_ip4_addr(host.c_str(), 0, &v4) == 0 || uv_ip6_addr(host.c_str(), 0, &v6) == 0;
}

double percentile_ms(std::vector<std::uint64_t>& v, double p) {
  if (v.empty()) return 0;
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return static_cast<double>(v[i]) / 1e6;
}

}  // namespace mplane::client
