#include "transport/http/http_client.h"

#include <optional>

namespace mplane::transport {

HttpClient::HttpClient(std::string host, std::uint16_t port, TlsContext* tls) {
  uv_loop_init(&loop_);
  AsyncHttpClientOptions options;
  options.host = std::move(host);
  options.port = port;
  options.tls = tls;
  client_ = std::make_unique<AsyncHttpClient>(&loop_, std::move(options));
}

HttpClient::~HttpClient() {
  client_.reset();
  uv_run(&loop_, UV_RUN_DEFAULT);  // close callbacks, cancelled writes and name lookups
  uv_loop_close(&loop_);
}

void HttpClient::close() {
  client_->close();
  uv_run(&loop_, UV_RUN_DEFAULT);  // until the close callbacks (and cancelled writes) ran
}

Result<HttpMessage> HttpClient::request(std::string_view method, std::string_view target,
                                        std::string_view content_type, std::string_view body,
                                        std::uint64_t timeout_ms) {
  return run(method, target, content_type, body, timeout_ms, nullptr);
}

Result<HttpMessage> HttpClient::request(std::string_view method, std::string_view target,
                                        std::string_view content_type, std::string_view body,
                                        std::uint64_t timeout_ms, ResponseSink& sink) {
  return run(method, target, content_type, body, timeout_ms, &sink);
}

// Runs the private loop until the asynchronous client is done: its timers bound every wait.
Result<HttpMessage> HttpClient::run(std::string_view method, std::string_view target,
                                    std::string_view content_type, std::string_view body,
                                    std::uint64_t timeout_ms, ResponseSink* sink) {
  client_->set_timeouts(timeout_ms, timeout_ms);
  std::optional<Result<HttpMessage>> outcome;
  client_->request(
      method, target, content_type, body,
      [&outcome](Result<HttpMessage> r) { outcome.emplace(std::move(r)); }, sink);
  while (!outcome) {
    if (uv_run(&loop_, UV_RUN_ONCE) == 0 && !outcome) {  // nothing left that could answer
      client_->close();
      return fail("connection to " + client_->authority() + " lost");
    }
  }
  // A connection dropped by the request: let its handles close now (nothing else runs here).
  if (!client_->connected()) uv_run(&loop_, UV_RUN_NOWAIT);
  return std::move(*outcome);
}

}  // namespace mplane::transport
