#include "transport/tls/mbedtls_transport.h"

#include "transport/pki/pki.h"

#include <mbedtls/error.h>
// For two facts 2.28 has no public accessor for: whether the handshake resumed a session, and
// the description of a received fatal alert. Both fields exist unchanged throughout 2.x.
#include <mbedtls/ssl_internal.h>

#include <algorithm>
#include <climits>
#include <cstring>

namespace mplane::transport {
namespace {

constexpr std::size_t kReadChunk = 16384;   // the largest TLS record plaintext
constexpr std::size_t kWriteChunk = 16384;  // mbedTLS cuts larger writes to one record anyway

// How a return code of mbedtls_ssl_{handshake_step,read,write,close_notify} steers us.
enum class Outcome : std::uint8_t { kProgress, kBlocked, kPeerClosed, kFatal };

Outcome classify(int ret) {
  if (ret >= 0) return Outcome::kProgress;
  switch (ret) {
    case MBEDTLS_ERR_SSL_WANT_READ:   // the input buffer is empty: wait for on_wire_bytes()
    case MBEDTLS_ERR_SSL_WANT_WRITE:  // wire_out() is full: wait for flush()
      return Outcome::kBlocked;
    case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
      return Outcome::kPeerClosed;
    // Async private keys, restartable ECC and DTLS are not configured: their "in progress"
    // codes (ASYNC_IN_PROGRESS, CRYPTO_IN_PROGRESS, CLIENT_RECONNECT) would be a bug here.
    default:
      return Outcome::kFatal;
  }
}

const char* alert_name(unsigned char description) {
  switch (description) {
    case MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE:
      return "unexpected_message";
    case MBEDTLS_SSL_ALERT_MSG_BAD_RECORD_MAC:
      return "bad_record_mac";
    case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE:
      return "handshake_failure";
    case MBEDTLS_SSL_ALERT_MSG_NO_CERT:
      return "no_certificate";
    case MBEDTLS_SSL_ALERT_MSG_BAD_CERT:
      return "bad_certificate";
    case MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT:
      return "unsupported_certificate";
    case MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED:
      return "certificate_revoked";
    case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED:
      return "certificate_expired";
    case MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN:
      return "certificate_unknown";
    case MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER:
      return "illegal_parameter";
    case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA:
      return "unknown_ca";
    case MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED:
      return "access_denied";
    case MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR:
      return "decode_error";
    case MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR:
      return "decrypt_error";
    case MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION:
      return "protocol_version";
    case MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY:
      return "insufficient_security";
    case MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR:
      return "internal_error";
    default:
      return "alert";
  }
}

// "a; b" from mbedtls_x509_crt_verify_info's one-line-per-flag text.
std::string verify_text(std::uint32_t flags) {
  char buf[1024];
  const int n = mbedtls_x509_crt_verify_info(buf, sizeof(buf), "", flags);
  std::string out;
  std::string_view text(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!text.empty()) {
    const auto nl = text.find('\n');
    if (!out.empty()) out += "; ";
    out.append(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  return out;
}

}  // namespace

MbedTlsTransport::MbedTlsTransport(TlsContext& ctx, std::string session_key,
                                   std::size_t wire_out_capacity)
    : ctx_(ctx), session_key_(std::move(session_key)), wire_out_capacity_(wire_out_capacity) {
  mbedtls_ssl_init(&ssl_);
}

MbedTlsTransport::~MbedTlsTransport() { mbedtls_ssl_free(&ssl_); }

Result<std::unique_ptr<MbedTlsTransport>> MbedTlsTransport::create(TlsContext& ctx,
                                                                   std::string session_key,
                                                                   std::size_t wire_out_capacity) {
  std::unique_ptr<MbedTlsTransport> t(
      new MbedTlsTransport(ctx, std::move(session_key), wire_out_capacity));
  if (auto s = t->setup(); !s) return fail(s.error());
  return t;
}

Status<> MbedTlsTransport::setup() {
  const int ret = mbedtls_ssl_setup(&ssl_, ctx_.config());
  if (ret != 0) return fail("mbedtls_ssl_setup: " + mbedtls_error_text(ret));
  mbedtls_ssl_set_bio(&ssl_, this, &bio_send, &bio_recv, nullptr);
  if (ctx_.role() == TlsRole::kClient && !session_key_.empty()) {
    // A session mbedTLS refuses only costs a full handshake.
    if (auto s = ctx_.apply_session(session_key_, &ssl_); !s) ctx_.forget_session(session_key_);
  }
  return Ok{};
}

int MbedTlsTransport::bio_send(void* ctx, const unsigned char* buf, std::size_t len) noexcept {
  auto* self = static_cast<MbedTlsTransport*>(ctx);
  std::size_t n = std::min<std::size_t>(len, INT_MAX);
  if (self->wire_out_capacity_ != 0) {
    const std::size_t used = self->wire_out_.size();
    const std::size_t room = used < self->wire_out_capacity_ ? self->wire_out_capacity_ - used : 0;
    if (room == 0) return MBEDTLS_ERR_SSL_WANT_WRITE;
    n = std::min(n, room);  // a partial write: mbedTLS calls again with the rest
  }
  self->wire_out_.append(reinterpret_cast<const char*>(buf), n);
  return static_cast<int>(n);
}

int MbedTlsTransport::bio_recv(void* ctx, unsigned char* buf, std::size_t len) noexcept {
  auto* self = static_cast<MbedTlsTransport*>(ctx);
  const std::size_t avail = self->wire_in_.size() - self->wire_in_pos_;
  if (avail == 0) return MBEDTLS_ERR_SSL_WANT_READ;
  const std::size_t n = std::min({len, avail, std::size_t{INT_MAX}});
  std::memcpy(buf, self->wire_in_.data() + self->wire_in_pos_, n);
  self->wire_in_pos_ += n;
  return static_cast<int>(n);
}

Status<> MbedTlsTransport::on_wire_bytes(std::string_view wire_in, std::string& app_in) {
  if (!error_.empty()) return fail(error_);
  if (peer_closed_) return drive(nullptr);  // nothing may follow close_notify: drop it
  if (wire_in_pos_ == wire_in_.size()) {
    wire_in_.clear();
    wire_in_pos_ = 0;
  } else if (wire_in_pos_ != 0) {
    wire_in_.erase(0, wire_in_pos_);
    wire_in_pos_ = 0;
  }
  wire_in_.append(wire_in);
  return drive(&app_in);
}

Status<> MbedTlsTransport::send_app(std::string_view app_out) {
  if (!error_.empty()) return fail(error_);
  if (close_requested_) return fail("TLS send after close");
  app_out_.append(app_out);
  if (!handshake_done_) return Ok{};  // encrypted once the handshake completes
  return drive(nullptr);
}

Status<> MbedTlsTransport::flush(std::string& app_in) {
  if (!error_.empty()) {
    // The rest of a fatal alert that did not fit into wire_out(); best effort.
    [[maybe_unused]] const int ret = mbedtls_ssl_flush_output(&ssl_);
    return fail(error_);
  }
  return drive(peer_closed_ ? nullptr : &app_in);
}

Status<> MbedTlsTransport::close() {
  if (!error_.empty()) return fail(error_);
  close_requested_ = true;
  if (!handshake_done_) return Ok{};  // nothing to say before the handshake: drop the socket
  return drive(nullptr);
}

std::string MbedTlsTransport::ciphersuite() const {
  const char* name = handshake_done_ ? mbedtls_ssl_get_ciphersuite(&ssl_) : nullptr;
  return name != nullptr ? name : "";
}

// Order matters: the handshake first, then queued writes (they may precede a close_notify),
// then reads (the input may end with the peer's close_notify).
Status<> MbedTlsTransport::drive(std::string* app_in) {
  if (!handshake_done_) {
    if (close_requested_) return Ok{};
    if (auto s = step_handshake(); !s || !handshake_done_) return s;
  }
  if (auto s = write_app(); !s) return s;
  if (app_in != nullptr) {
    if (auto s = read_app(*app_in); !s) return s;
  }
  if (close_requested_) return send_close_notify();
  return Ok{};
}

// mbedtls_ssl_handshake() is this loop; stepping lets us read the resumption flag, which lives
// in the handshake parameters that the last step frees. The client sets it when it offers a
// session and clears it if the ServerHello refuses, so the last value seen is the answer.
Status<> MbedTlsTransport::step_handshake() {
  while (ssl_.state != MBEDTLS_SSL_HANDSHAKE_OVER) {
    const int ret = mbedtls_ssl_handshake_step(&ssl_);
    if (ssl_.handshake != nullptr) resumed_ = ssl_.handshake->resume != 0;
    switch (classify(ret)) {
      case Outcome::kProgress:
        continue;
      case Outcome::kBlocked:
        return Ok{};
      case Outcome::kPeerClosed:  // close_notify instead of a handshake message
      case Outcome::kFatal:
        return fatal("handshake", ret);
    }
  }
  return on_handshake_complete();
}

Status<> MbedTlsTransport::on_handshake_complete() {
  handshake_done_ = true;
  const mbedtls_x509_crt* peer = mbedtls_ssl_get_peer_cert(&ssl_);
  // With VERIFY_REQUIRED a failed verification already failed the handshake; the check matters
  // for peer_cert_optional_for_test, where an unverified certificate must not give an identity.
  if (peer != nullptr && mbedtls_ssl_get_verify_result(&ssl_) == 0) {
    // One §4.7 implementation for the project: the PKI's. A verified certificate whose subject
    // cannot be read as text is not trusted with an identity.
    auto identity = pki::identity_from_dn(&peer->subject);
    identity_ = identity ? identity.value() : std::string(kUnauthenticatedIdentity);
  } else {
    identity_ = std::string(kUnauthenticatedIdentity);
  }
  if (ctx_.role() == TlsRole::kClient && !session_key_.empty()) {
    // Resumption is an optimisation: failing to store the session costs the next handshake.
    if (auto s = ctx_.save_session(session_key_, &ssl_); !s) ctx_.forget_session(session_key_);
  }
  return Ok{};
}

Status<> MbedTlsTransport::write_app() {
  while (!app_out_.empty()) {
    const std::size_t len =
        write_in_flight_ != 0 ? write_in_flight_ : std::min(app_out_.size(), kWriteChunk);
    const int ret =
        mbedtls_ssl_write(&ssl_, reinterpret_cast<const unsigned char*>(app_out_.data()), len);
    if (ret > 0) {
      write_in_flight_ = 0;
      app_out_.erase(0, static_cast<std::size_t>(ret));
      continue;
    }
    if (ret == 0) return fatal("write", ret);  // 0 only for an empty write: a bug here
    switch (classify(ret)) {
      case Outcome::kBlocked:
        write_in_flight_ = len;
        return Ok{};
      case Outcome::kProgress:
      case Outcome::kPeerClosed:
      case Outcome::kFatal:
        return fatal("write", ret);
    }
  }
  return Ok{};
}

Status<> MbedTlsTransport::read_app(std::string& app_in) {
  unsigned char buf[kReadChunk];
  for (;;) {  // bounded: ends when the bytes given to on_wire_bytes() are consumed
    const int ret = mbedtls_ssl_read(&ssl_, buf, sizeof(buf));
    if (ret > 0) {
      app_in.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(ret));
      continue;
    }
    // 0 would mean "transport EOF", which bio_recv never reports.
    if (ret == 0) return fatal("read", ret);
    switch (classify(ret)) {
      case Outcome::kBlocked:
        return Ok{};
      case Outcome::kPeerClosed:
        peer_closed_ = true;
        return Ok{};
      case Outcome::kProgress:
      case Outcome::kFatal:
        return fatal("read", ret);
    }
  }
}

// Waits until every queued byte is encrypted: mbedtls_ssl_close_notify() with a record still
// in flight would only flush it and report success without sending the alert.
Status<> MbedTlsTransport::send_close_notify() {
  if (close_notify_sent_ || !app_out_.empty() || write_in_flight_ != 0) return Ok{};
  const int ret = mbedtls_ssl_close_notify(&ssl_);
  switch (classify(ret)) {
    case Outcome::kProgress:
      close_notify_sent_ = true;
      return Ok{};
    case Outcome::kBlocked:
      return Ok{};
    case Outcome::kPeerClosed:
    case Outcome::kFatal:
      return fatal("close_notify", ret);
  }
  return fatal("close_notify", ret);
}

Status<> MbedTlsTransport::fatal(std::string_view during, int code) {
  std::string msg = "TLS " + std::string(during) + " failed: ";
  if (code >= 0) {
    msg += "unexpected code " + std::to_string(code);
  } else {
    msg += mbedtls_error_text(code);
  }
  if (code == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
    const std::uint32_t flags = mbedtls_ssl_get_verify_result(&ssl_);
    if (flags != 0 && flags != UINT32_MAX) msg += "; " + verify_text(flags);
  } else if (code == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && ssl_.in_msg != nullptr) {
    const unsigned char description = ssl_.in_msg[1];
    msg +=
        "; peer sent alert " + std::to_string(description) + " (" + alert_name(description) + ")";
  }
  if (code == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE) {
    // 2.28 refuses a client without a certificate silently; RFC 5246 7.4.6 suggests a fatal
    // handshake_failure, which tells the client why instead of leaving it waiting. Best effort.
    (void)mbedtls_ssl_send_alert_message(&ssl_, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                         MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE);
  }
  if (!handshake_done_ && ctx_.role() == TlsRole::kClient && !session_key_.empty()) {
    ctx_.forget_session(session_key_);
  }
  error_ = std::move(msg);
  return fail(error_);
}

}  // namespace mplane::transport
