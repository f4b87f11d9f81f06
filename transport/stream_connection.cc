// The connection pump: callbacks are static trampolines on handle->data (STYLE C6); the object
// is handed back to its owner (on_closed) only from the last close callback (C7).
#include "transport/stream_connection.h"

namespace mplane::transport {
void StreamConnection::report_written(std::vector<Written>& callbacks, bool delivered) {
  auto due = std::move(callbacks);
  callbacks.clear();
  for (auto& fn : due) fn(delivered);
}

struct StreamConnection::WriteRequest {
  uv_write_t req{};
  std::string bytes;
  std::vector<Written> written;  // callbacks that end with this write
};

void StreamConnection::open_handles() {
  uv_tcp_init(loop_, &tcp_);
  tcp_.data = this;
  ++open_handles_;
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  ++open_handles_;
}

Status<> StreamConnection::accept(uv_stream_t* listener) {
  if (int rc = uv_accept(listener, reinterpret_cast<uv_stream_t*>(&tcp_)); rc != 0) {
    return fail(std::string("accept: ") + uv_strerror(rc));
  }
  return Ok{};
}

Status<> StreamConnection::connect(const sockaddr* addr) {
  connect_req_.data = this;
  if (int rc = uv_tcp_connect(&connect_req_, &tcp_, addr, &on_connect); rc != 0) {
    return fail(std::string(uv_strerror(rc)));
  }
  return Ok{};
}

void StreamConnection::on_connect(uv_connect_t* req, int status) noexcept {
  auto* self = static_cast<StreamConnection*>(req->data);
  if (self->closing_) return;  // UV_ECANCELED: the owner closed first
  self->on_connected(status);
}

Status<> StreamConnection::start(std::unique_ptr<Transport> transport) {
  transport_ = std::move(transport);
  uv_tcp_nodelay(&tcp_, 1);
  if (auto st = transport_->flush(app_in_); !st) return st;  // a TLS client's hello
  write_wire();
  return Ok{};
}

bool StreamConnection::set_reading(bool on) {
  if (closing_ || on == reading_) return !closing_;
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  if (on) {
    reading_ = uv_read_start(stream, &on_alloc, &on_read) == 0;
    return reading_;
  }
  uv_read_stop(stream);
  reading_ = false;
  return true;
}

void StreamConnection::on_alloc(uv_handle_t* h, std::size_t, uv_buf_t* buf) noexcept {
  auto* self = static_cast<StreamConnection*>(h->data);
  *buf = uv_buf_init(self->read_buffer_, sizeof self->read_buffer_);
}

void StreamConnection::on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) noexcept {
  auto* self = static_cast<StreamConnection*>(s->data);
  if (n > 0) return self->handle_wire(std::string_view(buf->base, static_cast<std::size_t>(n)));
  if (n == 0) return;  // EAGAIN
  uv_read_stop(s);
  self->reading_ = false;
  self->on_read_end(static_cast<int>(n));
}

// Socket bytes through the transport (TLS records, or as they are), then to the owner.
void StreamConnection::handle_wire(std::string_view bytes) {
  const bool handshaking = !transport_->handshake_done();
  auto st = transport_->on_wire_bytes(bytes, app_in_);
  write_wire();  // handshake messages, or the alert of a failed handshake
  if (closing_) return;
  if (!st) return on_transport_error(st.error(), handshaking);
  if (handshaking && transport_->handshake_done()) {
    on_handshake_done();
    if (closing_) return;
  }
  if (app_in_.empty()) return;
  const std::string app = std::move(app_in_);
  app_in_.clear();
  on_app_bytes(app);
}

void StreamConnection::count_output(std::size_t bytes, bool add) {
  output_bytes_ = add ? output_bytes_ + bytes : output_bytes_ - bytes;
  on_output_counted(bytes, add);
}

bool StreamConnection::send(std::string&& bytes, std::vector<Written>* written) {
  if (closing_ || !transport_->send_app_owned(std::move(bytes))) {
    if (written) report_written(*written, false);
    return false;
  }
  write_wire(written);
  return !closing_;
}

// Writes whatever the transport has for the socket; repeats while it produces more. The
// `written` callbacks go with the last write (or are told now if nothing could be written).
void StreamConnection::write_wire(std::vector<Written>* written) {
  WriteRequest* last = nullptr;
  while (!closing_ && transport_ && !transport_->wire_out().empty()) {
    auto* w = new WriteRequest;  // NOLINT(bugprone-unhandled-exception-at-new): OOM aborts
    w->bytes.swap(transport_->wire_out());
    w->req.data = this;
    uv_buf_t buf = uv_buf_init(w->bytes.data(), static_cast<unsigned>(w->bytes.size()));
    if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, &on_write) != 0) {
      delete w;
      close();
      break;
    }
    count_output(w->bytes.size(), true);
    last = w;
    ++writes_in_flight_;
    if (!transport_->flush(app_in_)) break;  // the next read reports the error
  }
  if (!written || written->empty()) return;
  if (last) {
    last->written = std::move(*written);
    written->clear();
  } else {
    report_written(*written, false);
  }
}

void StreamConnection::on_write(uv_write_t* req, int status) noexcept {
  std::unique_ptr<WriteRequest> w(reinterpret_cast<WriteRequest*>(req));
  auto* self = static_cast<StreamConnection*>(req->data);
  --self->writes_in_flight_;
  self->count_output(w->bytes.size(), false);
  report_written(w->written, status == 0 && !self->closing_);  // may send more (same loop)
  if (self->closing_) return;
  self->on_write_done(status);
}

void StreamConnection::close_gracefully(bool peer_gone) {
  if (closing_) return;
  if (transport_ && !peer_gone && transport_->close()) write_wire();
  close();
}

void StreamConnection::close() {
  if (closing_ || open_handles_ == 0) return;
  closing_ = true;
  reading_ = false;
  on_closing();
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &on_handle_closed);
}

void StreamConnection::on_handle_closed(uv_handle_t* h) noexcept {
  auto* self = static_cast<StreamConnection*>(h->data);
  if (--self->open_handles_ > 0) return;
  if (self->output_bytes_ > 0) self->count_output(self->output_bytes_, false);
  self->on_closed();  // may delete self
}

void StreamConnection::start_timer(std::uint64_t ms) {
  if (!closing_) uv_timer_start(&timer_, &on_timer_fired, ms, 0);
}

void StreamConnection::start_timer_at(std::uint64_t deadline_ms) {
  const std::uint64_t now = now_ms();
  start_timer(deadline_ms > now ? deadline_ms - now : 0);
}

void StreamConnection::stop_timer() {
  if (!closing_) uv_timer_stop(&timer_);
}

void StreamConnection::on_timer_fired(uv_timer_t* t) noexcept {
  auto* self = static_cast<StreamConnection*>(t->data);
  if (!self->closing_) self->on_timer();
}

}  // namespace mplane::transport
