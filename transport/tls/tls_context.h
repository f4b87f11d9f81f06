// TlsContext: the TLS configuration shared by the connections of one process (or one shard).
//
// Owns everything mbedTLS needs besides the per-connection state: the trusted CA chain, our own
// certificate and key, the entropy source and CTR_DRBG, the mbedtls_ssl_config, and the session
// resumption state (server: session ticket keys and a session cache; client: the last session
// per server). Built once at start-up by create(); the configuration is read-only afterwards.
//
// Policy (PROTOCOL.md §4.1): TLS 1.2 only (2.28's TLS 1.3 is experimental and is not enabled),
// mutual authentication mandatory: the peer must present a certificate chaining to the CA.
// Host names are *not* checked: mPlane certificates name entities (CN=Probe-1), not hosts;
// authorisation is by the peer identity derived from the subject DN (§4.7) and RBAC.
//
// Threading: Debian's mbedTLS 2.28 is built with MBEDTLS_THREADING_C + MBEDTLS_THREADING_PTHREAD,
// so the DRBG, the session cache and the ticket keys lock internally, and the config is const
// during handshakes; the client session store is guarded by its own mutex (taken once per
// handshake). A TlsContext may therefore be shared by all shards; one per shard also works and
// avoids the shared DRBG lock. It must outlive every MbedTlsTransport that uses it.
#pragma once

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "parsers/base/result.h"

namespace mplane::transport {

// mbedtls_strerror() text for an mbedTLS return code, e.g. "X509 - Certificate verification
// failed, e.g. CRL, CA or signature check failed" (the code in hex is appended for unknown codes).
std::string mbedtls_error_text(int code);

enum class TlsRole : std::uint8_t { kClient, kServer };

struct TlsOptions {
  TlsRole role = TlsRole::kServer;
  std::string ca_file;    // PEM: the CA certificate(s) a peer must chain to. Required.
  std::string cert_file;  // PEM: our certificate, then intermediates. Required for a server; a
                          // client without one is refused by any mPlane server (tests use it).
  std::string key_file;   // PEM: the private key of cert_file (unencrypted).
  // Tests only: accept a peer without a certificate. The handshake then succeeds and the peer
  // identity is kUnauthenticatedIdentity unless a certificate was presented and verified.
  bool peer_cert_optional_for_test = false;
  // Server: issue RFC 5077 session tickets. Client: offer to use them. When off, resumption
  // falls back to the server's session cache (session IDs).
  bool session_tickets = true;
  std::uint32_t session_lifetime_s = 86400;  // tickets and cache entries
};

class TlsContext {
 public:
  // Loads the files and builds the configuration. Errors name the file (or step) and carry the
  // mbedTLS error text, e.g. "cannot load certificate '/x.pem': PEM - No PEM header or footer
  // found". Start-up only.
  [[nodiscard]] static Result<std::unique_ptr<TlsContext>> create(const TlsOptions& options);

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  TlsRole role() const noexcept { return options_.role; }
  const mbedtls_ssl_config* config() const noexcept { return &conf_; }

  // Client session store, keyed by whatever names the server (e.g. "host:port"). Only the last
  // session per key is kept, and at most kMaxClientSessions keys. Thread-safe.
  static constexpr std::size_t kMaxClientSessions = 256;
  // Copies the session stored under `key` into `ssl` (mbedtls_ssl_set_session); no-op if none.
  // Errors: mbedTLS refused the session (the caller may go on with a full handshake).
  [[nodiscard]] Status<> apply_session(const std::string& key, mbedtls_ssl_context* ssl) const;
  // Saves the session negotiated on `ssl` (mbedtls_ssl_get_session) under `key`.
  [[nodiscard]] Status<> save_session(const std::string& key, const mbedtls_ssl_context* ssl);
  // Drops the session under `key` (after a failed handshake).
  void forget_session(const std::string& key);

 private:
  struct SessionDeleter {
    void operator()(mbedtls_ssl_session* s) const noexcept;
  };
  using SessionPtr = std::unique_ptr<mbedtls_ssl_session, SessionDeleter>;

  explicit TlsContext(const TlsOptions& options);
  [[nodiscard]] Status<> seed_rng();
  [[nodiscard]] Status<> load_files();
  [[nodiscard]] Status<> configure();
  [[nodiscard]] Status<> configure_resumption();

  TlsOptions options_;
  // The config points at all the members below; none of them moves (create() heap-allocates).
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
  mbedtls_x509_crt ca_;
  mbedtls_x509_crt own_cert_;
  mbedtls_pk_context own_key_;
  mbedtls_ssl_cache_context cache_;
  mbedtls_ssl_ticket_context ticket_;
  mbedtls_ssl_config conf_;

  mutable std::mutex sessions_mutex_;
  std::map<std::string, SessionPtr> sessions_;  // GUARDED_BY(sessions_mutex_)
};

using TlsContextPtr = std::unique_ptr<TlsContext>;

}  // namespace mplane::transport
