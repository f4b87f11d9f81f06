// The connection pump, written once: a TCP socket on a libuv loop, a Transport (plain or TLS)
// between it and the application bytes, the write queue, a timer, and the close logic.
//
// Used by the HTTP server's connections, the asynchronous HTTP client and the load generator.
// A subclass gets the decrypted bytes, the end of the stream, transport failures, write
// completions and timer expiries through the virtual hooks below; it decides what to do
// (parse, answer, time out). Everything runs on the loop thread.
//
// Lifetime (STYLE C7): the socket and the timer are embedded. close() closes both; once their
// close callbacks have run, on_closed() is called — the only point where the subclass may free
// the object (a heap connection deletes itself there). Never destroy a StreamConnection whose
// handles were initialised and not yet closed.
//
// Writes: send() hands application bytes to the transport and writes what it produces. Each
// write may carry `Written` callbacks, told once whether its bytes left for the socket. Output
// not yet written is counted (output_bytes()) for the owner's bounds.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/base/result.h"
#include "transport/transport.h"

namespace mplane::transport {

class StreamConnection {
 public:
  using Written = std::function<void(bool delivered)>;

  // Tells each callback (once) and empties `callbacks`.
  static void report_written(std::vector<Written>& callbacks, bool delivered);

  explicit StreamConnection(uv_loop_t* loop) : loop_(loop) {}
  virtual ~StreamConnection() = default;
  StreamConnection(const StreamConnection&) = delete;
  StreamConnection& operator=(const StreamConnection&) = delete;

  // Initialises the socket and the timer (once). From here on close() must be called and
  // on_closed() awaited before the object goes away.
  void open_handles();
  // Accepts a connection from `listener`. Errors name the system error; the caller closes.
  Status<> accept(uv_stream_t* listener);
  // Starts connecting to `addr`; on_connected() reports the outcome. Errors: it could not even
  // start (the caller closes).
  Status<> connect(const sockaddr* addr);
  // After accept or a successful connect: the transport in use from now on (TCP_NODELAY set).
  // A TLS client's first flight is written at once. Errors: the transport's (the caller closes).
  Status<> start(std::unique_ptr<Transport> transport);

  // Reading on or off (backpressure). False if libuv refused to start.
  bool set_reading(bool on);
  bool reading() const { return reading_; }

  // Hands `bytes` to the transport and writes what it yields; `written` (may be null or empty)
  // go with the last write. False: the transport failed or a write could not be queued — the
  // connection is closing (or will report the error on its next read).
  bool send(std::string&& bytes, std::vector<Written>* written = nullptr);
  // Writes whatever the transport has for the socket (handshake messages, alerts).
  void write_wire(std::vector<Written>* written = nullptr);

  // Graceful end: the transport's close (TLS close_notify) is written, then the socket is
  // closed. Best effort: skipped when `peer_gone` (the socket may already be reset).
  void close_gracefully(bool peer_gone);
  // Closes the socket and the timer now; queued writes are cancelled (their callbacks told
  // false). Idempotent. on_closing() runs first, on_closed() once both handles are closed.
  void close();
  bool closing() const { return closing_; }

  void start_timer(std::uint64_t ms);
  // Arms the timer for an absolute loop time (uv_now ms); a past deadline fires at once.
  void start_timer_at(std::uint64_t deadline_ms);
  void stop_timer();
  std::uint64_t now_ms() const { return uv_now(loop_); }

  uv_loop_t* loop() const { return loop_; }
  uv_tcp_t* tcp() { return &tcp_; }
  Transport* transport() const { return transport_.get(); }
  std::size_t writes_in_flight() const { return writes_in_flight_; }
  std::size_t output_bytes() const { return output_bytes_; }

 protected:
  // --- Hooks (loop thread) ---
  // Application bytes decrypted from the socket (never empty).
  virtual void on_app_bytes(std::string_view bytes) = 0;
  // The peer ended the stream (UV_EOF) or the socket failed (a libuv error): reading stopped.
  virtual void on_read_end(int status) = 0;
  // The transport failed on the peer's bytes (e.g. a TLS alert); the alert for the peer, if any,
  // has been queued. `handshaking`: the failure came during the handshake.
  virtual void on_transport_error(const std::string& error, bool handshaking) = 0;
  // The transport's handshake has just completed (TLS; never called for plaintext).
  virtual void on_handshake_done() {}
  // The outcome of connect() (0 or a libuv error). Not called if closed meanwhile.
  virtual void on_connected(int /*status*/) {}
  // A write completed (status 0) or failed; its Written callbacks have been told. Not called
  // once closing.
  virtual void on_write_done(int /*status*/) {}
  // Bytes entered (add) or left the output not yet written: the owner's shared bounds.
  virtual void on_output_counted(std::size_t /*bytes*/, bool /*add*/) {}
  virtual void on_timer() = 0;
  // close() has begun (before the handles are closed): release what the owner counted.
  virtual void on_closing() {}
  // Both handles are closed: the object may be freed now.
  virtual void on_closed() = 0;

 private:
  struct WriteRequest;
  static void on_alloc(uv_handle_t* h, std::size_t hint, uv_buf_t* buf) noexcept;
  static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) noexcept;
  static void on_write(uv_write_t* req, int status) noexcept;
  static void on_connect(uv_connect_t* req, int status) noexcept;
  static void on_timer_fired(uv_timer_t* t) noexcept;
  static void on_handle_closed(uv_handle_t* h) noexcept;
  void handle_wire(std::string_view bytes);
  void count_output(std::size_t bytes, bool add);

  uv_loop_t* loop_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_connect_t connect_req_{};
  std::unique_ptr<Transport> transport_;
  std::string app_in_;
  std::size_t writes_in_flight_ = 0;
  std::size_t output_bytes_ = 0;  // handed to uv_write, not yet written
  int open_handles_ = 0;
  bool reading_ = false;
  bool closing_ = false;
  char read_buffer_[64 * 1024];
};

}  // namespace mplane::transport
