// An mPlane domain made by `mplane pki` (the library) in a temporary directory, with a
// component certificate for 127.0.0.1 and a client certificate; and TLS contexts from them.
#pragma once

#include <unistd.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "transport/pki/pki.h"
#include "transport/tls/tls_context.h"

namespace mplane::test {

struct TlsDomain {
  explicit TlsDomain(const std::string& name) {
    namespace fs = std::filesystem;
    dir =
        (fs::temp_directory_path() / ("mplane_tls_test_" + name + "_" + std::to_string(::getpid())))
            .string();
    fs::remove_all(dir);
    transport::pki::DomainOptions d;
    d.domain = "org.mplane." + name;
    REQUIRE(transport::pki::init_domain(dir, d).ok());
    transport::pki::IssueOptions comp;
    comp.role = transport::pki::Role::kComponent;
    comp.name = "Probe-1";
    comp.sans = {"127.0.0.1"};
    component = transport::pki::issue(dir, comp).value();
    transport::pki::IssueOptions cli;
    cli.role = transport::pki::Role::kClient;
    cli.name = "Client-1";
    client = transport::pki::issue(dir, cli).value();
  }
  ~TlsDomain() { std::filesystem::remove_all(dir); }
  TlsDomain(const TlsDomain&) = delete;
  TlsDomain& operator=(const TlsDomain&) = delete;
  std::string ca() const { return dir + "/ca.crt"; }
  // A supervisor's certificate for 127.0.0.1, issued in this domain.
  transport::pki::IssuedFiles issue_supervisor(const std::string& name) const {
    transport::pki::IssueOptions o;
    o.role = transport::pki::Role::kSupervisor;
    o.name = name;
    o.sans = {"127.0.0.1"};
    return transport::pki::issue(dir, o).value();
  }
  // `--ca`, `--cert`, `--key` for an `mplane` command with `who`'s identity.
  std::vector<std::string> tls_args(const transport::pki::IssuedFiles& who) const {
    return {"--ca", ca(), "--cert", who.cert_path, "--key", who.key_path};
  }
  std::string dir;
  transport::pki::IssuedFiles component, client;
};

inline std::unique_ptr<transport::TlsContext> tls_context(transport::TlsRole role,
                                                          const std::string& ca,
                                                          const transport::pki::IssuedFiles* own) {
  transport::TlsOptions o;
  o.role = role;
  o.ca_file = ca;
  if (own) {
    o.cert_file = own->cert_path;
    o.key_file = own->key_path;
  }
  auto ctx = transport::TlsContext::create(o);
  if (!ctx) FAIL(ctx.error());
  return std::move(ctx.value());
}

}  // namespace mplane::test
