// A small blocking HTTP/1.1 client for the command line (`mplane client`): one keep-alive
// connection to one server, plaintext or TLS, one request at a time.
//
// A thin wrapper: the AsyncHttpClient (transport/http/async_http_client.h) on a private libuv
// loop that request() runs until the response has arrived, the deadline has passed or the
// connection failed, so callers see a plain function call. Nothing runs between calls: a
// connection the server closed while idle is noticed on the next request, which then
// reconnects and sends the request again (once, and only when the reused connection yielded no
// response byte at all).
//
// libuv writes with write(2): the process must ignore SIGPIPE (engine/main.cc does), or a write
// to a server that has gone kills it instead of failing the request.
//
// Not thread-safe; never throws. The loop is run until every handle has closed in the
// destructor (STYLE C7).
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "parsers/base/result.h"
#include "transport/http/async_http_client.h"
#include "transport/http/http_parser.h"
#include "transport/http/http_url.h"
#include "transport/tls/tls_context.h"
#include "transport/transport.h"

namespace mplane::transport {

// ResponseSink (receives a response as it arrives instead of keeping its body) is declared in
// transport/http/http_parser.h.

class HttpClient {
 public:
  // `tls` (client role) null: plaintext. It must outlive the client. The session resumption key
  // is "host:port".
  HttpClient(std::string host, std::uint16_t port, TlsContext* tls = nullptr);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request (Host header = host:port; Content-Type and Content-Length when `body` or
  // `content_type` is non-empty) and returns the response, whatever its status. Errors, one
  // line each: the name does not resolve, the connection is refused/reset, the TLS handshake
  // failed, the response is malformed, or the response did not begin within `timeout_ms` or
  // then paused for longer than that (a large streamed response may take longer in all; the
  // connection is then dropped).
  Result<HttpMessage> request(std::string_view method, std::string_view target,
                              std::string_view content_type, std::string_view body,
                              std::uint64_t timeout_ms = 30'000);
  // As request(), handing the body to `sink` piece by piece instead of keeping it (the
  // returned message has status and headers, body empty): memory stays bounded by one read
  // whatever the response size, and the body-size limit does not apply. `timeout_ms` bounds the
  // wait for the response to begin and every pause within it. An error returned by the sink
  // aborts the request (the connection is dropped) and request() returns that error.
  Result<HttpMessage> request(std::string_view method, std::string_view target,
                              std::string_view content_type, std::string_view body,
                              std::uint64_t timeout_ms, ResponseSink& sink);

  // Limits on responses (from the next connection on); the default body limit is 64 MiB.
  void set_limits(const HttpLimits& limits) { client_->set_limits(limits); }

  // Drops the connection (the next request reconnects).
  void close();
  bool connected() const { return client_->connected(); }
  // Connections opened so far (tests check keep-alive and reconnection with it).
  int connections_opened() const { return client_->connections_opened(); }
  // The server's identity (§4.7) on the current connection, after a request.
  std::string peer_identity() const { return client_->peer_identity(); }

 private:
  Result<HttpMessage> run(std::string_view method, std::string_view target,
                          std::string_view content_type, std::string_view body,
                          std::uint64_t timeout_ms, ResponseSink* sink);

  uv_loop_t loop_{};
  std::unique_ptr<AsyncHttpClient> client_;
};

}  // namespace mplane::transport
