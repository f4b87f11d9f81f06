// The HTTP server's connections: one state machine (read, parse, dispatch, write in order,
// time out, close). Callbacks are static trampolines on handle->data (STYLE C6); a connection
// is deleted only from its last close callback (C7).
#include "transport/http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "parsers/base/log.h"
#include "transport/stream_connection.h"
#include "transport/tls/mbedtls_transport.h"

namespace mplane::transport {

struct Responder::Slot {
  HttpConnection* connection = nullptr;  // null once the connection is gone
  bool ready = false;                    // the last bytes are in `bytes`
  bool close_after = false;
  std::string bytes;                      // not yet handed to the transport
  std::vector<Responder::Written> parts;  // callbacks of the parts in `bytes`
  // For the access log: the request, when it was dispatched, what was sent.
  std::string request_line;  // "POST /"
  std::uint64_t started_ms = 0;
  int status = 0;  // read from the first bytes sent
  std::size_t sent = 0;
};

class HttpConnection final : public StreamConnection {
 public:
  explicit HttpConnection(HttpServer& server)
      : StreamConnection(server.loop_),
        server_(server),
        parser_(HttpParser::Kind::kRequest, server.options_.limits) {}

  Status<> start(uv_stream_t* listener);
  void on_response_ready();
  void update_reading();

 private:
  // StreamConnection
  void on_app_bytes(std::string_view bytes) override { handle_bytes(bytes); }
  void on_read_end(int status) override;
  void on_transport_error(const std::string& error, bool handshaking) override;
  void on_handshake_done() override { rearm_timer(); }  // the handshake's deadline is past
  void on_write_done(int status) override;
  void on_output_counted(std::size_t bytes, bool add) override;
  void on_timer() override;
  void on_closing() override;
  void on_closed() override { delete this; }

  void handle_bytes(std::string_view bytes);
  void drop_pending();
  void dispatch(HttpMessage&& request);
  void reject(const HttpParseError& e);
  void flush();
  void rearm_timer();
  bool output_full() const;
  void drop(std::string_view why);
  bool admit_body();
  void release_body();
  void log_access(const Responder::Slot& slot) const;

  HttpServer& server_;
  HttpParser parser_;
  std::deque<std::shared_ptr<Responder::Slot>> pending_;
  std::size_t body_counted_ = 0;  // of the request in progress, in the shared body budget
  std::string peer_ip_;           // counted in the shared limits while open
  std::string peer_;              // "ip:port", for the log
  bool admitted_ = false;
  bool any_request_ = false;
  std::uint64_t accepted_ms_ = 0;
  std::uint64_t head_started_ms_ = 0;  // the first byte of the request in progress
  std::uint64_t head_done_ms_ = 0;     // its head complete (the body's clock)
  bool close_after_flush_ = false;
};

void Responder::send(std::string response_bytes, bool close_after) {
  if (!slot_ || slot_->ready) return;
  slot_->ready = true;
  slot_->close_after = close_after;
  slot_->bytes = std::move(response_bytes);
  if (slot_->connection) slot_->connection->on_response_ready();
}

void Responder::send_part(std::string bytes, Written written) {
  if (!slot_ || slot_->ready || !slot_->connection) return written(false);
  if (slot_->bytes.empty()) {
    slot_->bytes = std::move(bytes);  // the usual case: the previous part has gone out
  } else {
    slot_->bytes += bytes;
  }
  slot_->parts.push_back(std::move(written));
  slot_->connection->on_response_ready();
}

// --- Connection ------------------------------------------------------------------------------

namespace {

// "1.2.3.4" and "1.2.3.4:5678" ("[::1]:5678") of the peer; empty if unknown.
void peer_names(uv_tcp_t* tcp, std::string& ip, std::string& ip_port) {
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return;
  char text[INET6_ADDRSTRLEN] = {};
  int port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    uv_ip4_name(a, text, sizeof text);
    port = ntohs(a->sin_port);
    ip = text;
    ip_port = ip + ":" + std::to_string(port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    uv_ip6_name(a, text, sizeof text);
    port = ntohs(a->sin6_port);
    ip = text;
    ip_port = "[" + ip + "]:" + std::to_string(port);
  }
}

// The status code of a response from its first bytes ("HTTP/1.1 200 OK"), 0 if unreadable.
int status_of(std::string_view bytes) {
  if (bytes.size() < 12 || !bytes.starts_with("HTTP/1.")) return 0;
  int code = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (bytes[i] < '0' || bytes[i] > '9') return 0;
    code = code * 10 + (bytes[i] - '0');
  }
  return code;
}

}  // namespace

Status<> HttpConnection::start(uv_stream_t* listener) {
  open_handles();
  accepted_ms_ = now_ms();
  if (auto st = accept(listener); !st) {
    close();
    return st;
  }
  peer_names(tcp(), peer_ip_, peer_);
  if (server_.options_.connection_limits) {
    if (auto refused = server_.options_.connection_limits->admit(peer_ip_)) {
      log::warn("http: connection from " + peer_ + " refused: " + *refused);
      close();
      return fail(*refused);
    }
    admitted_ = true;
  }
  std::unique_ptr<Transport> transport;
  if (server_.options_.tls) {
    auto tls = MbedTlsTransport::create(*server_.options_.tls);
    if (!tls) {
      close();
      return fail(tls.error());
    }
    transport = std::move(tls.value());
  } else {
    transport = std::make_unique<PlainTransport>();
  }
  if (auto st = StreamConnection::start(std::move(transport)); !st) {
    close();
    return st;
  }
  update_reading();
  rearm_timer();
  return Ok{};
}

// EOF or reset: answer what was asked (half-close), else close now.
void HttpConnection::on_read_end(int status) {
  close_after_flush_ = true;
  if (status != UV_EOF || (pending_.empty() && writes_in_flight() == 0)) close();
}

void HttpConnection::on_transport_error(const std::string& error, bool handshaking) {
  log::warn("tls: " + std::string(handshaking ? "handshake from " : "connection from ") + peer_ +
            " refused: " + error);
  close_after_flush_ = true;  // closes once the alert is written
  if (writes_in_flight() == 0) close();
}

// Output bytes of the process (the shared limits).
void HttpConnection::on_output_counted(std::size_t bytes, bool add) {
  if (!server_.options_.connection_limits) return;
  if (add) {
    server_.options_.connection_limits->add_output(bytes);
  } else {
    server_.options_.connection_limits->remove_output(bytes);
  }
}

void HttpConnection::handle_bytes(std::string_view bytes) {
  const bool was_in_message = parser_.in_message();
  std::vector<HttpMessage> requests;
  auto st = parser_.feed(bytes, requests);
  // A new request began in these bytes: its head's clock starts now.
  if (parser_.in_message() && (!was_in_message || !requests.empty())) {
    head_started_ms_ = now_ms();
    head_done_ms_ = 0;
  }
  if (parser_.in_message() && parser_.head_complete() && head_done_ms_ == 0) {
    head_done_ms_ = now_ms();
  }
  for (HttpMessage& r : requests) {
    dispatch(std::move(r));
    if (closing()) return;  // a handler may have closed us (STYLE C7)
  }
  if (!st) return reject(st.error());
  if (parser_.in_message() && parser_.head_complete() && !admit_body()) {
    return reject(HttpParseError{
        503, "request bodies in progress exceed " +
                 std::to_string(server_.options_.connection_limits->options().max_body_bytes) +
                 " bytes in all; retry later"});
  }
  // The client waits for our word before it sends the body; it is written at once only when
  // no earlier response is due (it must not overtake them).
  if (parser_.take_expect_continue() && pending_.empty() && !close_after_flush_) {
    if (!send(std::string("HTTP/1.1 100 Continue\r\n\r\n"))) return close();
  }
  update_reading();
  rearm_timer();
}

// Counts the body in progress (its announced length, or what has come of a chunked one) in
// the process-wide budget, then lets the parser store it at its full size. False: over budget.
bool HttpConnection::admit_body() {
  const std::size_t want = std::max(parser_.announced_body_bytes(), parser_.body_bytes());
  const auto& limits = server_.options_.connection_limits;
  if (limits && want > body_counted_) {
    if (!limits->take_body(want - body_counted_)) return false;
    body_counted_ = want;
  }
  parser_.reserve_body();
  return true;
}

void HttpConnection::release_body() {
  if (body_counted_ > 0) server_.options_.connection_limits->give_body(body_counted_);
  body_counted_ = 0;
}

void HttpConnection::dispatch(HttpMessage&& request) {
  release_body();                  // the handler has it now
  if (close_after_flush_) return;  // pipelined after `Connection: close` (or EOF): ignored
  any_request_ = true;
  request.peer_identity = transport()->peer_identity();
  auto slot = std::make_shared<Responder::Slot>();
  slot->connection = this;
  if (log::enabled(log::Level::kInfo)) {
    slot->request_line = request.method + " " + request.target;
    slot->started_ms = now_ms();
  }
  if (!request.keep_alive) close_after_flush_ = true;
  pending_.push_back(slot);
  server_.handler_(std::move(request), Responder(slot));
}

void HttpConnection::reject(const HttpParseError& e) {
  log::warn("http: request from " + peer_ + " refused: " + std::to_string(e.status) + " " +
            e.reason);
  auto slot = std::make_shared<Responder::Slot>();
  slot->connection = this;
  pending_.push_back(slot);
  std::string out;
  append_response(out, e.status, "text/plain", e.reason + "\n", false);
  Responder(slot).send(std::move(out), true);
  set_reading(false);
}

void HttpConnection::on_response_ready() { flush(); }

// The access log (level info): peer, identity, request, status, bytes, time to the last byte
// handed to the socket.
void HttpConnection::log_access(const Responder::Slot& slot) const {
  if (!log::enabled(log::Level::kInfo) || slot.request_line.empty()) return;
  const std::string identity = transport()->peer_identity();
  log::info("access " + peer_ + " " + (identity.empty() ? "-" : identity) + " \"" +
            slot.request_line + "\" " + std::to_string(slot.status) + " " +
            std::to_string(slot.sent) + " " + std::to_string(now_ms() - slot.started_ms) + "ms");
}

// Writes the responses at the head of the queue, in request order: the ready ones whole, and
// what has come so far of the first one still being streamed.
void HttpConnection::flush() {
  while (!closing() && !pending_.empty()) {
    auto slot = pending_.front();
    if (!slot->bytes.empty()) {
      std::string bytes = std::move(slot->bytes);
      slot->bytes.clear();
      if (slot->sent == 0) slot->status = status_of(bytes);
      slot->sent += bytes.size();
      std::vector<Responder::Written> parts = std::move(slot->parts);
      slot->parts.clear();
      if (!send(std::move(bytes), &parts)) return close();
    }
    if (!slot->ready) break;  // a streamed response: more to come
    pending_.pop_front();
    slot->connection = nullptr;
    log_access(*slot);
    if (slot->close_after) {  // nothing goes out after a response that ends the connection
      close_after_flush_ = true;
      drop_pending();
      break;
    }
  }
  update_reading();
  rearm_timer();
}

void HttpConnection::on_write_done(int status) {
  if (status != 0) return close();
  if (close_after_flush_ && writes_in_flight() == 0 && pending_.empty()) return close();
  update_reading();
  rearm_timer();
}

// Forgets the unanswered requests: their responders drop what they send from now on, and the
// parts of a stream still waiting here are reported as never delivered.
void HttpConnection::drop_pending() {
  auto dropped = std::move(pending_);
  pending_.clear();
  for (auto& slot : dropped) {
    slot->connection = nullptr;
    report_written(slot->parts, false);
  }
}

// Too many response bytes wait for the socket: of this connection (stop at the bound, read
// again under half of it), or of the whole process (the shared limits).
bool HttpConnection::output_full() const {
  const std::size_t high = server_.options_.max_output_bytes;
  if (output_bytes() >= (reading() ? high : high / 2)) return true;
  const auto& limits = server_.options_.connection_limits;
  return limits && (reading() ? limits->output_high() : !limits->output_low());
}

// Reads while the queue of unanswered requests is short and their replies are being read
// (STYLE C5 watermarks): a peer that pipelines and never reads costs a bounded number of bytes.
void HttpConnection::update_reading() {
  if (closing()) return;
  if (close_after_flush_) {  // the last request has been read
    set_reading(false);
    return;
  }
  const std::size_t high = server_.options_.max_pending_responses;
  const bool full = output_full();
  if (!reading() && pending_.size() <= high / 2 && !full) {
    set_reading(true);
  } else if (reading() && (pending_.size() >= high || full)) {
    set_reading(false);
  }
  // Paused by the process-wide bound: nothing of ours may drain it, so look again later.
  if (!reading() && full && output_bytes() < server_.options_.max_output_bytes / 2) {
    server_.pause_for_output(this);
  }
}

void HttpConnection::rearm_timer() {
  if (closing()) return;
  const std::uint64_t now = now_ms();
  const auto& o = server_.options_;
  if (close_after_flush_) {  // the last response is going out: only the peer's reading counts
    if (writes_in_flight() > 0) return start_timer(o.write_timeout_ms);
    return stop_timer();
  }
  if (!transport()->handshake_done()) return start_timer_at(accepted_ms_ + o.header_timeout_ms);
  if (parser_.in_message() && !parser_.head_complete()) {
    return start_timer_at(head_started_ms_ + o.header_timeout_ms);
  }
  if (parser_.in_message()) return start_timer_at(now + 1000);  // the body's rate, every second
  if (writes_in_flight() > 0) {  // the peer must keep reading what we send
    start_timer(o.write_timeout_ms);
  } else if (pending_.empty() && !any_request_) {  // a first request is due like a head
    start_timer_at(accepted_ms_ + o.header_timeout_ms);
  } else if (pending_.empty()) {
    start_timer(o.idle_timeout_ms);
  } else {
    stop_timer();  // waiting for our own responses: not the client's fault
  }
}

// Closes the connection now, saying why in the log.
void HttpConnection::drop(std::string_view why) {
  log::warn("http: connection from " + peer_ + " closed: " + std::string(why));
  close();
}

void HttpConnection::on_timer() {
  HttpConnection* self = this;
  const auto& o = server_.options_;
  const std::uint64_t now = now_ms();
  if (self->close_after_flush_) {
    return self->drop("the peer read nothing for " + std::to_string(o.write_timeout_ms) + " ms");
  }
  if (!self->transport()->handshake_done()) {
    return self->drop("TLS handshake not complete within " + std::to_string(o.header_timeout_ms) +
                      " ms");
  }
  if (self->parser_.in_message() && !self->parser_.head_complete()) {
    self->reject(HttpParseError{
        408, "request head not received within " + std::to_string(o.header_timeout_ms) + " ms"});
    return;
  }
  if (self->parser_.in_message()) {  // the body: at least min_body_rate after the grace time
    const std::uint64_t elapsed = now - self->head_done_ms_;
    const std::uint64_t due =
        elapsed > o.body_grace_ms ? (elapsed - o.body_grace_ms) * o.min_body_rate / 1000 : 0;
    if (self->parser_.body_bytes() < due) {
      return self->reject(HttpParseError{
          408, "request body slower than " + std::to_string(o.min_body_rate) + " bytes/s"});
    }
    return self->rearm_timer();
  }
  if (self->writes_in_flight() > 0) {
    return self->drop("the peer read nothing for " + std::to_string(o.write_timeout_ms) + " ms");
  }
  if (!self->any_request_) {
    return self->drop("no request within " + std::to_string(o.header_timeout_ms) + " ms");
  }
  self->close();  // idle keep-alive connection
}

// Before the handles close: the unanswered requests are forgotten and the shared counts given
// back.
void HttpConnection::on_closing() {
  drop_pending();
  server_.forget(this);
  release_body();
  if (admitted_) server_.options_.connection_limits->leave(peer_ip_);
  admitted_ = false;
}

// --- Server -----------------------------------------------------------------------------------

HttpServer::HttpServer(uv_loop_t* loop, HttpServerOptions options, RequestHandler handler)
    : loop_(loop), options_(std::move(options)), handler_(std::move(handler)) {}

HttpServer::~HttpServer() { close(); }

namespace {

// A listening socket with SO_REUSEPORT, so that every shard can accept on the same port.
Result<int> reuseport_socket(const std::string& host, std::uint16_t port) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof *v6;
  } else {
    return fail("'" + host + "' is not an IP address to listen on");
  }
  const int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(std::string("socket: ") + std::strerror(errno));
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return fail("cannot listen on " + host + ":" + std::to_string(port) + ": " + why);
  }
  return fd;
}

}  // namespace

Status<> HttpServer::listen() {
  auto fd = reuseport_socket(options_.host, options_.port);
  if (!fd) return fail(fd.error());
  uv_tcp_init(loop_, &listener_);
  listener_.data = this;
  uv_timer_init(loop_, &resume_timer_);
  resume_timer_.data = this;
  listening_ = true;
  if (int rc = uv_tcp_open(&listener_, *fd); rc != 0)
    return fail(std::string("uv_tcp_open: ") + uv_strerror(rc));
  if (int rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 1024, &on_connection);
      rc != 0) {
    return fail("listen on " + options_.host + ":" + std::to_string(options_.port) + ": " +
                uv_strerror(rc));
  }
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                           : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  return Ok{};
}

void HttpServer::pause_for_output(HttpConnection* c) {
  if (closing_ || !listening_) return;
  paused_.insert(c);
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&resume_timer_))) {
    uv_timer_start(&resume_timer_, &on_resume_timer, 50, 50);
  }
}

void HttpServer::on_resume_timer(uv_timer_t* t) noexcept {
  auto* self = static_cast<HttpServer*>(t->data);
  auto paused = std::move(self->paused_);
  self->paused_.clear();
  for (HttpConnection* c : paused) c->update_reading();  // may pause again
  if (self->paused_.empty()) uv_timer_stop(&self->resume_timer_);
}

void HttpServer::on_connection(uv_stream_t* listener, int status) noexcept {
  auto* self = static_cast<HttpServer*>(listener->data);
  if (status != 0 || self->closing_) return;
  // Deletes itself after closing. Out of memory aborts (STYLE C3, third tier).
  auto* c = new HttpConnection(*self);  // NOLINT(bugprone-unhandled-exception-at-new)
  self->connections_.insert(c);
  if (!c->start(listener)) return;  // start() closed it
}

void HttpServer::close() {
  if (closing_) return;
  closing_ = true;
  if (listening_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&resume_timer_), nullptr);
  }
  auto open = connections_;
  for (HttpConnection* c : open) c->close();
}

}  // namespace mplane::transport
