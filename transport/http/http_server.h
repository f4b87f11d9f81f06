// An HTTP/1.1 server on one libuv loop (one per shard; every shard listens on the same port
// with SO_REUSEPORT and the kernel spreads connections). Keep-alive, pipelined requests
// answered in order, bodies of any size up to the limits (4xx answers past them).
//
// Hostile peers (each limit logged with the peer when it closes a connection):
// - a request head, and a TLS handshake, must be complete within header_timeout_ms of its
//   first byte (of the accept): a total, however the bytes dribble in (408);
// - a body must arrive at min_body_rate bytes/s on average, after body_grace_ms (408);
// - a peer that reads nothing for write_timeout_ms while responses wait is dropped;
// - responses not yet written are bounded in bytes, per connection (max_output_bytes) and in
//   total (ConnectionLimits): past either, the connection reads no more requests until its
//   replies are read — memory stays bounded whatever the peer pipelines;
// - open connections are bounded in total and per peer address (ConnectionLimits).
//
// Plaintext or TLS: a Transport (PlainTransport or MbedTlsTransport) sits between the socket
// and the HTTP parser. With TLS, each request carries the peer's identity (PROTOCOL.md §4.7).
// Loop-thread only. The server and its connections embed libuv handles: close() and let the
// loop run before destroying the server (STYLE C7).
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>

#include "transport/http/connection_limits.h"
#include "transport/http/http_parser.h"
#include "transport/tls/tls_context.h"

namespace mplane::transport {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port (see port())
  HttpLimits limits;
  // A request head (and a TLS handshake) must be complete this long after its first byte.
  std::uint64_t header_timeout_ms = 10'000;
  std::uint64_t body_grace_ms = 10'000;            // then a body must average min_body_rate
  std::uint64_t min_body_rate = 16 * 1024;         // bytes per second
  std::uint64_t idle_timeout_ms = 60'000;          // an idle keep-alive connection is closed
  std::uint64_t write_timeout_ms = 60'000;         // a peer that reads nothing this long is dropped
  std::size_t max_pending_responses = 64;          // past this, stop reading (backpressure)
  std::size_t max_output_bytes = 4 * 1024 * 1024;  // per connection, not yet written: the same
  // Shared by every shard's server (connections, output bytes in total); null: no such bounds.
  std::shared_ptr<ConnectionLimits> connection_limits;
  // TLS (server role, shared by every connection and shard); null: plaintext.
  TlsContext* tls = nullptr;
};

class HttpConnection;

// Answers one request, now or later, exactly once, on the server's loop thread. If the
// connection is gone by then, the response is dropped (the client left).
//
// A response may also be sent in parts (a chunked body streamed while it is produced): any
// number of send_part() calls, then send() with the last bytes. Each part's `written` is called
// once, on the loop thread: true when its bytes have left for the socket (the producer's
// backpressure signal), false when they never will (the connection is gone or failed).
class Responder {
 public:
  using Written = std::function<void(bool delivered)>;
  Responder() = default;
  void send(std::string response_bytes, bool close_after = false);
  void send_part(std::string bytes, Written written);
  bool valid() const { return static_cast<bool>(slot_); }

 private:
  friend class HttpConnection;
  struct Slot;
  explicit Responder(std::shared_ptr<Slot> slot) : slot_(std::move(slot)) {}
  std::shared_ptr<Slot> slot_;
};

using RequestHandler = std::function<void(HttpMessage&& request, Responder responder)>;

class HttpServer {
 public:
  HttpServer(uv_loop_t* loop, HttpServerOptions options, RequestHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds (SO_REUSEPORT) and listens. Errors name the address and the system error.
  Status<> listen();
  std::uint16_t port() const { return port_; }
  // Stops accepting and closes every connection (pending responses are dropped).
  void close();
  std::size_t connection_count() const { return connections_.size(); }

 private:
  friend class HttpConnection;
  static void on_connection(uv_stream_t* server, int status) noexcept;
  static void on_resume_timer(uv_timer_t* t) noexcept;
  void forget(HttpConnection* c) {
    connections_.erase(c);
    paused_.erase(c);
  }
  // `c` stopped reading because the shared output bound is reached: it is asked to read
  // again (update_reading) every 50 ms until the bytes drain.
  void pause_for_output(HttpConnection* c);

  uv_loop_t* loop_;
  HttpServerOptions options_;
  RequestHandler handler_;
  uv_tcp_t listener_{};
  uv_timer_t resume_timer_{};
  bool listening_ = false;
  bool closing_ = false;
  std::uint16_t port_ = 0;
  std::unordered_set<HttpConnection*> connections_;
  std::unordered_set<HttpConnection*> paused_;
};

}  // namespace mplane::transport
