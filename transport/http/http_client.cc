#include "transport/http/http_client.h"

#include <charconv>
#include <cstring>

#include "transport/tls/mbedtls_transport.h"

namespace mplane::transport {

std::string HttpUrl::authority() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string HttpUrl::str() const {
  return std::string(tls ? "https://" : "http://") + authority() + path;
}

Result<HttpUrl> parse_http_url(std::string_view url) {
  HttpUrl u;
  std::string_view rest;
  if (url.starts_with("https://")) {
    u.tls = true;
    u.port = 443;
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return fail(std::string(url) + ": expected http://HOST[:PORT][/PATH] or https://…");
  }
  const auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    u.path = std::string(rest.substr(slash));
    u.has_path = true;
    rest = rest.substr(0, slash);
  }
  std::string_view port_text;
  if (rest.starts_with("[")) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return fail(std::string(url) + ": unterminated '['");
    u.host = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return fail(std::string(url) + ": expected ':' after ']'");
      port_text = rest.substr(1);
    }
  } else {
    const auto colon = rest.rfind(':');
    u.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
  }
  if (u.host.empty()) return fail(std::string(url) + ": no host");
  if (!port_text.empty() || rest.ends_with(":")) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return fail(std::string(url) + ": bad port '" + std::string(port_text) + "'");
    }
    u.port = static_cast<std::uint16_t>(port);
  }
  return u;
}

struct HttpClient::Write {
  uv_write_t req{};
  std::string bytes;
};

HttpClient::HttpClient(std::string host, std::uint16_t port, TlsContext* tls)
    : host_(std::move(host)), port_(port), tls_(tls) {
  HttpUrl u;
  u.host = host_;
  u.port = port_;
  authority_ = u.authority();
  uv_loop_init(&loop_);
  uv_timer_init(&loop_, &timer_);
  timer_.data = this;
}

HttpClient::~HttpClient() {
  close();
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);  // close callbacks, cancelled writes
  uv_loop_close(&loop_);
}

void HttpClient::close() {
  if (tcp_open_) {
    // TLS close_notify, best effort, and only to a peer still there: after its EOF (a component
    // that restarted) the socket may already be reset and the write would only fail (EPIPE).
    if (transport_ && connected_ && error_.empty() && !eof_) {
      (void)transport_->close();
      write_wire();
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), nullptr);
    tcp_open_ = false;
    uv_timer_stop(&timer_);
    uv_run(&loop_, UV_RUN_DEFAULT);  // until the close callback (and cancelled writes) ran
  }
  connected_ = false;
  transport_.reset();
  parser_.reset();
  app_in_.clear();
  responses_.clear();
}

template <class Pred>
bool HttpClient::run_until(Pred done, std::uint64_t deadline) {
  uv_update_time(&loop_);
  timed_out_ = false;
  if (done()) return true;
  const std::uint64_t now = uv_now(&loop_);
  uv_timer_start(&timer_, &HttpClient::on_timer, deadline > now ? deadline - now : 0, 0);
  while (!done() && !timed_out_) uv_run(&loop_, UV_RUN_ONCE);
  uv_timer_stop(&timer_);
  return done();
}

void HttpClient::on_timer(uv_timer_t* t) noexcept {
  static_cast<HttpClient*>(t->data)->timed_out_ = true;
}

Status<> HttpClient::resolve() {
  if (resolved_) return Ok{};
  if (uv_ip4_addr(host_.c_str(), port_, reinterpret_cast<sockaddr_in*>(&addr_)) == 0 ||
      uv_ip6_addr(host_.c_str(), port_, reinterpret_cast<sockaddr_in6*>(&addr_)) == 0) {
    resolved_ = true;
    return Ok{};
  }
  // A name: resolve it synchronously (a null callback makes uv_getaddrinfo blocking).
  uv_getaddrinfo_t req{};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const std::string port_text = std::to_string(port_);
  const int rc = uv_getaddrinfo(&loop_, &req, nullptr, host_.c_str(), port_text.c_str(), &hints);
  if (rc != 0 || req.addrinfo == nullptr) {
    if (req.addrinfo != nullptr) uv_freeaddrinfo(req.addrinfo);
    return fail("cannot resolve " + host_ + ": " + uv_strerror(rc));
  }
  std::memcpy(&addr_, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
  uv_freeaddrinfo(req.addrinfo);
  resolved_ = true;
  return Ok{};
}

Status<> HttpClient::connect(std::uint64_t deadline) {
  if (auto st = resolve(); !st) return st;
  error_.clear();
  eof_ = false;
  got_bytes_ = false;
  connect_done_ = false;
  uv_tcp_init(&loop_, &tcp_);
  tcp_.data = this;
  tcp_open_ = true;
  connect_req_.data = this;
  int rc = uv_tcp_connect(&connect_req_, &tcp_, reinterpret_cast<const sockaddr*>(&addr_),
                          &HttpClient::on_connect);
  if (rc == 0 && !run_until([this] { return connect_done_; }, deadline)) {
    close();
    return fail("timed out connecting to " + authority_);
  }
  if (rc == 0) rc = connect_status_;
  if (rc != 0) {
    close();
    return fail("cannot connect to " + authority_ + ": " + uv_strerror(rc));
  }
  ++connections_opened_;
  uv_tcp_nodelay(&tcp_, 1);
  if (tls_ != nullptr) {
    auto t = MbedTlsTransport::create(*tls_, authority_);
    if (!t) {
      close();
      return fail("TLS with " + authority_ + ": " + t.error());
    }
    transport_ = std::move(t.value());
  } else {
    transport_ = std::make_unique<PlainTransport>();
  }
  parser_ = std::make_unique<HttpParser>(HttpParser::Kind::kResponse, limits_);
  connected_ = true;
  uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), &HttpClient::on_alloc, &HttpClient::on_read);
  if (auto st = transport_->flush(app_in_); !st) {  // the ClientHello
    close();
    return fail("TLS with " + authority_ + ": " + st.error());
  }
  write_wire();
  return Ok{};
}

void HttpClient::on_connect(uv_connect_t* req, int status) noexcept {
  auto* c = static_cast<HttpClient*>(req->data);
  c->connect_done_ = true;
  c->connect_status_ = status;
}

void HttpClient::on_alloc(uv_handle_t* h, std::size_t, uv_buf_t* buf) noexcept {
  auto* c = static_cast<HttpClient*>(h->data);
  *buf = uv_buf_init(c->read_buf_, sizeof c->read_buf_);
}

void HttpClient::fail_connection(std::string error) {
  if (error_.empty()) error_ = std::move(error);
  if (tcp_open_) uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
}

void HttpClient::on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) noexcept {
  auto* c = static_cast<HttpClient*>(s->data);
  if (n == 0) return;
  if (n < 0) {
    if (n == UV_EOF) {
      c->eof_ = true;
      if (c->parser_) {
        if (auto st = c->parser_->finish(c->responses_); !st)
          c->fail_connection("malformed response from " + c->authority_ + ": " + st.error().reason);
      }
      uv_read_stop(s);
    } else {
      c->fail_connection("connection to " + c->authority_ + ": " +
                         uv_strerror(static_cast<int>(n)));
    }
    return;
  }
  c->got_bytes_ = true;
  if (c->awaiting_response_) uv_timer_start(&c->timer_, &HttpClient::on_timer, c->timeout_ms_, 0);
  if (auto st = c->transport_->on_wire_bytes(
          std::string_view(buf->base, static_cast<std::size_t>(n)), c->app_in_);
      !st) {
    c->write_wire();  // a fatal alert for the peer, if any
    return c->fail_connection("TLS with " + c->authority_ + ": " + st.error());
  }
  c->write_wire();
  if (c->app_in_.empty()) return;
  const std::string app = std::move(c->app_in_);
  c->app_in_.clear();
  if (auto st = c->parser_->feed(app, c->responses_); !st) {
    if (st.error().from_sink) return c->fail_connection(st.error().reason);
    c->fail_connection("malformed response from " + c->authority_ + ": " + st.error().reason);
  }
}

void HttpClient::on_write(uv_write_t* req, int status) noexcept {
  std::unique_ptr<Write> done(reinterpret_cast<Write*>(req));
  if (status != 0 && status != UV_ECANCELED) {
    auto* c = static_cast<HttpClient*>(req->data);
    c->fail_connection("connection to " + c->authority_ + ": " + uv_strerror(status));
  }
}

void HttpClient::write_wire() {
  while (tcp_open_ && !transport_->wire_out().empty()) {
    auto w = std::make_unique<Write>();
    w->bytes.swap(transport_->wire_out());
    w->req.data = this;
    uv_buf_t b = uv_buf_init(w->bytes.data(), static_cast<unsigned>(w->bytes.size()));
    const int rc =
        uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), &b, 1, &HttpClient::on_write);
    if (rc != 0) {
      return fail_connection("connection to " + authority_ + ": " + uv_strerror(rc));
    }
    w.release();  // on_write frees it
    if (auto st = transport_->flush(app_in_); !st) {
      return fail_connection("TLS with " + authority_ + ": " + st.error());
    }
  }
}

HttpClient::Outcome HttpClient::exchange(const std::string& request, std::uint64_t deadline,
                                         HttpMessage& response, std::string& error) {
  responses_.clear();
  got_bytes_ = false;
  if (auto st = transport_->send_app(request); !st) {
    error = "TLS with " + authority_ + ": " + st.error();
    return Outcome::kFailed;
  }
  parser_->stream_to(sink_);
  write_wire();
  awaiting_response_ = true;  // each byte received restarts the timer (streamed responses)
  const bool finished =
      run_until([this] { return !responses_.empty() || eof_ || !error_.empty(); }, deadline);
  awaiting_response_ = false;
  if (!responses_.empty()) {
    response = std::move(responses_.front());
    responses_.clear();
    if (transport_) response.peer_identity = transport_->peer_identity();
    if (!response.keep_alive || eof_ || !error_.empty()) close();
    return Outcome::kDone;
  }
  if (!finished) {
    error = "no response from " + authority_ + " (timed out)";
    close();
    return Outcome::kFailed;
  }
  // The server closed (or reset) the connection without a response.
  const bool retry = !got_bytes_ && transport_->handshake_done();
  error = error_.empty() ? "connection to " + authority_ + " closed without a response" : error_;
  close();
  return retry ? Outcome::kRetry : Outcome::kFailed;
}

Result<HttpMessage> HttpClient::request(std::string_view method, std::string_view target,
                                        std::string_view content_type, std::string_view body,
                                        std::uint64_t timeout_ms) {
  return request_with(method, target, content_type, body, timeout_ms, nullptr);
}

Result<HttpMessage> HttpClient::request(std::string_view method, std::string_view target,
                                        std::string_view content_type, std::string_view body,
                                        std::uint64_t timeout_ms, ResponseSink& sink) {
  auto r = request_with(method, target, content_type, body, timeout_ms, &sink);
  if (parser_) parser_->stream_to(nullptr);
  return r;
}

Result<HttpMessage> HttpClient::request_with(std::string_view method, std::string_view target,
                                             std::string_view content_type, std::string_view body,
                                             std::uint64_t timeout_ms, ResponseSink* sink) {
  sink_ = sink;
  std::string bytes;
  append_request(bytes, method, target, authority_, content_type, body);
  uv_update_time(&loop_);
  const std::uint64_t deadline = uv_now(&loop_) + timeout_ms;
  timeout_ms_ = timeout_ms;
  // A reused keep-alive connection the server has closed meanwhile yields nothing: reconnect
  // once and send again. A fresh connection that fails is an error.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool fresh = false;
    if (connected_ && (eof_ || !error_.empty())) close();
    if (!connected_) {
      if (auto st = connect(deadline); !st) return fail(st.error());
      fresh = true;
    }
    HttpMessage response;
    std::string error;
    switch (exchange(bytes, deadline, response, error)) {
      case Outcome::kDone:
        return response;
      case Outcome::kRetry:
        if (!fresh) continue;
        return fail(error);
      case Outcome::kFailed:
        return fail(error);
    }
  }
  return fail("connection to " + authority_ + " keeps closing");
}

}  // namespace mplane::transport
