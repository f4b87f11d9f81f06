// transport/pki: domain CA and member certificates, checked against OpenSSL (the `openssl`
// command line tool must be on PATH), and identity_from_dn (PROTOCOL.md §4.7).
#include "transport/pki/pki.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>

namespace mplane::transport::pki {
namespace {

namespace fs = std::filesystem;

// A fresh directory, removed with its contents at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "mplane-pki-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

struct Run {
  int status;
  std::string output;  // stdout and stderr
};

// Runs a shell command (paths here never need quoting: mkdtemp names are [A-Za-z0-9_-]).
Run run(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) output.append(buf, n);
  const int status = ::pclose(pipe);
  return Run{WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

mode_t file_mode(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// A domain CA in a temp dir, default domain org.mplane.Example.
struct Domain {
  TempDir dir;
  IssuedFiles ca;
  Domain() {
    auto made = init_domain(dir.str(), DomainOptions{});
    REQUIRE(made.ok());
    ca = *made;
  }
  IssuedFiles member(Role role, const std::string& name, std::vector<std::string> sans = {}) {
    IssueOptions options;
    options.role = role;
    options.name = name;
    options.sans = std::move(sans);
    auto issued = issue(dir.str(), options);
    INFO((issued ? std::string() : issued.error()));
    REQUIRE(issued.ok());
    return *issued;
  }
};

TEST_CASE("pki init writes the domain CA", "[transport][pki]") {
  Domain d;
  CHECK(d.ca.subject == "DC=org, DC=mplane, O=Example, CN=Example CA");
  CHECK(d.ca.key_path == d.dir / "ca.key");
  CHECK(d.ca.cert_path == d.dir / "ca.crt");
  CHECK(file_mode(d.ca.key_path) == 0600);

  const Run text = run("openssl x509 -noout -text -in " + d.ca.cert_path);
  REQUIRE(text.status == 0);
  CHECK_THAT(text.output,
             Catch::Contains("Subject: DC = org, DC = mplane, O = Example, CN = Example CA"));
  CHECK_THAT(text.output, Catch::Contains("Issuer: DC = org, DC = mplane, O = Example, CN = "
                                          "Example CA"));
  CHECK_THAT(text.output, Catch::Contains("Basic Constraints: critical\n                CA:TRUE"));
  CHECK_THAT(text.output, Catch::Contains("Certificate Sign, CRL Sign"));
  CHECK_THAT(text.output, Catch::Contains("ecdsa-with-SHA256"));
  CHECK_THAT(text.output, Catch::Contains("NIST CURVE: P-256"));
  CHECK(
      run("openssl verify -x509_strict -CAfile " + d.ca.cert_path + " " + d.ca.cert_path).status ==
      0);
  CHECK(run("openssl ec -noout -check -in " + d.ca.key_path).status == 0);
}

TEST_CASE("pki issue makes member certificates OpenSSL accepts", "[transport][pki]") {
  Domain d;
  const IssuedFiles probe =
      d.member(Role::kComponent, "Probe-1", {"127.0.0.1", "::1", "localhost"});
  CHECK(probe.identity == "org.mplane.Example.Components.Probe-1");
  CHECK(probe.subject == "DC=org, DC=mplane, O=Example, OU=Components, CN=Probe-1");
  CHECK(probe.key_path == d.dir / "component-Probe-1.key");
  CHECK(probe.cert_path == d.dir / "component-Probe-1.crt");
  CHECK(file_mode(probe.key_path) == 0600);

  const std::string verify = "openssl verify -x509_strict -CAfile " + d.ca.cert_path;
  CHECK(run(verify + " " + probe.cert_path).status == 0);
  CHECK(run(verify + " -purpose sslserver -verify_ip 127.0.0.1 " + probe.cert_path).status == 0);
  CHECK(run(verify + " -purpose sslserver -verify_hostname localhost " + probe.cert_path).status ==
        0);
  CHECK(run(verify + " -purpose sslclient " + probe.cert_path).status == 0);
  CHECK(run(verify + " -purpose sslserver -verify_ip 10.0.0.1 " + probe.cert_path).status != 0);

  const Run text = run("openssl x509 -noout -text -in " + probe.cert_path);
  REQUIRE(text.status == 0);
  CHECK_THAT(text.output, Catch::Contains("Subject: DC = org, DC = mplane, O = Example, OU = "
                                          "Components, CN = Probe-1"));
  CHECK_THAT(text.output, Catch::Contains("Signature Algorithm: ecdsa-with-SHA256"));
  CHECK_THAT(text.output,
             Catch::Contains("IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:localhost"));
  CHECK_THAT(text.output, Catch::Contains("TLS Web Server Authentication, TLS Web Client "
                                          "Authentication"));
  CHECK_THAT(text.output, Catch::Contains("CA:FALSE"));
  CHECK_THAT(text.output,
             Catch::Contains("Key Usage: critical\n                Digital Signature"));
  CHECK_THAT(text.output, Catch::Contains("Subject Key Identifier"));
  CHECK_THAT(text.output, Catch::Contains("Authority Key Identifier"));

  const Run serial = run("openssl x509 -noout -serial -in " + probe.cert_path);
  CHECK(serial.output.size() == std::string("serial=").size() + 32 + 1);  // 16 bytes, newline
}

TEST_CASE("pki identities follow §4.7 for every role", "[transport][pki]") {
  Domain d;
  CHECK(d.member(Role::kClient, "Client-1").identity == "org.mplane.Example.Clients.Client-1");
  CHECK(d.member(Role::kSupervisor, "Supervisor-1").identity ==
        "org.mplane.Example.Supervisors.Supervisor-1");
  const IssuedFiles probe = d.member(Role::kComponent, "Probe-1");

  auto from_file = certificate_identity(probe.cert_path);
  REQUIRE(from_file.ok());
  CHECK(*from_file == "org.mplane.Example.Components.Probe-1");

  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  REQUIRE(mbedtls_x509_crt_parse_file(&crt, probe.cert_path.c_str()) == 0);
  auto from_dn = identity_from_dn(&crt.subject);
  auto issuer = identity_from_dn(&crt.issuer);
  mbedtls_x509_crt_free(&crt);
  REQUIRE(from_dn.ok());
  CHECK(*from_dn == "org.mplane.Example.Components.Probe-1");
  REQUIRE(issuer.ok());
  CHECK(*issuer == "org.mplane.Example.Example CA");
}

TEST_CASE("mbedTLS verifies pki certificates for TLS use", "[transport][pki]") {
  Domain d;
  const IssuedFiles probe = d.member(Role::kComponent, "Probe-1", {"127.0.0.1", "probe.lab"});
  mbedtls_x509_crt ca;
  mbedtls_x509_crt leaf;
  mbedtls_x509_crt_init(&ca);
  mbedtls_x509_crt_init(&leaf);
  REQUIRE(mbedtls_x509_crt_parse_file(&ca, d.ca.cert_path.c_str()) == 0);
  REQUIRE(mbedtls_x509_crt_parse_file(&leaf, probe.cert_path.c_str()) == 0);
  std::uint32_t flags = 0;
  CHECK(mbedtls_x509_crt_verify(&leaf, &ca, nullptr, "probe.lab", &flags, nullptr, nullptr) == 0);
  CHECK(flags == 0);
  CHECK(mbedtls_x509_crt_verify(&leaf, &ca, nullptr, "other.lab", &flags, nullptr, nullptr) != 0);
  CHECK(mbedtls_x509_crt_check_key_usage(&leaf, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) == 0);
  CHECK(mbedtls_x509_crt_check_extended_key_usage(&leaf, MBEDTLS_OID_SERVER_AUTH,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)) == 0);
  CHECK(mbedtls_x509_crt_check_extended_key_usage(&leaf, MBEDTLS_OID_CLIENT_AUTH,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)) == 0);
  CHECK(mbedtls_x509_crt_check_key_usage(&ca, MBEDTLS_X509_KU_KEY_CERT_SIGN) == 0);
  mbedtls_x509_crt_free(&leaf);
  mbedtls_x509_crt_free(&ca);
}

TEST_CASE("pki options: domain, days and output prefix", "[transport][pki]") {
  TempDir dir;
  DomainOptions domain;
  domain.domain = "net.example.lab.SSB";
  auto ca = init_domain(dir / "ca", domain);
  REQUIRE(ca.ok());
  CHECK(ca->subject == "DC=net, DC=example, DC=lab, O=SSB, CN=SSB CA");

  IssueOptions options;
  options.role = Role::kClient;
  options.name = "Client-1";
  options.days = 1;
  options.out_prefix = dir / "c1";
  auto client = issue(dir / "ca", options);
  REQUIRE(client.ok());
  CHECK(client->identity == "net.example.lab.SSB.Clients.Client-1");
  CHECK(client->cert_path == dir / "c1.crt");
  CHECK(run("openssl verify -CAfile " + ca->cert_path + " " + client->cert_path).status == 0);
  CHECK(run("openssl x509 -noout -checkend 3600 -in " + client->cert_path).status == 0);
  CHECK(run("openssl x509 -noout -checkend 172800 -in " + client->cert_path).status == 1);
  // Backdated by an hour for peers whose clocks lag.
  CHECK(run("openssl x509 -noout -checkend 0 -in " + ca->cert_path).status == 0);
}

TEST_CASE("pki refuses to overwrite", "[transport][pki]") {
  Domain d;
  const std::string ca_text = read_text(d.ca.cert_path);
  auto again = init_domain(d.dir.str(), DomainOptions{});
  REQUIRE_FALSE(again.ok());
  CHECK_THAT(again.error(), Catch::Contains("ca.key: already exists; refusing to overwrite"));
  CHECK(read_text(d.ca.cert_path) == ca_text);

  const IssuedFiles probe = d.member(Role::kComponent, "Probe-1");
  const std::string probe_text = read_text(probe.cert_path);
  IssueOptions options;
  options.name = "Probe-1";
  auto twice = issue(d.dir.str(), options);
  REQUIRE_FALSE(twice.ok());
  CHECK_THAT(twice.error(), Catch::Contains("component-Probe-1.key: already exists"));
  CHECK(read_text(probe.cert_path) == probe_text);
}

TEST_CASE("pki rejects bad input", "[transport][pki]") {
  CHECK(parse_role("component").ok());
  CHECK(parse_role("supervisor").ok());
  auto role = parse_role("probe");
  REQUIRE_FALSE(role.ok());
  CHECK_THAT(role.error(), Catch::Contains("unknown role 'probe'"));
  CHECK_FALSE(parse_role("Component").ok());

  TempDir dir;
  for (const char* domain : {"", "org..x", "org.m plane", "org.mplane.", "a,b"}) {
    DomainOptions options;
    options.domain = domain;
    INFO(domain);
    CHECK_FALSE(init_domain(dir / "bad", options).ok());
  }
  CHECK_FALSE(fs::exists(dir / "bad/ca.key"));
  DomainOptions zero_days;
  zero_days.days = 0;
  CHECK_FALSE(init_domain(dir / "bad", zero_days).ok());

  IssueOptions options;
  options.name = "Probe-1";
  auto no_ca = issue(dir / "nowhere", options);
  REQUIRE_FALSE(no_ca.ok());
  CHECK_THAT(no_ca.error(), Catch::Contains("ca.crt"));

  REQUIRE(init_domain(dir.str(), DomainOptions{}).ok());
  for (const char* name : {"", "Probe.1", "Probe,1", "Probe 1", "a/b"}) {
    options.name = name;
    INFO(name);
    CHECK_FALSE(issue(dir.str(), options).ok());
  }
  options.name = "Probe-1";
  for (const char* san : {"", "-bad.example", "a..b", "fe80::1%eth0", "[::1]", "a b"}) {
    options.sans = {san};
    INFO(san);
    CHECK_FALSE(issue(dir.str(), options).ok());
  }
  CHECK_FALSE(fs::exists(dir / "component-Probe-1.key"));
}

TEST_CASE("pki issue signs with a CA made by OpenSSL", "[transport][pki][interop]") {
  TempDir dir;
  // The RI's layout: DC=org, DC=mplane, O=SSB; OpenSSL encodes with its own string types.
  const Run made =
      run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -days 30"
          " -subj /DC=org/DC=mplane/O=SSB/CN=SSB-CA"
          " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign"
          " -keyout " +
          (dir / "ca.key") + " -out " + (dir / "ca.crt"));
  INFO(made.output);
  REQUIRE(made.status == 0);
  IssueOptions options;
  options.role = Role::kClient;
  options.name = "Client-1";
  auto client = issue(dir.str(), options);
  INFO((client ? std::string() : client.error()));
  REQUIRE(client.ok());
  CHECK(client->identity == "org.mplane.SSB.Clients.Client-1");
  CHECK(run("openssl verify -x509_strict -purpose sslclient -CAfile " + (dir / "ca.crt") + " " +
            client->cert_path)
            .status == 0);

  // The RI's sample files carry a text dump before the PEM block.
  const std::string dumped = dir / "dumped.crt";
  REQUIRE(run("openssl x509 -text -in " + client->cert_path + " -out " + dumped).status == 0);
  auto identity = certificate_identity(dumped);
  REQUIRE(identity.ok());
  CHECK(*identity == "org.mplane.SSB.Clients.Client-1");
}

TEST_CASE("OpenSSL peers complete a mutual TLS handshake with pki certificates",
          "[transport][pki][net]") {
  Domain d;
  const IssuedFiles server = d.member(Role::kComponent, "Probe-1", {"127.0.0.1"});
  const IssuedFiles client = d.member(Role::kClient, "Client-1");
  // Port 0: the server prints "ACCEPT 127.0.0.1:PORT". It answers one HTTP GET (-www, which
  // does not read stdin) and exits.
  const std::string server_cmd = "timeout 30 openssl s_server -www -naccept 1 -accept 127.0.0.1:0" +
                                 (" -cert " + server.cert_path) + " -key " + server.key_path +
                                 " -CAfile " + d.ca.cert_path +
                                 " -Verify 1 -verify_return_error 2>&1";
  FILE* srv = ::popen(server_cmd.c_str(), "r");
  REQUIRE(srv != nullptr);
  std::string port;
  char line[512];
  while (port.empty() && std::fgets(line, sizeof line, srv) != nullptr) {
    std::string l = line;
    if (!l.empty() && l.back() == '\n') l.pop_back();
    if (l.rfind("ACCEPT ", 0) == 0) port = l.substr(l.rfind(':') + 1);
  }
  REQUIRE_FALSE(port.empty());
  // -ign_eof: keep reading until the server closes after its response.
  const Run cli =
      run("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 30 openssl s_client"
          " -ign_eof -connect 127.0.0.1:" +
          port + " -cert " + client.cert_path + " -key " + client.key_path + " -CAfile " +
          d.ca.cert_path + " -verify_return_error -verify_ip 127.0.0.1");
  std::string server_out;
  while (std::fgets(line, sizeof line, srv) != nullptr) server_out += line;
  const int server_status = ::pclose(srv);
  INFO(cli.output);
  INFO(server_out);
  CHECK(cli.status == 0);
  CHECK_THAT(cli.output, Catch::Contains("Verify return code: 0 (ok)"));
  CHECK_THAT(cli.output, Catch::Contains("HTTP/1.0 200 ok"));
  CHECK_THAT(server_out, Catch::Contains("OU = Clients, CN = Client-1"));
  CHECK(WIFEXITED(server_status));
  CHECK(WEXITSTATUS(server_status) == 0);
}

// ---------------------------------------------------------------------------------------------
// identity_from_dn on hand-built names

struct Attr {
  int tag;
  std::string value;
  bool merged_with_next = false;
};

// Builds a mbedtls_x509_name list (all attributes typed CN; §4.7 ignores types). The list
// points into `attrs`: keep it alive.
std::vector<mbedtls_x509_name> make_name(const std::vector<Attr>& attrs) {
  std::vector<mbedtls_x509_name> nodes(attrs.size());
  for (std::size_t i = 0; i < attrs.size(); ++i) {
    mbedtls_x509_name& n = nodes[i];
    n.oid.tag = MBEDTLS_ASN1_OID;
    n.oid.p = reinterpret_cast<unsigned char*>(const_cast<char*>(MBEDTLS_OID_AT_CN));
    n.oid.len = MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN);
    n.val.tag = attrs[i].tag;
    n.val.p = reinterpret_cast<unsigned char*>(const_cast<char*>(attrs[i].value.data()));
    n.val.len = attrs[i].value.size();
    n.next = i + 1 < attrs.size() ? &nodes[i + 1] : nullptr;
    n.next_merged = attrs[i].merged_with_next ? 1 : 0;
  }
  return nodes;
}

TEST_CASE("identity_from_dn joins the first value of each RDN", "[transport][pki]") {
  const std::vector<Attr> attrs = {
      {MBEDTLS_ASN1_IA5_STRING, "org"},
      {MBEDTLS_ASN1_PRINTABLE_STRING, "mplane"},
      {MBEDTLS_ASN1_UTF8_STRING, "SSB"},
      {MBEDTLS_ASN1_UTF8_STRING, "Clients", true},  // OU=Clients+UID=x: one RDN
      {MBEDTLS_ASN1_UTF8_STRING, "x"},
      {MBEDTLS_ASN1_BMP_STRING, std::string("\0C\0l\0i\0-\x00\xe9", 10)},
  };
  auto name = make_name(attrs);
  auto id = identity_from_dn(name.data());
  REQUIRE(id.ok());
  CHECK(*id == "org.mplane.SSB.Clients.Cli-\xc3\xa9");
}

TEST_CASE("identity_from_dn converts string types to UTF-8", "[transport][pki]") {
  auto [tag, value, expected] = GENERATE(table<int, std::string, std::string>({
      {MBEDTLS_ASN1_UTF8_STRING, "Kl\xc3\xa4ger", "Kl\xc3\xa4ger"},
      {MBEDTLS_ASN1_T61_STRING, "Kl\xe4ger", "Kl\xc3\xa4ger"},
      {MBEDTLS_ASN1_BMP_STRING, std::string("\x20\xac", 2), "\xe2\x82\xac"},
      {MBEDTLS_ASN1_UNIVERSAL_STRING, std::string("\0\x01\xf6\x00", 4), "\xf0\x9f\x98\x80"},
      {0x12, "0123", "0123"},
      {0x1A, "Visible", "Visible"},
      {MBEDTLS_ASN1_UTF8_STRING, "", ""},
  }));
  const std::vector<Attr> attrs = {{tag, value}};
  auto name = make_name(attrs);  // points into attrs
  auto id = identity_from_dn(name.data());
  REQUIRE(id.ok());
  CHECK(*id == expected);
}

TEST_CASE("identity_from_dn rejects what it cannot convert", "[transport][pki]") {
  auto [tag, value] = GENERATE(table<int, std::string>({
      {MBEDTLS_ASN1_UTF8_STRING, "\xc3"},               // truncated sequence
      {MBEDTLS_ASN1_UTF8_STRING, "\xc0\xaf"},           // overlong
      {MBEDTLS_ASN1_UTF8_STRING, "\xed\xa0\x80"},       // surrogate
      {MBEDTLS_ASN1_PRINTABLE_STRING, "caf\xe9"},       // not ASCII
      {MBEDTLS_ASN1_BMP_STRING, std::string("\0", 1)},  // odd length
      {MBEDTLS_ASN1_BMP_STRING, std::string("\xd8\x00", 2)},
      {MBEDTLS_ASN1_OCTET_STRING, "x"},
  }));
  const std::vector<Attr> attrs = {{MBEDTLS_ASN1_UTF8_STRING, "org"}, {tag, value}};
  auto name = make_name(attrs);  // points into attrs
  auto id = identity_from_dn(name.data());
  REQUIRE_FALSE(id.ok());
  CHECK_THAT(id.error(), Catch::Contains("subject RDN 2 (CN)"));

  mbedtls_x509_name empty{};
  CHECK_FALSE(identity_from_dn(&empty).ok());
  CHECK_FALSE(identity_from_dn(nullptr).ok());
}

TEST_CASE("certificate_identity reports unreadable files", "[transport][pki]") {
  TempDir dir;
  auto missing = certificate_identity(dir / "missing.crt");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error(), Catch::Contains("missing.crt"));
  std::ofstream(dir / "junk.crt") << "not a certificate\n";
  CHECK_FALSE(certificate_identity(dir / "junk.crt").ok());
}

}  // namespace
}  // namespace mplane::transport::pki
