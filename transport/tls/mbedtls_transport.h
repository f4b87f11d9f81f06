// MbedTlsTransport: TLS 1.2 over in-memory buffers (STYLE C2, C14).
//
// mbedTLS reads from and writes to this object's own buffers through mbedtls_ssl_set_bio
// callbacks: "recv" drains the bytes given to on_wire_bytes() and answers WANT_READ when they
// are gone, "send" appends to wire_out(). mbedTLS's WANT_READ / WANT_WRITE never reach the
// caller: they mean "call again with more input" / "call flush(app_in) after draining
// wire_out()".
//
// Follows the driving protocol of transport/transport.h. Additionally:
//   * wire_out_capacity > 0 bounds wire_out(): mbedTLS then sees partial writes and
//     WANT_WRITE, exactly as with a full socket buffer (tests use tiny capacities). While
//     output is blocked, input given to on_wire_bytes() is buffered, not processed: stop
//     reading the socket while wire_out() is full (backpressure, STYLE C5).
//   * Errors carry the mbedTLS text and, for a failed verification, the verification flags,
//     e.g. "TLS handshake failed: X509 - Certificate verification failed, ... (-0x2700);
//     The certificate is not correctly signed by the trusted CA". After an error wire_out()
//     may hold the fatal alert that tells the peer why: keep writing wire_out() and calling
//     flush() (it returns the error again) until wire_out() stays empty, then close. A server
//     refusing a client without a certificate sends handshake_failure (2.28 itself is silent).
//   * A client stores its session in the TlsContext under `session_key` after each
//     handshake and offers it on the next connection with the same key, so that reconnecting
//     skips the full handshake (resumed()). A failed handshake forgets the stored session.
//
// Ownership: holds a reference to the TlsContext, which must outlive it. Not movable (mbedTLS
// keeps a pointer to it). Threading: one connection, one shard.
#pragma once

#include <mbedtls/ssl.h>
#include <mbedtls/x509.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "parsers/base/result.h"
#include "transport/tls/tls_context.h"
#include "transport/transport.h"

namespace mplane::transport {

class MbedTlsTransport final : public Transport {
 public:
  // `ctx` decides client or server. `session_key` (client only) names the server for session
  // resumption, e.g. "host:port"; empty disables resumption. `wire_out_capacity` 0 = unbounded.
  // Errors: mbedtls_ssl_setup failed (out of memory).
  [[nodiscard]] static Result<std::unique_ptr<MbedTlsTransport>> create(
      TlsContext& ctx, std::string session_key = {}, std::size_t wire_out_capacity = 0);

  ~MbedTlsTransport() override;
  MbedTlsTransport(const MbedTlsTransport&) = delete;
  MbedTlsTransport& operator=(const MbedTlsTransport&) = delete;

  // Transport
  Status<> on_wire_bytes(std::string_view wire_in, std::string& app_in) override;
  Status<> send_app(std::string_view app_out) override;
  Status<> flush(std::string& app_in) override;
  std::string& wire_out() override { return wire_out_; }
  std::size_t pending_app_bytes() const override { return app_out_.size(); }
  bool handshake_done() const override { return handshake_done_; }
  // §4.7 identity of the verified peer certificate (also after resumption: the session keeps
  // the certificate). kUnauthenticatedIdentity if the peer presented no verified certificate,
  // which only peer_cert_optional_for_test allows.
  std::string peer_identity() const override { return identity_; }
  bool peer_closed() const override { return peer_closed_; }
  Status<> close() override;

  // True if the completed handshake resumed an earlier session (abbreviated handshake).
  bool resumed() const noexcept { return resumed_; }
  // The negotiated ciphersuite, e.g. "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384"; "" before.
  std::string ciphersuite() const;

 private:
  MbedTlsTransport(TlsContext& ctx, std::string session_key, std::size_t wire_out_capacity);
  [[nodiscard]] Status<> setup();

  // mbedtls_ssl_set_bio callbacks; `ctx` is this object.
  static int bio_send(void* ctx, const unsigned char* buf, std::size_t len) noexcept;
  static int bio_recv(void* ctx, unsigned char* buf, std::size_t len) noexcept;

  [[nodiscard]] Status<> drive(std::string* app_in);
  [[nodiscard]] Status<> step_handshake();
  [[nodiscard]] Status<> on_handshake_complete();
  [[nodiscard]] Status<> write_app();
  [[nodiscard]] Status<> read_app(std::string& app_in);
  [[nodiscard]] Status<> send_close_notify();
  // Records a fatal error (the transport stays failed) and returns it.
  Status<> fatal(std::string_view during, int code);

  TlsContext& ctx_;
  const std::string session_key_;
  const std::size_t wire_out_capacity_;
  mbedtls_ssl_context ssl_;

  std::string wire_in_;  // received, not yet consumed by mbedTLS (from wire_in_pos_)
  std::size_t wire_in_pos_ = 0;
  std::string wire_out_;
  std::string app_out_;  // accepted by send_app(), not yet given to mbedtls_ssl_write
  // Length passed to an mbedtls_ssl_write that returned WANT_WRITE: mbedTLS requires the retry
  // to pass the same length (it has already encrypted the record and reports that length).
  std::size_t write_in_flight_ = 0;

  std::string identity_;
  std::string error_;  // non-empty once failed
  bool handshake_done_ = false;
  bool resumed_ = false;
  bool close_requested_ = false;
  bool close_notify_sent_ = false;
  bool peer_closed_ = false;
};

using MbedTlsTransportPtr = std::unique_ptr<MbedTlsTransport>;

}  // namespace mplane::transport
