#include "transport/tls/tls_context.h"

#include <mbedtls/error.h>

#include <cstdio>

namespace mplane::transport {
namespace {

constexpr char kDrbgPersonalisation[] = "mplane-engine tls";

std::string quoted(const std::string& path) { return "'" + path + "'"; }

// mbedtls_x509_crt_parse_file: 0, a negative error, or the number of certificates that failed.
Status<> load_certs(mbedtls_x509_crt* chain, const std::string& path, const char* what) {
  const int ret = mbedtls_x509_crt_parse_file(chain, path.c_str());
  if (ret == 0) return Ok{};
  if (ret > 0) {
    return fail("cannot load " + std::string(what) + " " + quoted(path) + ": " +
                std::to_string(ret) + " certificate(s) could not be parsed");
  }
  return fail("cannot load " + std::string(what) + " " + quoted(path) + ": " +
              mbedtls_error_text(ret));
}

}  // namespace

std::string mbedtls_error_text(int code) {
  char text[200];
  mbedtls_strerror(code, text, sizeof(text));
  char hex[24];
  std::snprintf(hex, sizeof(hex), " (-0x%04x)", static_cast<unsigned>(code < 0 ? -code : code));
  return std::string(text) + hex;
}

void TlsContext::SessionDeleter::operator()(mbedtls_ssl_session* s) const noexcept {
  mbedtls_ssl_session_free(s);
  delete s;
}

TlsContext::TlsContext(const TlsOptions& options) : options_(options) {
  mbedtls_entropy_init(&entropy_);
  mbedtls_ctr_drbg_init(&drbg_);
  mbedtls_x509_crt_init(&ca_);
  mbedtls_x509_crt_init(&own_cert_);
  mbedtls_pk_init(&own_key_);
  mbedtls_ssl_cache_init(&cache_);
  mbedtls_ssl_ticket_init(&ticket_);
  mbedtls_ssl_config_init(&conf_);
}

// Reverse order of dependency: the config refers to everything else.
TlsContext::~TlsContext() {
  mbedtls_ssl_config_free(&conf_);
  mbedtls_ssl_ticket_free(&ticket_);
  mbedtls_ssl_cache_free(&cache_);
  mbedtls_pk_free(&own_key_);
  mbedtls_x509_crt_free(&own_cert_);
  mbedtls_x509_crt_free(&ca_);
  mbedtls_ctr_drbg_free(&drbg_);
  mbedtls_entropy_free(&entropy_);
}

Result<std::unique_ptr<TlsContext>> TlsContext::create(const TlsOptions& options) {
  std::unique_ptr<TlsContext> ctx(new TlsContext(options));
  if (auto s = ctx->seed_rng(); !s) return fail(s.error());
  if (auto s = ctx->load_files(); !s) return fail(s.error());
  if (auto s = ctx->configure(); !s) return fail(s.error());
  return ctx;
}

Status<> TlsContext::seed_rng() {
  const int ret = mbedtls_ctr_drbg_seed(
      &drbg_, mbedtls_entropy_func, &entropy_,
      reinterpret_cast<const unsigned char*>(kDrbgPersonalisation), sizeof(kDrbgPersonalisation));
  if (ret != 0) return fail("cannot seed CTR_DRBG: " + mbedtls_error_text(ret));
  return Ok{};
}

Status<> TlsContext::load_files() {
  if (options_.ca_file.empty()) return fail("TLS needs a CA file (ca_file)");
  if (auto s = load_certs(&ca_, options_.ca_file, "CA certificates"); !s) return s;
  if (options_.cert_file.empty() != options_.key_file.empty()) {
    return fail("cert_file and key_file go together");
  }
  if (options_.cert_file.empty()) {
    if (options_.role == TlsRole::kServer) return fail("a TLS server needs cert_file and key_file");
    return Ok{};
  }
  if (auto s = load_certs(&own_cert_, options_.cert_file, "certificate"); !s) return s;
  int ret = mbedtls_pk_parse_keyfile(&own_key_, options_.key_file.c_str(), nullptr);
  if (ret != 0) {
    return fail("cannot load private key " + quoted(options_.key_file) + ": " +
                mbedtls_error_text(ret));
  }
  ret = mbedtls_pk_check_pair(&own_cert_.pk, &own_key_);
  if (ret != 0) {
    return fail("private key " + quoted(options_.key_file) + " does not match certificate " +
                quoted(options_.cert_file) + ": " + mbedtls_error_text(ret));
  }
  return Ok{};
}

Status<> TlsContext::configure() {
  const bool server = options_.role == TlsRole::kServer;
  int ret =
      mbedtls_ssl_config_defaults(&conf_, server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                  MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
  if (ret != 0) return fail("mbedtls_ssl_config_defaults: " + mbedtls_error_text(ret));
  mbedtls_ssl_conf_rng(&conf_, mbedtls_ctr_drbg_random, &drbg_);
  mbedtls_ssl_conf_ca_chain(&conf_, &ca_, nullptr);
  mbedtls_ssl_conf_authmode(&conf_, options_.peer_cert_optional_for_test
                                        ? MBEDTLS_SSL_VERIFY_OPTIONAL
                                        : MBEDTLS_SSL_VERIFY_REQUIRED);
  // TLS 1.2 exactly: 1.0/1.1 are obsolete, 2.28's 1.3 is experimental.
  mbedtls_ssl_conf_min_version(&conf_, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_max_version(&conf_, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
#if defined(MBEDTLS_SSL_RENEGOTIATION)
  // Renegotiation would make reads write (and vice versa) mid-stream; nobody needs it.
  mbedtls_ssl_conf_renegotiation(&conf_, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
  if (!options_.cert_file.empty()) {
    ret = mbedtls_ssl_conf_own_cert(&conf_, &own_cert_, &own_key_);
    if (ret != 0) return fail("mbedtls_ssl_conf_own_cert: " + mbedtls_error_text(ret));
  }
  return configure_resumption();
}

Status<> TlsContext::configure_resumption() {
  if (options_.role == TlsRole::kClient) {
    mbedtls_ssl_conf_session_tickets(&conf_, options_.session_tickets
                                                 ? MBEDTLS_SSL_SESSION_TICKETS_ENABLED
                                                 : MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
    return Ok{};
  }
  mbedtls_ssl_cache_set_timeout(&cache_, static_cast<int>(options_.session_lifetime_s));
  mbedtls_ssl_conf_session_cache(&conf_, &cache_, mbedtls_ssl_cache_get, mbedtls_ssl_cache_set);
  if (!options_.session_tickets) return Ok{};
  const int ret = mbedtls_ssl_ticket_setup(&ticket_, mbedtls_ctr_drbg_random, &drbg_,
                                           MBEDTLS_CIPHER_AES_256_GCM, options_.session_lifetime_s);
  if (ret != 0) return fail("mbedtls_ssl_ticket_setup: " + mbedtls_error_text(ret));
  mbedtls_ssl_conf_session_tickets_cb(&conf_, mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse,
                                      &ticket_);
  return Ok{};
}

Status<> TlsContext::apply_session(const std::string& key, mbedtls_ssl_context* ssl) const {
  std::lock_guard lock(sessions_mutex_);
  const auto it = sessions_.find(key);
  if (it == sessions_.end()) return Ok{};
  const int ret = mbedtls_ssl_set_session(ssl, it->second.get());
  if (ret != 0) return fail("mbedtls_ssl_set_session: " + mbedtls_error_text(ret));
  return Ok{};
}

Status<> TlsContext::save_session(const std::string& key, const mbedtls_ssl_context* ssl) {
  SessionPtr session(new mbedtls_ssl_session);
  mbedtls_ssl_session_init(session.get());
  const int ret = mbedtls_ssl_get_session(ssl, session.get());
  if (ret != 0) return fail("mbedtls_ssl_get_session: " + mbedtls_error_text(ret));
  std::lock_guard lock(sessions_mutex_);
  if (sessions_.size() >= kMaxClientSessions && sessions_.count(key) == 0) {
    sessions_.erase(sessions_.begin());  // any victim will do: a full handshake follows
  }
  sessions_[key] = std::move(session);
  return Ok{};
}

void TlsContext::forget_session(const std::string& key) {
  std::lock_guard lock(sessions_mutex_);
  sessions_.erase(key);
}

}  // namespace mplane::transport
