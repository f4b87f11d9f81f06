// What the interoperability tests with the Python RI share (tests/interop/*_test.cc): where the
// RI is, its test PKI, scratch directories, running its programs and ours with bounded waits.
// Header-only; every test that uses the RI skips without it (MPLANE_REQUIRE_PEER) and runs under
// the RESOURCE_LOCK ri_peer (tests/CMakeLists.txt).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/net_support.h"
#include "tests/process_support.h"
#include "tests/skip_support.h"
#include "tests/test_support.h"
#include "transport/http/http_client.h"
#include "transport/tls/tls_context.h"

namespace mplane::interop {

namespace fs = std::filesystem;

inline constexpr int kListenMs = 30'000;   // a peer listens within this after its start
inline constexpr int kCommandMs = 90'000;  // a client command ends within this

// The RI's own capability token for test-loopback, which ours equals (the same registry).
inline constexpr const char* kLoopbackToken = "1eb3b3c09578b8f741ca644ef30e012c";
inline constexpr const char* kNoPermission = "User has no permission to request this capability";

// A specification of test-loopback as any client would send it, without a token.
inline constexpr const char* kLoopbackSpec = R"({"specification": "measure", "version": 1,
  "label": "test-loopback-0", "registry": "http://mplane.corvid.ch/registry/loopback",
  "when": "now", "parameters": {"test.input": "hi"}, "results": ["test.output"]})";

inline fs::path ri_dir() { return test::shared_dir() / "peers" / "ri"; }
inline std::string pki(const std::string& file) { return (ri_dir() / "pki" / file).string(); }

// The RI's test identities (pki/): Client-SSB is org.mplane.SSB.Clients.Client-1, Client2 is
// org.mplane.SSB.Clients.Client-2 (certified by the domain CA, no role anywhere).
inline std::vector<std::string> tls_files(const std::string& identity) {
  return {"--ca",   pki("root-ca.crt"),
          "--cert", pki(identity + ".crt"),
          "--key",  pki(identity + "-plaintext.key")};
}

// One test case's directory: process outputs, configuration, the RI's temporary files (ri-run.py
// writes its filled-in configuration there and never removes it). Removed with the object:
// declare it before the processes.
struct ScratchDir {
  std::string file(const std::string& name) const { return temp.sub(name); }
  // A unique output name for the next command.
  std::string next_output(const std::string& what) { return file(what + std::to_string(++runs)); }

  test::TempDir temp{"mplane_interop"};
  fs::path path = temp.path();
  int runs = 0;
};

// The RI's programs with TMPDIR in the scratch directory.
inline test::Program ri_program(const ScratchDir& dir, const std::string& script) {
  return {(ri_dir() / script).string(), {"TMPDIR=" + dir.path.string()}};
}

// Whether 127.0.0.1:port accepts a TCP connection within `timeout_ms` while `p` runs.
inline bool wait_for_port(std::uint16_t port, test::Process& p, int timeout_ms = kListenMs) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline && p.running()) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool up = ::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (up) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

struct Ran {
  int status;  // test::Process::kTimedOut if it had to be killed
  std::string out, err;
};

// Runs a program to its end (killed after kCommandMs).
inline Ran run(test::Process&& p) {
  const int status = p.wait_for(kCommandMs);
  return {status, p.out(), p.err()};
}

// `mplane ARGS...`
inline Ran mplane(ScratchDir& dir, std::vector<std::string> args) {
  return run(test::Process(std::move(args), dir.next_output("mplane")));
}

// `ri-client.py URL [--cert IDENTITY] ARGS...`
inline Ran ri_client(ScratchDir& dir, const std::string& url, const std::string& identity,
                     std::vector<std::string> args) {
  std::vector<std::string> all = {url};
  if (!identity.empty()) all.insert(all.end(), {"--cert", identity});
  all.insert(all.end(), args.begin(), args.end());
  return run(test::Process(ri_program(dir, "ri-client.py"), all, dir.next_output("ri-client")));
}

// POSTs kLoopbackSpec over mutual TLS as `identity` (our transport, in process); the response
// body.
inline std::string post_loopback_spec(std::uint16_t port, const std::string& identity) {
  transport::TlsOptions o;
  o.role = transport::TlsRole::kClient;
  o.ca_file = pki("root-ca.crt");
  o.cert_file = pki(identity + ".crt");
  o.key_file = pki(identity + "-plaintext.key");
  auto tls = transport::TlsContext::create(o);
  if (!tls) FAIL(tls.error());
  transport::HttpClient client("127.0.0.1", port, tls->get());
  auto r = client.request("POST", "/", "application/x-mplane+json", kLoopbackSpec, 30'000);
  if (!r) FAIL(r.error());
  return r->body;
}

// The single result row of a test-loopback result printed as mPlane JSON: its test.output.
inline std::string loopback_output(const std::string& json) {
  auto m = test::parse(json);
  if (!m) FAIL(m.error().describe(json));
  const model::Message& msg = (*m)->message;
  REQUIRE(msg.kind == model::MessageKind::kResult);
  CHECK(msg.label == "test-loopback-0");
  REQUIRE(msg.columns.size() == 1);
  REQUIRE(msg.columns[0].values.size() == 1);
  return std::string(msg.columns[0].values[0].as_string());
}

// The RI's client-initiated component (`ri-run.py mpcom CONF PORT=…`), stopped with the object.
struct RiComponent {
  RiComponent(ScratchDir& dir, const std::string& conf)
      : port(test::free_loopback_port()),
        process(ri_program(dir, "ri-run.py"), {"mpcom", conf, "PORT=" + std::to_string(port)},
                dir.file("ri-component")) {
    if (!wait_for_port(port, process)) {
      FAIL("the RI component (" << conf << ") is not listening on " << port << ":\n"
                                << process.out() << process.err());
    }
  }
  std::uint16_t port;
  test::Process process;
};

// `mplane client --url URL` with the TLS files of `identity` (none: plain HTTP), then `tail`.
inline std::vector<std::string> our_client(const std::string& url, const std::string& identity,
                                           std::initializer_list<const char*> tail) {
  std::vector<std::string> args = {"client", "--url", url};
  if (identity.empty()) {
    args.push_back("--insecure");
  } else {
    for (const std::string& a : tls_files(identity)) args.push_back(a);
  }
  args.insert(args.end(), tail.begin(), tail.end());
  return args;
}

}  // namespace mplane::interop
