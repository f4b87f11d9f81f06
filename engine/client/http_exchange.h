// The one seam between the mPlane client (mplane_client.h) and HTTP: "send this request to that
// server, give me the response". The client's protocol logic (discovery, specifications,
// redemptions) never sees a connection, a loop or TLS, so that the blocking transport used by
// the command line and an asynchronous one can both carry it.
//
// BlockingHttpExchange is the implementation over transport::HttpClient: one keep-alive
// connection per server (scheme + authority), opened on first use.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "parsers/base/result.h"
#include "transport/http/http_client.h"
#include "transport/http/http_parser.h"
#include "transport/tls/tls_context.h"

namespace mplane::client {

struct HttpRequest {
  std::string_view method;        // "GET", "POST"
  std::string_view target;        // the path
  std::string_view content_type;  // empty: no body
  std::string_view body;
  std::uint64_t timeout_ms = 30'000;  // for the response to begin, and every pause within it
};

class HttpExchange {
 public:
  virtual ~HttpExchange() = default;
  // Sends `request` to the server of `server` (its scheme and authority; the request names the
  // path) and returns the response, whatever its status. An error means no response at all:
  // the connection failed (also after one reconnection) or timed out, or TLS is missing for an
  // https server. The component may then still have acted on a POST.
  virtual Result<transport::HttpMessage> send(const transport::HttpUrl& server,
                                              const HttpRequest& request) = 0;
  // The same, with the body handed to `sink` piece by piece as it arrives (the returned
  // message has status and headers, body empty): memory stays bounded whatever the size of
  // the response. An error returned by the sink ends the exchange with that error.
  virtual Result<transport::HttpMessage> send(const transport::HttpUrl& server,
                                              const HttpRequest& request,
                                              transport::ResponseSink& sink) = 0;
};

struct BlockingExchangeOptions {
  // Client-role TLS for https servers (null: https URLs are refused); must outlive the exchange.
  transport::TlsContext* tls = nullptr;
  // Plain http without the warning.
  bool insecure = false;
  // Receives the one-line warning about the first plain-http server (unless `insecure`).
  std::function<void(std::string_view)> warn;
  // The largest response body kept whole (send() without a sink).
  std::size_t max_body_bytes = std::size_t{4} << 30;
};

class BlockingHttpExchange final : public HttpExchange {
 public:
  explicit BlockingHttpExchange(BlockingExchangeOptions options) : options_(std::move(options)) {}

  // HttpExchange
  Result<transport::HttpMessage> send(const transport::HttpUrl& server,
                                      const HttpRequest& request) override;
  Result<transport::HttpMessage> send(const transport::HttpUrl& server, const HttpRequest& request,
                                      transport::ResponseSink& sink) override;

 private:
  Result<transport::HttpClient*> client_for(const transport::HttpUrl& server);

  BlockingExchangeOptions options_;
  bool warned_ = false;
  std::map<std::string, std::unique_ptr<transport::HttpClient>> clients_;  // by scheme+authority
};

}  // namespace mplane::client
