// The public-key infrastructure of an mPlane domain (PROTOCOL.md §4.1, §4.7), with mbedTLS 2.28.
//
// A domain is a directory holding one CA: `ca.key` (PEM, SEC1 EC key, mode 0600) and `ca.crt`
// (PEM). Every member of the domain gets an ECDSA P-256 key and a certificate signed by that CA.
//
// Distinguished-name convention. The domain name is split on '.'; every label but the last is a
// domainComponent, the last is the organisation. The CA adds CN "<organisation> CA"; a member
// adds OU "<Role>s" and CN <name>. For the domain `org.mplane.Example`:
//
//   CA          DC=org, DC=mplane, O=Example, CN=Example CA
//   component   DC=org, DC=mplane, O=Example, OU=Components, CN=Probe-1
//               -> identity org.mplane.Example.Components.Probe-1
//   client      ...  OU=Clients, CN=<name>;  supervisor  ...  OU=Supervisors, CN=<name>
//
// which is the layout of the RI's test certificates (org.mplane.SSB.Clients.Client-1). RDNs are
// written in this order (the DER order, which is the order §4.7 joins). Members' subjects are
// derived from the CA's subject (every RDN but a final CN), so a domain's name lives only in
// ca.crt. DC values are IA5String, the others UTF8String.
//
// Labels, organisation and member names: 1-64 characters of [A-Za-z0-9_-]. The '.' is refused
// because it would make the dotted identity ambiguous.
//
// Certificates: X.509 v3, ecdsa-with-SHA256, random positive 16-byte serial, valid from
// now - 1 h to now + days. CA: basicConstraints CA:TRUE pathlen:0 (critical), keyUsage
// keyCertSign+cRLSign (critical), subject and authority key identifiers. Member:
// basicConstraints CA:FALSE, keyUsage digitalSignature (critical), extendedKeyUsage
// serverAuth+clientAuth (every member may be TLS server or client, §4.1), subjectAltName
// (given names only), subject and authority key identifiers.
//
// All functions are synchronous, block on file I/O and the entropy source, and are meant for
// the command line and start-up, not for a loop callback. They are thread-compatible (no
// shared state). Errors are one readable line naming the file and, where mbedTLS failed, its
// error text.
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include <mbedtls/x509.h>

#include "parsers/base/result.h"

namespace mplane::transport::pki {

enum class Role : unsigned char { kComponent, kClient, kSupervisor };

// "component" | "client" | "supervisor" (exactly, lower case) -> Role; anything else fails.
Result<Role> parse_role(std::string_view text);
// "component", "client", "supervisor".
std::string_view role_name(Role role);
// The OU of a member certificate: "Components", "Clients", "Supervisors".
std::string_view role_unit(Role role);

constexpr std::string_view kDefaultDomain = "org.mplane.Example";
constexpr int kDefaultCaDays = 3650;
constexpr int kDefaultLeafDays = 825;
constexpr int kMaxDays = 36500;
constexpr std::string_view kCaKeyFile = "ca.key";
constexpr std::string_view kCaCertFile = "ca.crt";

// What init_domain and issue wrote.
struct IssuedFiles {
  std::string subject;   // "DC=org, DC=mplane, O=Example, OU=Components, CN=Probe-1"
  std::string identity;  // "org.mplane.Example.Components.Probe-1" (§4.7)
  std::string key_path;
  std::string cert_path;
};

struct DomainOptions {
  std::string domain{kDefaultDomain};
  int days = kDefaultCaDays;  // 1..kMaxDays
  std::time_t now = 0;        // issue time; 0 means the current time
};

// Creates the domain CA in `dir` (created, with parents, if missing): DIR/ca.key and
// DIR/ca.crt. Fails, touching nothing, if either file already exists, if the domain name or
// `days` is invalid; fails if a file cannot be written (files it created are then removed).
Result<IssuedFiles> init_domain(const std::string& dir, const DomainOptions& options);

struct IssueOptions {
  Role role = Role::kComponent;
  std::string name;               // the CN
  std::vector<std::string> sans;  // IPv4/IPv6 literals -> iPAddress, others -> dNSName
  int days = kDefaultLeafDays;    // 1..kMaxDays
  std::string out_prefix;         // writes PREFIX.key, PREFIX.crt; empty: DIR/<role>-<name>
  std::time_t now = 0;            // issue time; 0 means the current time
};

// Issues a member key and certificate signed by the CA in `dir`. Fails, writing nothing, if
// the CA cannot be read, its key does not match its certificate, it is not a CA, the name,
// a SAN or `days` is invalid, or PREFIX.key or PREFIX.crt already exists.
Result<IssuedFiles> issue(const std::string& dir, const IssueOptions& options);

// The peer identity of §4.7: the values of the RDNs of `subject` in encoding order joined
// with '.', the first value of a multi-valued RDN. Values are converted to UTF-8 (UTF8String,
// PrintableString, IA5String, VisibleString, NumericString as they are; TeletexString as
// Latin-1; BMPString; UniversalString). Fails on an empty name or another string type.
// `subject` is a parsed name, e.g. &crt->subject; it is only read.
Result<std::string> identity_from_dn(const mbedtls_x509_name* subject);

// Parses a PEM (or DER) certificate file and returns the identity_from_dn of its first
// certificate. Text before a PEM block (as in the RI's sample files) is skipped. Fails if the
// file cannot be read or any certificate in it does not parse.
Result<std::string> certificate_identity(const std::string& pem_path);

}  // namespace mplane::transport::pki
