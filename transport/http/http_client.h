// A small blocking HTTP/1.1 client for the command line (`mplane client`): one keep-alive
// connection to one server, plaintext or TLS, one request at a time.
//
// request() runs the client's own private libuv loop until the response has arrived, the
// deadline has passed or the connection failed, so callers see a plain function call. Nothing
// runs between calls: a connection the server closed while idle is noticed on the next
// request, which then reconnects and sends the request again (once, and only when the reused
// connection yielded no response byte at all).
//
// libuv writes with write(2): the process must ignore SIGPIPE (engine/main.cc does), or a write
// to a server that has gone kills it instead of failing the request.
//
// Not thread-safe; never throws. The libuv handles are embedded and closed (with the loop run
// until their close callbacks) in close() and the destructor (STYLE C7).
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/base/result.h"
#include "transport/http/http_parser.h"
#include "transport/tls/tls_context.h"
#include "transport/transport.h"

namespace mplane::transport {

// `http[s]://HOST[:PORT][/PATH]`; HOST may be a bracketed IPv6 literal (`[::1]:1228`).
struct HttpUrl {
  bool tls = false;
  std::string host;  // without brackets
  std::uint16_t port = 80;
  std::string path = "/";
  bool has_path = false;  // the URL named a path (even just "/")

  std::string authority() const;  // "host:port", IPv6 in brackets
  std::string str() const;        // scheme://authority/path
};
// Errors name the URL and what is wrong with it.
Result<HttpUrl> parse_http_url(std::string_view url);

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
  // As request(), handing the body to `sink` (transport/http/http_parser.h) piece by piece
  // instead of keeping it (the returned message has status and headers, body empty): memory
  // stays bounded by one read whatever the response size, and the body-size limit does not
  // apply. `timeout_ms` bounds the wait for the response to begin and every pause within it.
  // An error returned by the sink aborts the request (the connection is dropped) and request()
  // returns that error.
  Result<HttpMessage> request(std::string_view method, std::string_view target,
                              std::string_view content_type, std::string_view body,
                              std::uint64_t timeout_ms, ResponseSink& sink);

  // Limits on responses (from the next connection on); the default body limit is 64 MiB.
  void set_limits(const HttpLimits& limits) { limits_ = limits; }

  // Drops the connection (the next request reconnects).
  void close();
  bool connected() const { return connected_; }
  // Connections opened so far (tests check keep-alive and reconnection with it).
  int connections_opened() const { return connections_opened_; }
  // The server's identity (§4.7) on the current connection, after a request.
  std::string peer_identity() const { return transport_ ? transport_->peer_identity() : ""; }

 private:
  struct Write;
  enum class Outcome : std::uint8_t { kDone, kRetry, kFailed };

  Status<> resolve();
  Status<> connect(std::uint64_t deadline);
  Result<HttpMessage> request_with(std::string_view method, std::string_view target,
                                   std::string_view content_type, std::string_view body,
                                   std::uint64_t timeout_ms, ResponseSink* sink);
  Outcome exchange(const std::string& request, std::uint64_t deadline, HttpMessage& response,
                   std::string& error);
  // Runs the loop until `done()` or the deadline (uv_now ms). False on timeout.
  template <class Pred>
  bool run_until(Pred done, std::uint64_t deadline);
  void write_wire();
  void fail_connection(std::string error);

  static void on_connect(uv_connect_t* req, int status) noexcept;
  static void on_alloc(uv_handle_t* h, std::size_t suggested, uv_buf_t* buf) noexcept;
  static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) noexcept;
  static void on_write(uv_write_t* req, int status) noexcept;
  static void on_timer(uv_timer_t* t) noexcept;

  std::string host_;
  std::uint16_t port_;
  TlsContext* tls_;
  std::string authority_;  // host:port, for Host: and the TLS session key

  uv_loop_t loop_{};
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_connect_t connect_req_{};
  sockaddr_storage addr_{};
  bool resolved_ = false;

  bool tcp_open_ = false;  // tcp_ initialised and not yet closed
  bool connected_ = false;
  bool connect_done_ = false;
  int connect_status_ = 0;
  bool timed_out_ = false;
  bool eof_ = false;
  std::string error_;  // non-empty once the connection failed
  bool got_bytes_ = false;
  int connections_opened_ = 0;

  std::unique_ptr<Transport> transport_;
  std::unique_ptr<HttpParser> parser_;
  HttpLimits limits_;
  std::uint64_t timeout_ms_ = 30'000;  // of the request under way
  bool awaiting_response_ = false;
  ResponseSink* sink_ = nullptr;  // of the request under way, if it streams
  std::string app_in_;
  std::vector<HttpMessage> responses_;
  char read_buf_[65536];
};

}  // namespace mplane::transport
