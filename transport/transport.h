// The seam between the TCP byte stream and the HTTP layer (STYLE C2).
//
// A Transport turns bytes read from a socket into application bytes and application bytes into
// bytes to write to the socket. It is byte-buffer based so that any event loop can drive it: it
// never touches a socket, never blocks, never throws, and never calls back into its owner.
//
// Implementations: PlainTransport (below, pass-through) and MbedTlsTransport
// (transport/tls/mbedtls_transport.h). Tests pump two transports against each other in memory.
//
// Driving a transport (every implementation follows the same protocol):
//   1. Once after construction call flush(app_in): a TLS client queues its ClientHello.
//   2. Bytes read from the socket go to on_wire_bytes(); decrypted bytes are appended to app_in.
//   3. Application bytes go to send_app().
//   4. After *every* call (including on_wire_bytes: TLS writes while reading), write
//      wire_out() to the socket and erase the bytes written from its front. If bytes were
//      erased, call flush(app_in): work that stopped on a full wire_out() (see the capacity
//      of MbedTlsTransport) resumes, and input that waited behind it is decrypted.
//   5. On an error, write what wire_out() still holds (it may carry a fatal alert for the peer),
//      then close the socket. A failed transport returns the same error from every later call.
//
// Threading: a transport belongs to one connection, hence to one shard; call it only there.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "parsers/base/result.h"

namespace mplane::transport {

// §4.1/§4.7 of PROTOCOL.md: the identity of every peer when there is no TLS.
inline constexpr std::string_view kUnauthenticatedIdentity = "Identity.Unauthenticated.Default";

class Transport {
 public:
  virtual ~Transport() = default;

  // Consumes all of `wire_in` (bytes read from the socket; may be empty) and appends the
  // application bytes it yields to `app_in`. May append bytes to wire_out() (handshake
  // messages, alerts, queued application data once the handshake completes).
  // Errors: a fatal protocol error (malformed or undecryptable input, failed peer verification,
  // fatal alert from the peer); the message names the reason. Bytes that arrive after the
  // peer's close_notify are ignored.
  [[nodiscard]] virtual Status<> on_wire_bytes(std::string_view wire_in, std::string& app_in) = 0;

  // Queues `app_out` for the peer. Data sent before the handshake completes is buffered and
  // encrypted once it does. The bytes to write appear in wire_out(), possibly only after later
  // flush(app_in) calls when wire_out() has a capacity. Errors: the transport has failed or close()
  // was called.
  [[nodiscard]] virtual Status<> send_app(std::string_view app_out) = 0;
  // The same, taking the bytes: plaintext hands them on without a copy (a large reply then
  // exists once, not twice, until it is written).
  [[nodiscard]] virtual Status<> send_app_owned(std::string&& app_out) { return send_app(app_out); }

  // Resumes work without new input: starts a client handshake, continues a handshake, writes
  // or a close_notify that stopped on a full wire_out(), and decrypts input that was waiting
  // behind them (appended to `app_in`). Errors as for on_wire_bytes().
  [[nodiscard]] virtual Status<> flush(std::string& app_in) = 0;

  // Bytes the caller must write to the socket, oldest first. The caller erases from the front
  // what it has written. The reference is valid for the lifetime of the transport.
  virtual std::string& wire_out() = 0;

  // Application bytes accepted by send_app() that are not yet in wire_out(). The caller stops
  // producing (backpressure) above its own watermark.
  virtual std::size_t pending_app_bytes() const = 0;

  // True once application data can flow (always for plaintext).
  virtual bool handshake_done() const = 0;

  // The peer's mPlane identity (PROTOCOL.md §4.7). Empty until handshake_done().
  virtual std::string peer_identity() const = 0;

  // True once the peer said it will send no more data (TLS close_notify). Plaintext has no
  // such message: the end of the TCP stream is the event loop's business.
  virtual bool peer_closed() const = 0;

  // Graceful close: sends the data already queued, then a close_notify (TLS). Idempotent.
  // Later send_app() calls fail. The caller keeps flushing wire_out() and then closes the socket.
  [[nodiscard]] virtual Status<> close() = 0;
};

// Pass-through transport for plain HTTP: every peer is kUnauthenticatedIdentity.
class PlainTransport final : public Transport {
 public:
  // Transport
  Status<> on_wire_bytes(std::string_view wire_in, std::string& app_in) override {
    app_in.append(wire_in);
    return Ok{};
  }
  Status<> send_app(std::string_view app_out) override {
    if (closed_) return fail("send after close");
    wire_out_.append(app_out);
    return Ok{};
  }
  Status<> send_app_owned(std::string&& app_out) override {
    if (closed_) return fail("send after close");
    if (wire_out_.empty()) {
      wire_out_.swap(app_out);
    } else {
      wire_out_.append(app_out);
    }
    return Ok{};
  }
  Status<> flush(std::string& /*app_in*/) override { return Ok{}; }
  std::string& wire_out() override { return wire_out_; }
  std::size_t pending_app_bytes() const override { return 0; }
  bool handshake_done() const override { return true; }
  std::string peer_identity() const override { return std::string(kUnauthenticatedIdentity); }
  bool peer_closed() const override { return false; }
  Status<> close() override {
    closed_ = true;
    return Ok{};
  }

 private:
  std::string wire_out_;
  bool closed_ = false;
};

}  // namespace mplane::transport
