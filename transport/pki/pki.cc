// The domain PKI with mbedTLS 2.28. This file is longer than the usual unit because mbedTLS
// 2.28 lacks three pieces that are built here: names with repeated attributes (its
// string_to_names keeps one value per attribute type, so "DC=org,DC=mplane" loses "org"),
// subjectAltName and extendedKeyUsage.
#include "transport/pki/pki.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

namespace mplane::transport::pki {
namespace {

constexpr std::size_t kMaxLabel = 64;  // ub-common-name, also used for DC/O labels
constexpr std::size_t kMaxDnsName = 253;
constexpr std::size_t kSerialBytes = 16;
constexpr std::time_t kBackdate = 3600;  // tolerate peers whose clocks lag by up to an hour
constexpr std::time_t kSecondsPerDay = 86400;
constexpr std::size_t kCertBufferBase = 4096;
constexpr std::size_t kKeyPemBuffer = 2048;
constexpr int kAsn1NumericString = 0x12;
constexpr int kAsn1VisibleString = 0x1A;
constexpr char kRngPersonalisation[] = "mplane-pki";
constexpr char kPemCertBegin[] = "-----BEGIN CERTIFICATE-----\n";
constexpr char kPemCertEnd[] = "-----END CERTIFICATE-----\n";

// ---------------------------------------------------------------------------------------------
// mbedTLS plumbing

std::string mbedtls_text(int ret) {
  char text[160];
  mbedtls_strerror(ret, text, sizeof text);
  char code[24];
  std::snprintf(code, sizeof code, " (-0x%04X)", static_cast<unsigned>(-ret));
  return std::string(text) + code;
}

// 0 is success for every mbedTLS call checked here; any other value is an error code.
Status<> check(int ret, const std::string& what) {
  if (ret == 0) return Ok{};
  return fail(what + ": " + mbedtls_text(ret));
}

// Owns one mbedTLS context: init on construction, free on destruction.
template <class T, void (*Init)(T*), void (*Free)(T*)>
class Scoped {
 public:
  Scoped() { Init(&v_); }
  ~Scoped() { Free(&v_); }
  Scoped(const Scoped&) = delete;
  Scoped& operator=(const Scoped&) = delete;
  T* get() { return &v_; }

 private:
  T v_;
};
using PkContext = Scoped<mbedtls_pk_context, mbedtls_pk_init, mbedtls_pk_free>;
using Certificate = Scoped<mbedtls_x509_crt, mbedtls_x509_crt_init, mbedtls_x509_crt_free>;
using CertWriter =
    Scoped<mbedtls_x509write_cert, mbedtls_x509write_crt_init, mbedtls_x509write_crt_free>;
using Mpi = Scoped<mbedtls_mpi, mbedtls_mpi_init, mbedtls_mpi_free>;
using Entropy = Scoped<mbedtls_entropy_context, mbedtls_entropy_init, mbedtls_entropy_free>;
using Drbg = Scoped<mbedtls_ctr_drbg_context, mbedtls_ctr_drbg_init, mbedtls_ctr_drbg_free>;

// A CTR-DRBG seeded from the system entropy source; pass rng() and drbg() as f_rng/p_rng.
class Random {
 public:
  Status<> seed() {
    const auto* custom = reinterpret_cast<const unsigned char*>(kRngPersonalisation);
    return check(mbedtls_ctr_drbg_seed(drbg_.get(), mbedtls_entropy_func, entropy_.get(), custom,
                                       sizeof kRngPersonalisation - 1),
                 "seeding the random generator");
  }
  static int rng(void* drbg, unsigned char* out, std::size_t len) noexcept {
    return mbedtls_ctr_drbg_random(drbg, out, len);
  }
  mbedtls_ctr_drbg_context* drbg() { return drbg_.get(); }

 private:
  Entropy entropy_;  // declared first: drbg_ refers to it and is freed before it
  Drbg drbg_;
};

// Writes DER backwards into a buffer, as mbedtls_asn1_write_* do. The first error sticks.
class DerWriter {
 public:
  explicit DerWriter(std::size_t capacity) : buf_(capacity), p_(buf_.data() + capacity) {}
  unsigned char** p() { return &p_; }
  unsigned char* start() { return buf_.data(); }
  std::size_t length() const { return len_; }
  void add(int ret) {
    if (ret < 0 && error_ == 0) error_ = ret;
    if (ret > 0) len_ += static_cast<std::size_t>(ret);
  }
  // Wraps everything written so far in a SEQUENCE.
  void close_sequence() {
    add(mbedtls_asn1_write_len(&p_, start(), len_));
    add(mbedtls_asn1_write_tag(&p_, start(), MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
  }
  Status<> status(const std::string& what) const { return check(error_, what); }

 private:
  std::vector<unsigned char> buf_;
  unsigned char* p_;
  std::size_t len_ = 0;
  int error_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Files

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

// Fails if any path exists (or cannot be examined).
Status<> refuse_existing(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0)
      return fail(path + ": already exists; refusing to overwrite");
    if (errno != ENOENT) return fail(path + ": " + errno_text(errno));
  }
  return Ok{};
}

Status<> write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(path + ": write failed: " + errno_text(errno));
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Ok{};
}

// Creates `path` (never replacing a file) with exactly `mode` and writes `data`. On failure
// the file is removed.
Status<> write_new_file(const std::string& path, std::string_view data, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return fail(path + ": cannot create: " + errno_text(errno));
  Status<> st = Ok{};
  if (::fchmod(fd, mode) != 0) st = fail(path + ": chmod failed: " + errno_text(errno));
  if (st) st = write_all(fd, data, path);
  if (::close(fd) != 0 && st) st = fail(path + ": close failed: " + errno_text(errno));
  if (!st) ::unlink(path.c_str());
  return st;
}

// ---------------------------------------------------------------------------------------------
// Names

// One single-valued RDN.
struct Rdn {
  std::string type;  // "DC", "O", ... for messages
  std::string oid;   // DER contents of the attribute type OID
  int tag;           // ASN.1 string type of the value
  std::string value;
};

Rdn make_rdn(const char* type, const char* oid, std::size_t oid_len, int tag, std::string value) {
  return Rdn{type, std::string(oid, oid_len), tag, std::move(value)};
}

bool is_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

Status<> check_label(std::string_view label, std::string_view what) {
  if (label.empty() || label.size() > kMaxLabel) {
    return fail(std::string(what) + " '" + std::string(label) + "' must have 1 to 64 characters");
  }
  for (char c : label) {
    if (!is_label_char(c)) {
      return fail(std::string(what) + " '" + std::string(label) +
                  "' may only contain letters, digits, '-' and '_'");
    }
  }
  return Ok{};
}

// "org.mplane.Example" -> DC=org, DC=mplane, O=Example.
Result<std::vector<Rdn>> domain_rdns(std::string_view domain) {
  std::vector<Rdn> rdns;
  std::size_t begin = 0;
  while (true) {
    const std::size_t dot = domain.find('.', begin);
    const std::string_view label = domain.substr(begin, dot - begin);
    if (auto st = check_label(label, "domain label"); !st) return fail(st.error());
    if (dot == std::string_view::npos) {
      rdns.push_back(make_rdn("O", MBEDTLS_OID_AT_ORGANIZATION,
                              MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORGANIZATION),
                              MBEDTLS_ASN1_UTF8_STRING, std::string(label)));
      return rdns;
    }
    rdns.push_back(make_rdn("DC", MBEDTLS_OID_DOMAIN_COMPONENT,
                            MBEDTLS_OID_SIZE(MBEDTLS_OID_DOMAIN_COMPONENT), MBEDTLS_ASN1_IA5_STRING,
                            std::string(label)));
    begin = dot + 1;
  }
}

Rdn common_name(std::string value) {
  return make_rdn("CN", MBEDTLS_OID_AT_CN, MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN),
                  MBEDTLS_ASN1_UTF8_STRING, std::move(value));
}

bool is_common_name(const Rdn& rdn) {
  return rdn.oid == std::string_view(MBEDTLS_OID_AT_CN, MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN));
}

std::string attribute_type(const mbedtls_asn1_buf& oid) {
  const char* short_name = nullptr;
  if (mbedtls_oid_get_attr_short_name(&oid, &short_name) == 0) return short_name;
  char dotted[64];
  const int n = mbedtls_oid_get_numeric_string(dotted, sizeof dotted, &oid);
  return n < 0 ? std::string("?") : std::string(dotted);
}

// The RDNs of a parsed name, to be re-encoded byte for byte (type, string tag and value).
Result<std::vector<Rdn>> rdns_of(const mbedtls_x509_name* name) {
  std::vector<Rdn> rdns;
  for (const mbedtls_x509_name* n = name; n != nullptr && n->oid.p != nullptr; n = n->next) {
    if (n->next_merged) return fail("multi-valued RDNs are not supported");
    rdns.push_back(Rdn{attribute_type(n->oid),
                       std::string(reinterpret_cast<const char*>(n->oid.p), n->oid.len), n->val.tag,
                       std::string(reinterpret_cast<const char*>(n->val.p), n->val.len)});
  }
  if (rdns.empty()) return fail("empty subject name");
  return rdns;
}

std::string dn_text(const std::vector<Rdn>& rdns) {
  std::string text;
  for (const Rdn& rdn : rdns) text += (text.empty() ? "" : ", ") + rdn.type + "=" + rdn.value;
  return text;
}

// Sets *head (a name list of mbedtls_x509write_cert, which frees it) to `rdns`. The writer
// emits the list head last, so the RDNs are prepended in order.
Status<> set_name(mbedtls_asn1_named_data** head, const std::vector<Rdn>& rdns) {
  for (const Rdn& rdn : rdns) {
    // A fresh one-node list each time: store_named_data would merge equal attribute types.
    mbedtls_asn1_named_data* node_list = nullptr;
    mbedtls_asn1_named_data* node = mbedtls_asn1_store_named_data(
        &node_list, rdn.oid.data(), rdn.oid.size(),
        reinterpret_cast<const unsigned char*>(rdn.value.data()), rdn.value.size());
    if (node == nullptr) return fail("out of memory building a name");
    node->val.tag = rdn.tag;
    node->next = *head;
    *head = node;
  }
  return Ok{};
}

// ---------------------------------------------------------------------------------------------
// Subject alternative names

struct GeneralName {
  int tag;            // context-specific tag number: 2 dNSName, 7 iPAddress
  std::string bytes;  // IA5 text or the 4/16 address bytes
};
constexpr int kSanDns = 2;
constexpr int kSanIp = 7;

bool is_dns_label(std::string_view label, bool first) {
  if (first && label == "*") return true;
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
    return false;
  }
  for (char c : label) {
    if (!is_label_char(c) || c == '_') return false;
  }
  return true;
}

bool is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxDnsName) return false;
  std::size_t begin = 0;
  for (bool first = true;; first = false) {
    const std::size_t dot = name.find('.', begin);
    if (!is_dns_label(name.substr(begin, dot - begin), first)) return false;
    if (dot == std::string_view::npos) return true;
    begin = dot + 1;
  }
}

// IPv4/IPv6 literal -> iPAddress, host name -> dNSName.
Result<GeneralName> parse_san(const std::string& text) {
  unsigned char addr[16];
  for (const auto& [family, size] : {std::pair{AF_INET, 4}, std::pair{AF_INET6, 16}}) {
    const int ret = ::inet_pton(family, text.c_str(), addr);
    if (ret == 1) return GeneralName{kSanIp, std::string(reinterpret_cast<char*>(addr), size)};
    if (ret != 0) return fail("--san " + text + ": " + errno_text(errno));
  }
  if (!is_dns_name(text)) {
    return fail("--san '" + text + "' is neither an IP address nor a DNS name");
  }
  return GeneralName{kSanDns, text};
}

Status<> set_subject_alt_names(mbedtls_x509write_cert* crt, const std::vector<GeneralName>& sans) {
  std::size_t capacity = 16;
  for (const GeneralName& san : sans) capacity += san.bytes.size() + 8;
  DerWriter der(capacity);
  for (auto it = sans.rbegin(); it != sans.rend(); ++it) {
    der.add(mbedtls_asn1_write_tagged_string(der.p(), der.start(),
                                             MBEDTLS_ASN1_CONTEXT_SPECIFIC | it->tag,
                                             it->bytes.data(), it->bytes.size()));
  }
  der.close_sequence();
  if (auto st = der.status("encoding subjectAltName"); !st) return st;
  return check(mbedtls_x509write_crt_set_extension(crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                                   MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
                                                   0, *der.p(), der.length()),
               "adding subjectAltName");
}

// extendedKeyUsage serverAuth, clientAuth (non-critical).
Status<> set_ext_key_usage(mbedtls_x509write_cert* crt) {
  DerWriter der(32);
  der.add(mbedtls_asn1_write_oid(der.p(), der.start(), MBEDTLS_OID_CLIENT_AUTH,
                                 MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)));
  der.add(mbedtls_asn1_write_oid(der.p(), der.start(), MBEDTLS_OID_SERVER_AUTH,
                                 MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)));
  der.close_sequence();
  if (auto st = der.status("encoding extendedKeyUsage"); !st) return st;
  return check(mbedtls_x509write_crt_set_extension(crt, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                                                   MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE),
                                                   0, *der.p(), der.length()),
               "adding extendedKeyUsage");
}

// ---------------------------------------------------------------------------------------------
// Keys and certificates

Status<> generate_key(PkContext& key, Random& random) {
  if (auto st = check(mbedtls_pk_setup(key.get(), mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)),
                      "setting up an EC key");
      !st) {
    return st;
  }
  return check(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*key.get()), Random::rng,
                                   random.drbg()),
               "generating a P-256 key");
}

Result<std::string> key_pem(PkContext& key) {
  unsigned char buf[kKeyPemBuffer];
  if (auto st = check(mbedtls_pk_write_key_pem(key.get(), buf, sizeof buf), "encoding the key");
      !st) {
    return fail(st.error());
  }
  std::string pem(reinterpret_cast<const char*>(buf));
  mbedtls_platform_zeroize(buf, sizeof buf);
  return pem;
}

Result<std::string> x509_time(std::time_t t) {
  std::tm tm{};
  char text[16];
  if (::gmtime_r(&t, &tm) == nullptr ||
      std::strftime(text, sizeof text, "%Y%m%d%H%M%S", &tm) != 14) {
    return fail("validity date out of range");
  }
  return std::string(text);
}

Status<> check_days(int days) {
  if (days < 1 || days > kMaxDays) return fail("--days must be between 1 and 36500");
  return Ok{};
}

Status<> set_validity(mbedtls_x509write_cert* crt, std::time_t now, int days) {
  if (now == 0) now = std::time(nullptr);
  auto from = x509_time(now - kBackdate);
  auto to = x509_time(now + static_cast<std::time_t>(days) * kSecondsPerDay);
  if (!from) return fail(from.error());
  if (!to) return fail(to.error());
  return check(mbedtls_x509write_crt_set_validity(crt, from->c_str(), to->c_str()),
               "setting the validity");
}

// A random positive serial of exactly kSerialBytes octets (top bit clear, next bit set).
Status<> set_random_serial(mbedtls_x509write_cert* crt, Random& random) {
  unsigned char bytes[kSerialBytes];
  if (auto st = check(mbedtls_ctr_drbg_random(random.drbg(), bytes, sizeof bytes),
                      "drawing a serial number");
      !st) {
    return st;
  }
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7F) | 0x40);
  Mpi serial;
  if (auto st = check(mbedtls_mpi_read_binary(serial.get(), bytes, sizeof bytes), "serial"); !st) {
    return st;
  }
  return check(mbedtls_x509write_crt_set_serial(crt, serial.get()), "setting the serial number");
}

Status<> set_ca_extensions(mbedtls_x509write_cert* crt) {
  // pathlen 0: the domain CA signs members only.
  if (auto st = check(mbedtls_x509write_crt_set_basic_constraints(crt, 1, 0), "basicConstraints");
      !st) {
    return st;
  }
  return check(mbedtls_x509write_crt_set_key_usage(
                   crt, MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN),
               "keyUsage");
}

Status<> set_leaf_extensions(mbedtls_x509write_cert* crt, const std::vector<GeneralName>& sans) {
  if (auto st = check(mbedtls_x509write_crt_set_basic_constraints(crt, 0, -1), "basicConstraints");
      !st) {
    return st;
  }
  // digitalSignature only: RFC 5480 §3 allows no keyEncipherment for EC keys, and (EC)DHE
  // with ECDSA certificates needs only signatures.
  if (auto st = check(mbedtls_x509write_crt_set_key_usage(crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE),
                      "keyUsage");
      !st) {
    return st;
  }
  if (auto st = set_ext_key_usage(crt); !st) return st;
  if (sans.empty()) return Ok{};
  return set_subject_alt_names(crt, sans);
}

struct CertSpec {
  const std::vector<Rdn>& subject;
  const std::vector<Rdn>& issuer;
  mbedtls_pk_context* subject_key;
  mbedtls_pk_context* issuer_key;
  bool is_ca;
  const std::vector<GeneralName>& sans;
  int days;
  std::time_t now;
};

Status<> fill_certificate(mbedtls_x509write_cert* crt, const CertSpec& spec, Random& random) {
  mbedtls_x509write_crt_set_version(crt, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(crt, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(crt, spec.subject_key);
  mbedtls_x509write_crt_set_issuer_key(crt, spec.issuer_key);
  Status<> st = set_name(&crt->subject, spec.subject);
  if (st) st = set_name(&crt->issuer, spec.issuer);
  if (st) st = set_random_serial(crt, random);
  if (st) st = set_validity(crt, spec.now, spec.days);
  if (st) st = spec.is_ca ? set_ca_extensions(crt) : set_leaf_extensions(crt, spec.sans);
  // The key identifiers hash the keys set above.
  if (st) st = check(mbedtls_x509write_crt_set_subject_key_identifier(crt), "subjectKeyIdentifier");
  if (st) {
    st = check(mbedtls_x509write_crt_set_authority_key_identifier(crt), "authorityKeyIdentifier");
  }
  return st;
}

// Signs the certificate and returns its DER.
Result<std::string> sign_certificate(const CertSpec& spec, Random& random) {
  CertWriter writer;
  if (auto st = fill_certificate(writer.get(), spec, random); !st) return fail(st.error());
  std::size_t capacity = kCertBufferBase;
  for (const GeneralName& san : spec.sans) capacity += san.bytes.size() + 8;
  std::vector<unsigned char> buf(capacity);
  const int len =
      mbedtls_x509write_crt_der(writer.get(), buf.data(), buf.size(), Random::rng, random.drbg());
  if (len < 0) return fail("signing the certificate: " + mbedtls_text(len));
  return std::string(reinterpret_cast<const char*>(buf.data() + buf.size() - len),
                     static_cast<std::size_t>(len));
}

Result<std::string> certificate_pem(const std::string& der) {
  std::vector<unsigned char> buf(der.size() * 4 / 3 + der.size() / 32 + 128);
  std::size_t olen = 0;
  const int ret = mbedtls_pem_write_buffer(kPemCertBegin, kPemCertEnd,
                                           reinterpret_cast<const unsigned char*>(der.data()),
                                           der.size(), buf.data(), buf.size(), &olen);
  if (auto st = check(ret, "encoding the certificate as PEM"); !st) return fail(st.error());
  return std::string(reinterpret_cast<const char*>(buf.data()));
}

// The identity of a DER certificate just made, parsed back with mbedTLS as a self-check.
Result<std::string> der_identity(const std::string& der) {
  Certificate crt;
  if (auto st =
          check(mbedtls_x509_crt_parse_der(
                    crt.get(), reinterpret_cast<const unsigned char*>(der.data()), der.size()),
                "parsing the new certificate");
      !st) {
    return fail(st.error());
  }
  return identity_from_dn(&crt.get()->subject);
}

// Writes the key (0600) and the certificate (0644); on failure neither file is left behind.
Result<IssuedFiles> write_pair(PkContext& key, const std::string& der, const std::vector<Rdn>& dn,
                               const std::string& key_path, const std::string& cert_path) {
  auto identity = der_identity(der);
  if (!identity) return fail(identity.error());
  auto cert_text = certificate_pem(der);
  if (!cert_text) return fail(cert_text.error());
  auto key_text = key_pem(key);
  if (!key_text) return fail(key_text.error());
  Status<> st = write_new_file(key_path, *key_text, 0600);
  mbedtls_platform_zeroize(key_text->data(), key_text->size());
  if (!st) return fail(st.error());
  if (st = write_new_file(cert_path, *cert_text, 0644); !st) {
    ::unlink(key_path.c_str());
    return fail(st.error());
  }
  return IssuedFiles{dn_text(dn), std::move(identity.value()), key_path, cert_path};
}

std::string join_path(const std::string& dir, std::string_view file) {
  return (std::filesystem::path(dir) / file).string();
}

// Parses every certificate of a PEM or DER file; fails if any of them does not parse.
Status<> parse_certificate_file(Certificate& crt, const std::string& path) {
  const int ret = mbedtls_x509_crt_parse_file(crt.get(), path.c_str());
  if (ret > 0)
    return fail(path + ": " + std::to_string(ret) + " certificate(s) could not be parsed");
  return check(ret, path);
}

// The CA of a domain directory, loaded and checked.
struct Authority {
  PkContext key;
  Certificate cert;
  std::vector<Rdn> subject;
};

Status<> load_authority(const std::string& dir, Authority& ca) {
  const std::string key_path = join_path(dir, kCaKeyFile);
  const std::string cert_path = join_path(dir, kCaCertFile);
  for (const std::string& path : {cert_path, key_path}) {
    if (::access(path.c_str(), R_OK) != 0) {
      std::string why = path;
      why += ": " + errno_text(errno);
      why += " (is " + dir + " a domain made by `mplane pki init`?)";
      return fail(std::move(why));
    }
  }
  if (auto st = parse_certificate_file(ca.cert, cert_path); !st) return st;
  if (!ca.cert.get()->ca_istrue) return fail(cert_path + ": not a CA certificate");
  if (auto st = check(mbedtls_pk_parse_keyfile(ca.key.get(), key_path.c_str(), nullptr), key_path);
      !st) {
    return st;
  }
  if (auto st = check(mbedtls_pk_check_pair(&ca.cert.get()->pk, ca.key.get()),
                      key_path + ": does not match " + cert_path);
      !st) {
    return st;
  }
  auto subject = rdns_of(&ca.cert.get()->subject);
  if (!subject) return fail(cert_path + ": " + subject.error());
  ca.subject = std::move(subject.value());
  return Ok{};
}

// The CA's subject without its final CN, then OU=<Role>s, CN=<name>.
std::vector<Rdn> member_subject(const std::vector<Rdn>& ca_subject, Role role,
                                const std::string& name) {
  std::vector<Rdn> dn = ca_subject;
  if (!dn.empty() && is_common_name(dn.back())) dn.pop_back();
  dn.push_back(make_rdn("OU", MBEDTLS_OID_AT_ORG_UNIT, MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORG_UNIT),
                        MBEDTLS_ASN1_UTF8_STRING, std::string(role_unit(role))));
  dn.push_back(common_name(name));
  return dn;
}

Result<std::vector<GeneralName>> parse_sans(const std::vector<std::string>& texts) {
  std::vector<GeneralName> sans;
  for (const std::string& text : texts) {
    auto san = parse_san(text);
    if (!san) return fail(san.error());
    sans.push_back(std::move(san.value()));
  }
  return sans;
}

// ---------------------------------------------------------------------------------------------
// String values -> UTF-8 (§4.7)

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_scalar(std::uint32_t cp) { return cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF); }

// Length of the valid UTF-8 sequence at s[i], or 0 if there is none.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  const std::size_t n = b0 < 0xC2 ? 0 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : b0 < 0xF5 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  std::uint32_t cp = b0 & (0x7Fu >> n);
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  const std::uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
  return cp >= min && is_scalar(cp) ? n : 0;
}

bool is_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// Big-endian code units of `width` bytes (2: BMPString, 4: UniversalString) -> UTF-8.
Result<std::string> wide_to_utf8(std::string_view s, std::size_t width) {
  if (s.size() % width != 0) return fail("truncated wide string");
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += width) {
    std::uint32_t cp = 0;
    for (std::size_t k = 0; k < width; ++k) cp = (cp << 8) | static_cast<unsigned char>(s[i + k]);
    if (!is_scalar(cp)) return fail("invalid character in wide string");
    append_utf8(out, cp);
  }
  return out;
}

Result<std::string> value_to_utf8(const mbedtls_asn1_buf& val) {
  const std::string_view s(reinterpret_cast<const char*>(val.p), val.len);
  switch (val.tag) {
    case MBEDTLS_ASN1_UTF8_STRING:
      if (!is_utf8(s)) return fail("invalid UTF8String");
      return std::string(s);
    case MBEDTLS_ASN1_PRINTABLE_STRING:
    case MBEDTLS_ASN1_IA5_STRING:
    case kAsn1NumericString:
    case kAsn1VisibleString:
      for (char c : s) {
        if (static_cast<unsigned char>(c) >= 0x80) return fail("non-ASCII byte in an ASCII string");
      }
      return std::string(s);
    case MBEDTLS_ASN1_T61_STRING: {  // read as Latin-1, as OpenSSL does
      std::string out;
      for (char c : s) append_utf8(out, static_cast<unsigned char>(c));
      return out;
    }
    case MBEDTLS_ASN1_BMP_STRING:
      return wide_to_utf8(s, 2);
    case MBEDTLS_ASN1_UNIVERSAL_STRING:
      return wide_to_utf8(s, 4);
    default: {
      char text[48];
      std::snprintf(text, sizeof text, "unsupported string type 0x%02X", val.tag & 0xFF);
      return fail(text);
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public API

Result<Role> parse_role(std::string_view text) {
  if (text == "component") return Role::kComponent;
  if (text == "client") return Role::kClient;
  if (text == "supervisor") return Role::kSupervisor;
  return fail("unknown role '" + std::string(text) +
              "' (expected component, client or supervisor)");
}

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kComponent:
      return "component";
    case Role::kClient:
      return "client";
    case Role::kSupervisor:
      return "supervisor";
  }
  return "?";
}

std::string_view role_unit(Role role) {
  switch (role) {
    case Role::kComponent:
      return "Components";
    case Role::kClient:
      return "Clients";
    case Role::kSupervisor:
      return "Supervisors";
  }
  return "?";
}

Result<IssuedFiles> init_domain(const std::string& dir, const DomainOptions& options) {
  auto subject = domain_rdns(options.domain);
  if (!subject) return fail("--domain " + options.domain + ": " + subject.error());
  subject->push_back(common_name(subject->back().value + " CA"));
  if (auto st = check_days(options.days); !st) return fail(st.error());
  const std::string key_path = join_path(dir, kCaKeyFile);
  const std::string cert_path = join_path(dir, kCaCertFile);
  if (auto st = refuse_existing({key_path, cert_path}); !st) {
    return fail(st.error() + " (" + dir + " already holds a CA)");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(dir + ": cannot create directory: " + ec.message());

  Random random;
  PkContext key;
  if (auto st = random.seed(); !st) return fail(st.error());
  if (auto st = generate_key(key, random); !st) return fail(st.error());
  const std::vector<GeneralName> no_sans;
  const CertSpec spec{*subject, *subject, key.get(),    key.get(),
                      true,     no_sans,  options.days, options.now};
  auto der = sign_certificate(spec, random);
  if (!der) return fail(cert_path + ": " + der.error());
  return write_pair(key, *der, *subject, key_path, cert_path);
}

Result<IssuedFiles> issue(const std::string& dir, const IssueOptions& options) {
  if (auto st = check_label(options.name, "--name"); !st) return fail(st.error());
  if (auto st = check_days(options.days); !st) return fail(st.error());
  auto sans = parse_sans(options.sans);
  if (!sans) return fail(sans.error());
  const std::string prefix =
      !options.out_prefix.empty()
          ? options.out_prefix
          : join_path(dir, std::string(role_name(options.role)) + "-" + options.name);
  const std::string key_path = prefix + ".key";
  const std::string cert_path = prefix + ".crt";
  if (auto st = refuse_existing({key_path, cert_path}); !st) return fail(st.error());

  Authority ca;
  if (auto st = load_authority(dir, ca); !st) return fail(st.error());
  const std::vector<Rdn> subject = member_subject(ca.subject, options.role, options.name);
  Random random;
  PkContext key;
  if (auto st = random.seed(); !st) return fail(st.error());
  if (auto st = generate_key(key, random); !st) return fail(st.error());
  const CertSpec spec{subject, ca.subject, key.get(),    ca.key.get(),
                      false,   *sans,      options.days, options.now};
  auto der = sign_certificate(spec, random);
  if (!der) return fail(cert_path + ": " + der.error());
  return write_pair(key, *der, subject, key_path, cert_path);
}

Result<std::string> identity_from_dn(const mbedtls_x509_name* subject) {
  if (subject == nullptr || subject->oid.p == nullptr) return fail("empty subject name");
  std::string identity;
  bool rdn_start = true;
  std::size_t index = 0;
  for (const mbedtls_x509_name* n = subject; n != nullptr; n = n->next) {
    if (rdn_start) {
      auto value = value_to_utf8(n->val);
      if (!value) {
        return fail("subject RDN " + std::to_string(index + 1) + " (" + attribute_type(n->oid) +
                    "): " + value.error());
      }
      identity += (index++ == 0 ? "" : ".") + *value;
    }
    rdn_start = !n->next_merged;  // the next entry starts a new RDN unless merged into this one
  }
  return identity;
}

Result<std::string> certificate_identity(const std::string& pem_path) {
  Certificate crt;
  if (auto st = parse_certificate_file(crt, pem_path); !st) return fail(st.error());
  auto identity = identity_from_dn(&crt.get()->subject);
  if (!identity) return fail(pem_path + ": " + identity.error());
  return identity;
}

}  // namespace mplane::transport::pki
