// An asynchronous HTTP/1.1 client on any libuv loop (a shard's loop, or a private one): one
// keep-alive connection to one server, plaintext or TLS, one request at a time.
//
// request() returns at once; `done` is called once, on the loop thread, with the response
// (whatever its status) or an error line naming the server:
//   cannot resolve HOST: …              the name does not resolve
//   cannot connect to HOST:PORT: …      refused, unreachable
//   timed out connecting to HOST:PORT   connect + TLS handshake past connect_timeout_ms
//   TLS with HOST:PORT: …               the handshake or a record failed
//   malformed response from HOST:PORT: … (also: a kept body over limits.max_body_bytes)
//   response from HOST:PORT larger than N bytes   (a streamed body over max_streamed_bytes)
//   no response from HOST:PORT (timed out)        nothing for response_timeout_ms
//   connection to HOST:PORT …           reset, or closed before the response was complete
// A reused keep-alive connection that the server closed meanwhile (it yielded no response
// byte) is replaced once and the request sent again; a fresh connection that fails is an error.
//
// Names resolve with uv_getaddrinfo (on the loop's thread pool; the answer is kept for later
// connections). Never throws. Destroying the client (or close()) abandons a request in progress:
// its `done` is not called and no callback runs afterwards. `done` may destroy the client.
// Close or destroy the client before its loop is torn down (on a shard: in a shutdown hook):
// handles closed by someone else's uv_walk never give their connection back.
//
// libuv writes with write(2): the process must ignore SIGPIPE (engine/main.cc does).
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/base/result.h"
#include "transport/http/http_parser.h"
#include "transport/tls/tls_context.h"

namespace mplane::transport {

struct AsyncHttpClientOptions {
  std::string host;  // a name or an IP literal (IPv6 without brackets)
  std::uint16_t port = 80;
  TlsContext* tls = nullptr;  // client role; null: plaintext. Must outlive the client.
  // TLS session resumption key; unset: "host:port". Empty: a full handshake every connection.
  std::optional<std::string> session_key;
  HttpLimits limits;                           // of responses (from the next connection on)
  std::uint64_t max_streamed_bytes = 0;        // of a body handed to a sink; 0: no limit
  std::uint64_t connect_timeout_ms = 10'000;   // resolve + connect + TLS handshake, in all
  std::uint64_t response_timeout_ms = 30'000;  // until the response begins, and every pause
  // The whole exchange, from request() to the response's last byte, however the bytes trickle
  // in (a peer sending one byte per pause would otherwise hold the request forever); 0: none.
  std::uint64_t total_timeout_ms = 0;
  // Raw header lines ("Name: value\r\n" each) sent with every request, e.g. the RI's
  // Forged-MPlane-Identity for a plaintext load generator; the caller vouches for their syntax.
  std::string extra_headers;
};

class AsyncHttpClient {
 public:
  using Done = std::function<void(Result<HttpMessage> response)>;

  AsyncHttpClient(uv_loop_t* loop, AsyncHttpClientOptions options);
  ~AsyncHttpClient();
  AsyncHttpClient(const AsyncHttpClient&) = delete;
  AsyncHttpClient& operator=(const AsyncHttpClient&) = delete;

  // Sends one request (Host header = host:port; Content-Type and Content-Length when `body` or
  // `content_type` is non-empty). With a `sink`, the body goes to it piece by piece (the
  // message given to `done` then has an empty body; an error from the sink aborts the request,
  // drops the connection, and is given to `done` as it is). The sink must outlive the request
  // and not destroy the client. While a request is in progress, another fails at once
  // ("busy"): `done` is then called before request() returns.
  void request(std::string_view method, std::string_view target, std::string_view content_type,
               std::string_view body, Done done, ResponseSink* sink = nullptr);
  bool busy() const { return static_cast<bool>(done_); }

  // From the next request (limits: from the next connection).
  void set_timeouts(std::uint64_t connect_ms, std::uint64_t response_ms);
  void set_limits(const HttpLimits& limits) { options_.limits = limits; }

  // Drops the connection (TLS close_notify when the peer is still there); a request in
  // progress is abandoned without its callback.
  void close();
  bool connected() const;
  int connections_opened() const { return connections_opened_; }
  // The server's identity (§4.7) on the current connection; empty before a handshake.
  std::string peer_identity() const;
  const std::string& authority() const { return authority_; }

 private:
  class Connection;
  struct Resolve;
  friend class Connection;

  void open();
  void connect_to(const sockaddr* addr);
  void send_request();
  void complete();
  void finish(Result<HttpMessage> result);
  void fail_request(std::string error);
  void drop_connection(bool peer_gone);
  void connection_lost(std::string error);
  bool retry_allowed() const;
  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) noexcept;

  // From the connection (loop thread).
  void on_connected(int status);
  void on_handshake_done();
  void on_app_bytes(std::string_view bytes);
  void on_read_end(int status);
  void on_transport_error(const std::string& error);
  void on_timer();
  // The pause timer, cut short by the total deadline.
  void arm_response_timer();

  uv_loop_t* loop_;
  AsyncHttpClientOptions options_;
  std::string authority_;
  sockaddr_storage addr_{};
  bool resolved_ = false;
  Resolve* resolve_ = nullptr;  // a uv_getaddrinfo in flight
  Connection* conn_ = nullptr;  // deletes itself once closed
  std::unique_ptr<HttpParser> parser_;
  int connections_opened_ = 0;

  // The request in progress.
  Done done_;
  std::string request_bytes_;
  ResponseSink* sink_ = nullptr;
  ResponseSink counted_;  // forwards to sink_, counting the body against the limit
  std::uint64_t streamed_ = 0;
  std::vector<HttpMessage> responses_;
  bool fresh_ = false;      // sent on a connection opened for it
  bool got_bytes_ = false;  // the connection yielded a response byte
  bool retried_ = false;
  bool eof_ = false;
  std::uint64_t connect_deadline_ = 0;
  std::uint64_t total_deadline_ = 0;  // uv_now ms; 0: none
  // False once destroyed: a call that may complete the request (whose callback may destroy the
  // client) is followed by a check of a copy of it before `this` is touched again.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mplane::transport
