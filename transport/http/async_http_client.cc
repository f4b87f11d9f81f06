// The asynchronous client: a StreamConnection that forwards its events to the client while it
// is attached; detached (close, destruction, a dropped connection) it only finishes closing and
// deletes itself (STYLE C7).
#include "transport/http/async_http_client.h"

#include <algorithm>
#include <cstring>

#include "transport/http/http_url.h"
#include "transport/stream_connection.h"
#include "transport/tls/mbedtls_transport.h"

namespace mplane::transport {

class AsyncHttpClient::Connection final : public StreamConnection {
 public:
  Connection(uv_loop_t* loop, AsyncHttpClient* owner) : StreamConnection(loop), owner_(owner) {}
  void detach() { owner_ = nullptr; }
  bool connected = false;  // TCP connected

 private:
  // StreamConnection
  void on_app_bytes(std::string_view bytes) override {
    if (owner_) owner_->on_app_bytes(bytes);
  }
  void on_read_end(int status) override {
    if (owner_) owner_->on_read_end(status);
  }
  void on_transport_error(const std::string& error, bool /*handshaking*/) override {
    if (owner_) owner_->on_transport_error(error);
  }
  void on_handshake_done() override {
    if (owner_) owner_->on_handshake_done();
  }
  void on_connected(int status) override {
    if (owner_) owner_->on_connected(status);
  }
  void on_write_done(int status) override {
    if (owner_ && status != 0) {
      owner_->connection_lost("connection to " + owner_->authority_ + ": " + uv_strerror(status));
    }
  }
  void on_timer() override {
    if (owner_) owner_->on_timer();
  }
  // Closed from below (a write could not be queued): the client loses its connection.
  void on_closing() override {
    if (!owner_) return;
    AsyncHttpClient* owner = std::exchange(owner_, nullptr);
    owner->conn_ = nullptr;
    owner->connection_lost("connection to " + owner->authority_ + " failed");
  }
  void on_closed() override { delete this; }

  AsyncHttpClient* owner_;
};

// A uv_getaddrinfo in flight; it outlives the client if need be (the callback frees it).
struct AsyncHttpClient::Resolve {
  uv_getaddrinfo_t req{};
  AsyncHttpClient* owner = nullptr;  // null once abandoned
};

AsyncHttpClient::AsyncHttpClient(uv_loop_t* loop, AsyncHttpClientOptions options)
    : loop_(loop),
      options_(std::move(options)),
      authority_(authority_of(options_.host, options_.port)) {
  counted_.on_head = [this](const HttpMessage& head) -> Status<> {
    return sink_->on_head ? sink_->on_head(head) : Status<>(Ok{});
  };
  counted_.on_body = [this](std::string_view piece) -> Status<> {
    streamed_ += piece.size();
    if (options_.max_streamed_bytes != 0 && streamed_ > options_.max_streamed_bytes) {
      return fail("response from " + authority_ + " larger than " +
                  std::to_string(options_.max_streamed_bytes) + " bytes");
    }
    return sink_->on_body ? sink_->on_body(piece) : Status<>(Ok{});
  };
}

AsyncHttpClient::~AsyncHttpClient() {
  *alive_ = false;
  close();
}

void AsyncHttpClient::set_timeouts(std::uint64_t connect_ms, std::uint64_t response_ms) {
  options_.connect_timeout_ms = connect_ms;
  options_.response_timeout_ms = response_ms;
}

bool AsyncHttpClient::connected() const { return conn_ != nullptr && conn_->connected; }

std::string AsyncHttpClient::peer_identity() const {
  return conn_ && conn_->transport() ? conn_->transport()->peer_identity() : std::string();
}

void AsyncHttpClient::close() {
  drop_connection(eof_);
  done_ = nullptr;
  sink_ = nullptr;
}

void AsyncHttpClient::request(std::string_view method, std::string_view target,
                              std::string_view content_type, std::string_view body, Done done,
                              ResponseSink* sink) {
  if (done_) return done(fail("a request to " + authority_ + " is already in progress"));
  done_ = std::move(done);
  sink_ = sink;
  request_bytes_.clear();
  append_request(request_bytes_, method, target, authority_, content_type, body);
  if (!options_.extra_headers.empty()) {  // before the blank line that ends the head
    request_bytes_.insert(request_bytes_.find("\r\n\r\n") + 2, options_.extra_headers);
  }
  retried_ = false;
  uv_update_time(loop_);
  total_deadline_ = options_.total_timeout_ms ? uv_now(loop_) + options_.total_timeout_ms : 0;
  if (connected() && !eof_) {
    fresh_ = false;
    return send_request();
  }
  drop_connection(true);
  open();
}

// A new connection for the request in progress: resolve (once), connect, start the transport.
void AsyncHttpClient::open() {
  fresh_ = true;
  eof_ = false;
  uv_update_time(loop_);
  connect_deadline_ = uv_now(loop_) + options_.connect_timeout_ms;
  conn_ = new Connection(loop_, this);  // NOLINT(bugprone-unhandled-exception-at-new): OOM aborts
  conn_->open_handles();
  conn_->start_timer_at(connect_deadline_);
  const std::string& host = options_.host;
  if (!resolved_ &&
      (uv_ip4_addr(host.c_str(), options_.port, reinterpret_cast<sockaddr_in*>(&addr_)) == 0 ||
       uv_ip6_addr(host.c_str(), options_.port, reinterpret_cast<sockaddr_in6*>(&addr_)) == 0)) {
    resolved_ = true;
  }
  if (resolved_) return connect_to(reinterpret_cast<const sockaddr*>(&addr_));
  resolve_ = new Resolve;  // NOLINT(bugprone-unhandled-exception-at-new): OOM aborts
  resolve_->owner = this;
  resolve_->req.data = resolve_;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const std::string port = std::to_string(options_.port);
  if (int rc =
          uv_getaddrinfo(loop_, &resolve_->req, &on_resolved, host.c_str(), port.c_str(), &hints);
      rc != 0) {
    delete std::exchange(resolve_, nullptr);
    fail_request("cannot resolve " + host + ": " + uv_strerror(rc));
  }
}

void AsyncHttpClient::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) noexcept {
  std::unique_ptr<Resolve> r(static_cast<Resolve*>(req->data));
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> answer(res, &uv_freeaddrinfo);
  AsyncHttpClient* self = r->owner;
  if (self == nullptr) return;  // abandoned
  self->resolve_ = nullptr;
  if (status != 0 || res == nullptr) {
    return self->fail_request("cannot resolve " + self->options_.host + ": " +
                              uv_strerror(status != 0 ? status : UV_EAI_NONAME));
  }
  std::memcpy(&self->addr_, res->ai_addr, res->ai_addrlen);
  self->resolved_ = true;
  self->connect_to(reinterpret_cast<const sockaddr*>(&self->addr_));
}

void AsyncHttpClient::connect_to(const sockaddr* addr) {
  if (auto st = conn_->connect(addr); !st) {
    fail_request("cannot connect to " + authority_ + ": " + st.error());
  }
}

void AsyncHttpClient::on_connected(int status) {
  if (status != 0) {
    return fail_request("cannot connect to " + authority_ + ": " + uv_strerror(status));
  }
  conn_->connected = true;
  ++connections_opened_;
  std::unique_ptr<Transport> transport;
  if (options_.tls != nullptr) {
    auto t = MbedTlsTransport::create(*options_.tls, options_.session_key.value_or(authority_));
    if (!t) return fail_request("TLS with " + authority_ + ": " + t.error());
    transport = std::move(t.value());
  } else {
    transport = std::make_unique<PlainTransport>();
  }
  parser_ = std::make_unique<HttpParser>(HttpParser::Kind::kResponse, options_.limits);
  Connection* conn = conn_;
  const std::shared_ptr<bool> alive = alive_;
  if (auto st = conn->start(std::move(transport)); !st) {
    if (!*alive) return;
    return fail_request("TLS with " + authority_ + ": " + st.error());
  }
  if (!*alive || conn_ != conn) return;  // lost while writing the first flight (already handled)
  if (!conn->set_reading(true)) return connection_lost("connection to " + authority_ + " failed");
  send_request();
}

// The request on the connection: written now (plaintext), or once the handshake is done (TLS).
void AsyncHttpClient::send_request() {
  got_bytes_ = false;
  responses_.clear();
  streamed_ = 0;
  parser_->stream_to(sink_ ? &counted_ : nullptr);
  if (conn_->transport()->handshake_done()) {
    arm_response_timer();
  } else {
    conn_->start_timer_at(connect_deadline_);
  }
  Connection* conn = conn_;
  const std::shared_ptr<bool> alive = alive_;
  if (!conn->send(std::string(request_bytes_)) && *alive && conn_ == conn) {
    connection_lost("connection to " + authority_ + " failed");
  }
}

void AsyncHttpClient::on_handshake_done() {
  if (done_) arm_response_timer();
}

void AsyncHttpClient::on_app_bytes(std::string_view bytes) {
  if (!done_) return drop_connection(true);  // bytes nobody asked for
  got_bytes_ = true;
  arm_response_timer();  // every pause is bounded, and the total
  auto st = parser_->feed(bytes, responses_);
  if (!st) {
    if (st.error().from_sink) return fail_request(st.error().reason);
    return fail_request("malformed response from " + authority_ + ": " + st.error().reason);
  }
  if (!responses_.empty()) complete();
}

void AsyncHttpClient::complete() {
  HttpMessage response = std::move(responses_.front());
  responses_.clear();
  response.peer_identity = conn_->transport()->peer_identity();
  conn_->stop_timer();
  parser_->stream_to(nullptr);
  if (!response.keep_alive || eof_) drop_connection(eof_);
  finish(std::move(response));
}

void AsyncHttpClient::on_read_end(int status) {
  if (status != UV_EOF) {
    return connection_lost("connection to " + authority_ + ": " + uv_strerror(status));
  }
  eof_ = true;
  if (!done_) return drop_connection(true);          // idle: the server closed its side
  if (auto st = parser_->finish(responses_); !st) {  // a body that runs to the end of the stream
    return fail_request("malformed response from " + authority_ + ": " + st.error().reason);
  }
  if (!responses_.empty()) return complete();
  connection_lost(
      "connection to " + authority_ +
      (got_bytes_ ? " closed before the response was complete" : " closed without a response"));
}

void AsyncHttpClient::on_transport_error(const std::string& error) {
  connection_lost("TLS with " + authority_ + ": " + error);
}

void AsyncHttpClient::arm_response_timer() {
  std::uint64_t ms = options_.response_timeout_ms;
  if (total_deadline_ != 0) {
    const std::uint64_t now = uv_now(loop_);
    ms = std::min(ms, total_deadline_ > now ? total_deadline_ - now : 0);
  }
  conn_->start_timer(ms);
}

void AsyncHttpClient::on_timer() {
  if (!done_) return;
  if (total_deadline_ != 0 && uv_now(loop_) >= total_deadline_) {
    return fail_request("no complete response from " + authority_ + " within " +
                        std::to_string(options_.total_timeout_ms) + " ms");
  }
  if (!conn_->connected || !conn_->transport()->handshake_done()) {
    return fail_request("timed out connecting to " + authority_);
  }
  fail_request("no response from " + authority_ + " (timed out)");
}

// A reused keep-alive connection that the server closed meanwhile yields no byte: the request
// never reached it and may go again, once, on a fresh connection.
bool AsyncHttpClient::retry_allowed() const {
  return done_ && !fresh_ && !retried_ && !got_bytes_ && conn_ && conn_->transport() &&
         conn_->transport()->handshake_done();
}

void AsyncHttpClient::connection_lost(std::string error) {
  const bool retry = retry_allowed();
  drop_connection(true);
  if (!done_) return;
  if (!retry) return fail_request(std::move(error));
  retried_ = true;
  open();
}

void AsyncHttpClient::drop_connection(bool peer_gone) {
  if (resolve_) {
    resolve_->owner = nullptr;
    uv_cancel(reinterpret_cast<uv_req_t*>(&resolve_->req));
    resolve_ = nullptr;
  }
  parser_.reset();
  Connection* c = std::exchange(conn_, nullptr);
  if (c == nullptr) return;
  c->detach();
  if (c->connected) {
    c->close_gracefully(peer_gone);
  } else {
    c->close();
  }
}

void AsyncHttpClient::fail_request(std::string error) {
  drop_connection(true);
  finish(fail(std::move(error)));
}

// Last step of every path that completes a request: `done` may destroy the client.
void AsyncHttpClient::finish(Result<HttpMessage> result) {
  if (!done_) return;
  Done done = std::move(done_);
  done_ = nullptr;
  sink_ = nullptr;
  responses_.clear();
  done(std::move(result));
}

}  // namespace mplane::transport
