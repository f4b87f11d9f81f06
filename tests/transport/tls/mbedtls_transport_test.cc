// TLS without sockets (STYLE C14): a client and a server MbedTlsTransport pumped against each
// other through their wire_out() buffers with tiny capacities and tiny transfer steps, so that
// partial writes, WANT_WRITE and WANT_READ happen on nearly every step. The PKI is generated at
// test time with the openssl command line in a temporary directory.
#include <mbedtls/x509_crt.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <string>

#include "transport/pki/pki.h"
#include "transport/tls/mbedtls_transport.h"
#include "transport/tls/tls_context.h"
#include "transport/transport.h"

namespace mplane::transport {
namespace {

namespace fs = std::filesystem;

constexpr char kOpensslConf[] = R"([req]
distinguished_name = dn
[dn]
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
)";

// A CA, two leaves for the mPlane roles, a second unrelated CA with a leaf that copies the
// client's subject, and a leaf with a multi-valued RDN. Removed at exit.
class Pki {
 public:
  Pki() {
    char tmpl[] = "/tmp/mplane-tls-test-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return;
    dir_ = tmpl;
    std::ofstream(dir_ / "openssl.cnf") << kOpensslConf;
    ok_ = make_ca("ca", "/DC=org/DC=mplane/O=Test/CN=Test CA") &&
          make_ca("other_ca", "/DC=org/DC=mplane/O=Other/CN=Other CA") &&
          make_leaf("probe", "ca", "/DC=org/DC=mplane/O=Test/OU=Components/CN=Probe-1") &&
          make_leaf("client", "ca", "/DC=org/DC=mplane/O=Test/OU=Clients/CN=Client-1") &&
          make_leaf("rogue", "other_ca", "/DC=org/DC=mplane/O=Test/OU=Clients/CN=Client-1") &&
          make_leaf("multi", "ca", "/DC=org/DC=mplane/O=Test/OU=Clients+UID=c2/CN=Client-2");
  }
  ~Pki() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  bool ok() const { return ok_; }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  TlsOptions options(TlsRole role, const std::string& leaf, const std::string& ca = "ca") const {
    TlsOptions o;
    o.role = role;
    o.ca_file = path(ca + ".crt");
    if (!leaf.empty()) {
      o.cert_file = path(leaf + ".crt");
      o.key_file = path(leaf + ".key");
    }
    return o;
  }

 private:
  bool run(const std::string& args) const {
    const std::string cmd = "cd '" + dir_.string() + "' && openssl " + args + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
  }
  bool make_ca(const std::string& name, const std::string& subject) const {
    return run(
        "req -config openssl.cnf -x509 -extensions v3_ca -newkey ec -pkeyopt "
        "ec_paramgen_curve:P-256 -nodes -days 30 -subj '" +
        subject + "' -keyout " + name + ".key -out " + name + ".crt");
  }
  bool make_leaf(const std::string& name, const std::string& ca, const std::string& subject) const {
    static int serial = 100;
    return run("req -config openssl.cnf -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
               "-subj '" +
               subject + "' -keyout " + name + ".key -out " + name + ".csr") &&
           run("x509 -req -in " + name + ".csr -CA " + ca + ".crt -CAkey " + ca +
               ".key -set_serial " + std::to_string(++serial) +
               " -days 30 -extfile openssl.cnf -extensions v3_leaf -out " + name + ".crt");
  }

  fs::path dir_;
  bool ok_ = false;
};

const Pki& certs() {
  static const Pki instance;
  return instance;
}

TlsContextPtr make_context(const TlsOptions& options) {
  auto ctx = TlsContext::create(options);
  INFO((ctx ? std::string() : ctx.error()));
  REQUIRE(ctx.ok());
  return std::move(ctx).value();
}

// One end of an in-memory connection: the transport, what it decrypted, its first error.
struct End {
  MbedTlsTransportPtr t;
  std::string app_in;
  std::optional<std::string> error;

  void record(Status<> s) {
    if (!s && !error) error = s.error();
  }
};

End make_end(TlsContext& ctx, std::size_t capacity, const std::string& session_key = {}) {
  auto t = MbedTlsTransport::create(ctx, session_key, capacity);
  REQUIRE(t.ok());
  End e{std::move(t).value(), {}, {}};
  e.record(e.t->flush(e.app_in));  // a client queues its ClientHello
  return e;
}

// Moves at most `step` bytes from `from` to `to`; then `from` resumes what a full wire_out()
// had stopped. Returns false if there was nothing to move.
bool transfer(End& from, End& to, std::size_t step) {
  std::string& out = from.t->wire_out();
  if (out.empty()) return false;
  const std::size_t n = std::min(step, out.size());
  const std::string chunk = out.substr(0, n);
  out.erase(0, n);
  to.record(to.t->on_wire_bytes(chunk, to.app_in));
  from.record(from.t->flush(from.app_in));
  return true;
}

// Pumps both directions until `done()` or until no byte moves; a deadline instead of a hang.
bool pump(End& a, End& b, std::size_t step, const std::function<bool()>& done) {
  for (long i = 0; i < 100'000'000; ++i) {
    if (done()) return true;
    const bool moved_ab = transfer(a, b, step);
    const bool moved_ba = transfer(b, a, step);
    if (!moved_ab && !moved_ba) return done();
  }
  return false;
}

bool handshaken(const End& a, const End& b) {
  return a.t->handshake_done() && b.t->handshake_done();
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

struct Pair {
  TlsContextPtr client_ctx;
  TlsContextPtr server_ctx;
};

Pair default_pair() {
  REQUIRE(certs().ok());
  return {make_context(certs().options(TlsRole::kClient, "client")),
          make_context(certs().options(TlsRole::kServer, "probe"))};
}

}  // namespace

TEST_CASE("MbedTlsTransport: handshake, identities and 1 MB each way", "[transport][tls]") {
  const std::size_t step = GENERATE(1, 7, 64, 0);  // 0: unbounded buffers, whole writes
  const std::size_t wire = step == 0 ? SIZE_MAX : step;
  INFO("step " << step);
  Pair p = default_pair();
  End client = make_end(*p.client_ctx, step, "probe:1228");
  End server = make_end(*p.server_ctx, step);

  const std::string up = random_bytes(1 << 20, 1);
  const std::string down = random_bytes(1 << 20, 2);
  // Queued before the handshake: encrypted once it completes.
  REQUIRE(client.t->send_app(up).ok());
  REQUIRE(server.t->send_app(down).ok());
  CHECK(client.t->pending_app_bytes() == up.size());

  REQUIRE(pump(client, server, wire, [&] { return handshaken(client, server); }));
  CHECK(client.t->peer_identity() == "org.mplane.Test.Components.Probe-1");
  CHECK(server.t->peer_identity() == "org.mplane.Test.Clients.Client-1");
  CHECK_FALSE(client.t->resumed());
  CHECK_FALSE(server.t->resumed());
  CHECK(client.t->ciphersuite() == server.t->ciphersuite());
  CHECK_FALSE(client.t->ciphersuite().empty());

  REQUIRE(pump(client, server, wire, [&] {
    return client.app_in.size() >= down.size() && server.app_in.size() >= up.size();
  }));
  CHECK_FALSE(client.error);
  CHECK_FALSE(server.error);
  CHECK(server.app_in == up);
  CHECK(client.app_in == down);
  CHECK(client.t->pending_app_bytes() == 0);
}

TEST_CASE("MbedTlsTransport: close_notify both ways", "[transport][tls]") {
  Pair p = default_pair();
  End client = make_end(*p.client_ctx, 7);
  End server = make_end(*p.server_ctx, 7);
  REQUIRE(pump(client, server, 7, [&] { return handshaken(client, server); }));

  // Data queued before close() still precedes the close_notify.
  REQUIRE(client.t->send_app("last words").ok());
  REQUIRE(client.t->close().ok());
  CHECK(client.t->close().ok());  // idempotent
  CHECK_FALSE(client.t->send_app("more").ok());
  REQUIRE(pump(client, server, 7, [&] { return server.t->peer_closed(); }));
  CHECK(server.app_in == "last words");
  CHECK_FALSE(server.error);

  // The server may still answer before closing its half.
  REQUIRE(server.t->send_app("bye").ok());
  REQUIRE(server.t->close().ok());
  REQUIRE(pump(client, server, 7, [&] { return client.t->peer_closed(); }));
  CHECK(client.app_in == "bye");
  CHECK_FALSE(client.error);
  // Bytes after close_notify are ignored, not an error.
  std::string after;
  CHECK(server.t->on_wire_bytes("junk", after).ok());
  CHECK(after.empty());
}

TEST_CASE("MbedTlsTransport: a client without a certificate is refused", "[transport][tls]") {
  REQUIRE(certs().ok());
  auto client_ctx = make_context(certs().options(TlsRole::kClient, ""));
  auto server_ctx = make_context(certs().options(TlsRole::kServer, "probe"));
  End client = make_end(*client_ctx, 64);
  End server = make_end(*server_ctx, 64);
  pump(client, server, 64, [&] { return client.error && server.error; });
  REQUIRE(server.error);
  CHECK_THAT(*server.error, Catch::Contains("No client certification received"));
  REQUIRE(client.error);  // told by the server's fatal alert
  CHECK_THAT(*client.error, Catch::Contains("fatal alert") && Catch::Contains("handshake_failure"));
  CHECK_FALSE(server.t->handshake_done());
  CHECK(server.t->peer_identity().empty());
  // A failed transport keeps failing with the same error.
  std::string app;
  CHECK(server.t->on_wire_bytes("x", app).error() == *server.error);
}

TEST_CASE("MbedTlsTransport: certificates from another CA are refused", "[transport][tls]") {
  REQUIRE(certs().ok());
  SECTION("client certificate") {
    auto client_ctx = make_context(certs().options(TlsRole::kClient, "rogue"));
    auto server_ctx = make_context(certs().options(TlsRole::kServer, "probe"));
    // One byte at a time: the alert leaves in pieces after the server has failed.
    End client = make_end(*client_ctx, 1);
    End server = make_end(*server_ctx, 1);
    pump(client, server, 1, [&] { return client.error && server.error; });
    REQUIRE(server.error);
    CHECK_THAT(*server.error, Catch::Contains("Certificate verification failed"));
    CHECK_THAT(*server.error, Catch::Contains("not correctly signed by the trusted CA"));
    REQUIRE(client.error);
    CHECK_THAT(*client.error, Catch::Contains("unknown_ca"));
    CHECK_FALSE(server.t->handshake_done());
  }
  SECTION("server certificate") {
    auto client_ctx = make_context(certs().options(TlsRole::kClient, "client", "other_ca"));
    auto server_ctx = make_context(certs().options(TlsRole::kServer, "probe"));
    End client = make_end(*client_ctx, 64);
    End server = make_end(*server_ctx, 64);
    pump(client, server, 64, [&] { return client.error && server.error; });
    REQUIRE(client.error);
    CHECK_THAT(*client.error, Catch::Contains("not correctly signed by the trusted CA"));
    CHECK_FALSE(client.t->handshake_done());
  }
}

TEST_CASE("MbedTlsTransport: optional peer certificate (tests only)", "[transport][tls]") {
  REQUIRE(certs().ok());
  TlsOptions server_options = certs().options(TlsRole::kServer, "probe");
  server_options.peer_cert_optional_for_test = true;
  auto server_ctx = make_context(server_options);
  const std::string leaf = GENERATE(std::string(), std::string("rogue"));
  INFO("client certificate: " << leaf);
  auto client_ctx = make_context(certs().options(TlsRole::kClient, leaf));
  End client = make_end(*client_ctx, 64);
  End server = make_end(*server_ctx, 64);
  REQUIRE(pump(client, server, 64, [&] { return handshaken(client, server); }));
  // Neither no certificate nor an unverified one may yield an identity.
  CHECK(server.t->peer_identity() == kUnauthenticatedIdentity);
  CHECK(client.t->peer_identity() == "org.mplane.Test.Components.Probe-1");
}

TEST_CASE("MbedTlsTransport: reconnecting resumes the session", "[transport][tls]") {
  REQUIRE(certs().ok());
  const bool tickets = GENERATE(true, false);  // false: the server's session cache (session ID)
  INFO("session tickets " << tickets);
  TlsOptions client_options = certs().options(TlsRole::kClient, "client");
  client_options.session_tickets = tickets;
  auto client_ctx = make_context(client_options);
  auto server_ctx = make_context(certs().options(TlsRole::kServer, "probe"));

  auto connect = [&](TlsContext& server_tls, const std::string& key, std::size_t step) {
    End client = make_end(*client_ctx, step, key);
    End server = make_end(server_tls, step);
    REQUIRE(client.t->send_app("ping").ok());
    REQUIRE(pump(client, server, step, [&] { return server.app_in == "ping"; }));
    CHECK(server.t->peer_identity() == "org.mplane.Test.Clients.Client-1");
    CHECK(client.t->peer_identity() == "org.mplane.Test.Components.Probe-1");
    CHECK(client.t->resumed() == server.t->resumed());
    return client.t->resumed();
  };

  CHECK_FALSE(connect(*server_ctx, "probe:1228", 64));
  CHECK(connect(*server_ctx, "probe:1228", 64));  // abbreviated handshake
  CHECK(connect(*server_ctx, "probe:1228", 1));
  CHECK_FALSE(connect(*server_ctx, "other:1228", 64));  // another server key
  CHECK_FALSE(connect(*server_ctx, "", 64));            // resumption off
  // A restarted server (new ticket keys, empty cache) refuses the session: full handshake,
  // after which the new session resumes.
  auto restarted = make_context(certs().options(TlsRole::kServer, "probe"));
  CHECK_FALSE(connect(*restarted, "probe:1228", 64));
  CHECK(connect(*restarted, "probe:1228", 64));
}

TEST_CASE("MbedTlsTransport: garbage input gives a clean error", "[transport][tls]") {
  Pair p = default_pair();
  SECTION("plain HTTP to a TLS server") {
    End server = make_end(*p.server_ctx, 0);
    auto s = server.t->on_wire_bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n", server.app_in);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.error(), Catch::StartsWith("TLS handshake failed: "));
  }
  SECTION("random bytes of every size to both ends") {
    for (unsigned seed = 0; seed < 300; ++seed) {
      const std::string junk = random_bytes(1 + seed * 7 % 700, seed);
      End server = make_end(*p.server_ctx, seed % 2 == 0 ? 0 : 5);
      server.record(server.t->on_wire_bytes(junk, server.app_in));
      End client = make_end(*p.client_ctx, 0);
      client.record(client.t->on_wire_bytes(junk, client.app_in));
      // Either waiting for the rest of a plausible record or failed with a message.
      if (server.error) CHECK_THAT(*server.error, Catch::StartsWith("TLS handshake failed: "));
      if (client.error) CHECK_THAT(*client.error, Catch::StartsWith("TLS handshake failed: "));
      CHECK(server.app_in.empty());
      CHECK(client.app_in.empty());
    }
  }
  SECTION("a flipped bit in an application record") {
    End client = make_end(*p.client_ctx, 0);
    End server = make_end(*p.server_ctx, 0);
    REQUIRE(pump(client, server, SIZE_MAX, [&] { return handshaken(client, server); }));
    REQUIRE(client.t->send_app("payload").ok());
    std::string record = client.t->wire_out();
    client.t->wire_out().clear();
    record.back() = static_cast<char>(record.back() ^ 1);
    auto s = server.t->on_wire_bytes(record, server.app_in);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.error(), Catch::Contains("TLS read failed"));
    CHECK(server.app_in.empty());
    CHECK_FALSE(server.t->wire_out().empty());  // the bad_record_mac alert for the client
  }
}

TEST_CASE("peer identities follow PROTOCOL.md 4.7 (pki::identity_from_dn)", "[transport][tls]") {
  REQUIRE(certs().ok());
  auto identity_of = [](const std::string& file) {
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    REQUIRE(mbedtls_x509_crt_parse_file(&crt, file.c_str()) == 0);
    std::string id = transport::pki::identity_from_dn(&crt.subject).value();
    mbedtls_x509_crt_free(&crt);
    return id;
  };
  CHECK(identity_of(certs().path("probe.crt")) == "org.mplane.Test.Components.Probe-1");
  CHECK(identity_of(certs().path("ca.crt")) == "org.mplane.Test.Test CA");
  // OU=Clients+UID=c2: DER sorts the SET, OU (shorter encoding) first; only it is used.
  CHECK(identity_of(certs().path("multi.crt")) == "org.mplane.Test.Clients.Client-2");

  mbedtls_x509_name empty{};
  CHECK(!transport::pki::identity_from_dn(&empty).ok());

  // Hand-built names: a multi-valued RDN in the middle, and a BMPString value.
  unsigned char bmp[] = {0x00, 'B', 0x00, 0xE9};  // "Bé"
  mbedtls_x509_name cn{}, uid{}, ou{}, dc{};
  const unsigned char oid_byte = 0x55;
  auto set = [&](mbedtls_x509_name& n, const char* v, mbedtls_x509_name* next) {
    n.oid = {MBEDTLS_ASN1_OID, 1, const_cast<unsigned char*>(&oid_byte)};
    n.val = {MBEDTLS_ASN1_UTF8_STRING, std::strlen(v),
             reinterpret_cast<unsigned char*>(const_cast<char*>(v))};
    n.next = next;
  };
  set(cn, "", nullptr);
  cn.val = {MBEDTLS_ASN1_BMP_STRING, sizeof(bmp), bmp};
  set(uid, "u1", &cn);
  set(ou, "Clients", &uid);
  ou.next_merged = 1;
  set(dc, "org", &ou);
  CHECK(transport::pki::identity_from_dn(&dc).value() == "org.Clients.B\xC3\xA9");
}

TEST_CASE("TlsContext: loading errors name the file and the reason", "[transport][tls]") {
  REQUIRE(certs().ok());
  SECTION("missing CA file") {
    TlsOptions o = certs().options(TlsRole::kServer, "probe");
    o.ca_file = certs().path("nope.crt");
    auto ctx = TlsContext::create(o);
    REQUIRE_FALSE(ctx.ok());
    CHECK_THAT(ctx.error(), Catch::Contains("nope.crt") && Catch::Contains("CA certificates"));
  }
  SECTION("a key is not a certificate") {
    TlsOptions o = certs().options(TlsRole::kServer, "probe");
    o.cert_file = certs().path("probe.key");
    auto ctx = TlsContext::create(o);
    REQUIRE_FALSE(ctx.ok());
    CHECK_THAT(ctx.error(), Catch::Contains("probe.key"));
  }
  SECTION("key of another certificate") {
    TlsOptions o = certs().options(TlsRole::kServer, "probe");
    o.key_file = certs().path("client.key");
    auto ctx = TlsContext::create(o);
    REQUIRE_FALSE(ctx.ok());
    CHECK_THAT(ctx.error(), Catch::Contains("does not match") && Catch::Contains("client.key"));
  }
  SECTION("a server needs a certificate") {
    auto ctx = TlsContext::create(certs().options(TlsRole::kServer, ""));
    REQUIRE_FALSE(ctx.ok());
    CHECK_THAT(ctx.error(), Catch::Contains("needs cert_file"));
  }
}

TEST_CASE("PlainTransport passes bytes through", "[transport]") {
  PlainTransport t;
  std::string app;
  REQUIRE(t.flush(app).ok());
  REQUIRE(t.on_wire_bytes("GET / HTTP/1.1\r\n", app).ok());
  CHECK(app == "GET / HTTP/1.1\r\n");
  REQUIRE(t.send_app("HTTP/1.1 200 OK\r\n").ok());
  CHECK(t.wire_out() == "HTTP/1.1 200 OK\r\n");
  CHECK(t.handshake_done());
  CHECK(t.peer_identity() == kUnauthenticatedIdentity);
  REQUIRE(t.close().ok());
  CHECK_FALSE(t.send_app("x").ok());
}

}  // namespace mplane::transport
