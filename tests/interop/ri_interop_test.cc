// Interoperability with a real, independent mPlane implementation: the Python reference
// implementation (RI), run as a test peer from shared/peers/ri beside the repository (its
// README.md). Our client against the RI's component, over plain HTTP and over mutual TLS with the
// RI's demo PKI; the RI's client against our component over mutual TLS, with roles and
// authorisations for two client identities.
//
// Every peer is a process on a free port, stopped when the test case ends; every wait is bounded.
// Where shared/peers/ri is absent the test cases skip (one line), or fail under
// MPLANE_REQUIRE_PEERS=1 (tests/skip_support.h). They run one at a time (RESOURCE_LOCK ri_peer in
// tests/CMakeLists.txt): each starts a Python interpreter or two, which on a loaded machine is
// slow enough without a neighbour.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
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

namespace mplane {
namespace {

namespace fs = std::filesystem;

constexpr int kListenMs = 30'000;   // a peer listens within this after its start
constexpr int kCommandMs = 90'000;  // a client command ends within this

// The RI's own capability token for test-loopback, which ours equals (the same registry).
constexpr const char* kLoopbackToken = "1eb3b3c09578b8f741ca644ef30e012c";
constexpr const char* kNoPermission = "User has no permission to request this capability";

// A specification of test-loopback as any client would send it, without a token.
constexpr const char* kLoopbackSpec = R"({"specification": "measure", "version": 1,
  "label": "test-loopback-0", "registry": "http://mplane.corvid.ch/registry/loopback",
  "when": "now", "parameters": {"test.input": "hi"}, "results": ["test.output"]})";

fs::path ri_dir() { return test::shared_dir() / "peers" / "ri"; }
std::string pki(const std::string& file) { return (ri_dir() / "pki" / file).string(); }

// The RI's test identities (pki/): Client-SSB is org.mplane.SSB.Clients.Client-1, Client2 is
// org.mplane.SSB.Clients.Client-2 (certified by the domain CA, no role anywhere).
std::vector<std::string> tls_files(const std::string& identity) {
  return {"--ca",   pki("root-ca.crt"),
          "--cert", pki(identity + ".crt"),
          "--key",  pki(identity + "-plaintext.key")};
}

// One test case's directory: process outputs, configuration, the RI's temporary files (ri-run.py
// writes its filled-in configuration there and never removes it). Removed with the object:
// declare it before the processes.
struct ScratchDir {
  ScratchDir() {
    std::string name = (fs::temp_directory_path() / "mplane_interop_XXXXXX").string();
    REQUIRE(::mkdtemp(name.data()) != nullptr);
    path = name;
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
  // A unique output name for the next command.
  std::string next_output(const std::string& what) { return file(what + std::to_string(++runs)); }

  fs::path path;
  int runs = 0;
};

// The RI's programs with TMPDIR in the scratch directory.
test::Program ri_program(const ScratchDir& dir, const std::string& script) {
  return {(ri_dir() / script).string(), {"TMPDIR=" + dir.path.string()}};
}

// Whether 127.0.0.1:port accepts a TCP connection within `timeout_ms` while `p` runs.
bool wait_for_port(std::uint16_t port, test::Process& p, int timeout_ms = kListenMs) {
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
Ran run(test::Process&& p) {
  const int status = p.wait_for(kCommandMs);
  return {status, p.out(), p.err()};
}

// `mplane ARGS...`
Ran mplane(ScratchDir& dir, std::vector<std::string> args) {
  return run(test::Process(std::move(args), dir.next_output("mplane")));
}

// `ri-client.py URL [--cert IDENTITY] ARGS...`
Ran ri_client(ScratchDir& dir, const std::string& url, const std::string& identity,
              std::vector<std::string> args) {
  std::vector<std::string> all = {url};
  if (!identity.empty()) all.insert(all.end(), {"--cert", identity});
  all.insert(all.end(), args.begin(), args.end());
  return run(test::Process(ri_program(dir, "ri-client.py"), all, dir.next_output("ri-client")));
}

// POSTs kLoopbackSpec over mutual TLS as `identity` (our transport, in process); the response
// body.
std::string post_loopback_spec(std::uint16_t port, const std::string& identity) {
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
std::string loopback_output(const std::string& json) {
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

// Our component over mutual TLS with the RI's PKI (identity Component-1) and its loopback
// service: Client-1 holds the role guest, which may use test-loopback; Client-2 holds no role.
struct OurComponent {
  explicit OurComponent(ScratchDir& dir) : port(test::free_loopback_port()) {
    const std::string config = dir.file("component.conf");
    std::ofstream(config) << "[component]\n"
                          << "workflow = client-initiated\n"
                          << "listen-host = 127.0.0.1\n"
                          << "listen-port = " << port << "\n"
                          << "listen-cap-link = " << url() << "\n"
                          << "[TLS]\n"
                          << "cert = " << pki("Component-SSB.crt") << "\n"
                          << "key = " << pki("Component-SSB-plaintext.key") << "\n"
                          << "ca-chain = " << pki("root-ca.crt") << "\n"
                          << "[Roles]\n"
                          << "org.mplane.SSB.Clients.Client-1 = guest\n"
                          << "[Authorizations]\n"
                          << "test-loopback = guest\n";
    process.emplace(std::vector<std::string>{"component", "--config", config, "--service",
                                             "loopback", "--shards", "1"},
                    dir.file("component"));
    if (!wait_for_port(port, *process)) {
      FAIL("our component is not listening on " << port << ":\n" << process->err());
    }
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port) + "/"; }
  std::uint16_t port;
  std::optional<test::Process> process;
};

// `mplane client --url URL` with the TLS files of `identity` (none: plain HTTP), then `tail`.
std::vector<std::string> our_client(const std::string& url, const std::string& identity,
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

TEST_CASE("RI interop: our client against the RI component over plain HTTP", "[interop][ri]") {
  MPLANE_REQUIRE_PEER(ri_dir() / "ri-run.py");
  ScratchDir dir;
  RiComponent ri(dir, "component-ci.conf");
  const std::string url = "http://127.0.0.1:" + std::to_string(ri.port) + "/";
  {
    // The RI serves an HTML index page linking to each capability: our client follows them.
    const Ran caps = mplane(dir, our_client(url, "", {"caps"}));
    INFO(caps.err);
    REQUIRE(caps.status == 0);
    CHECK_THAT(caps.out, Catch::Contains(std::string("test-loopback  token ") + kLoopbackToken) &&
                             Catch::Contains("ping-average-ip4"));
  }
  {
    // The RI polls its job for up to 5 s, then answers the result or a receipt, which our
    // client redeems.
    const Ran r = mplane(
        dir, our_client(url, "", {"run", "test-loopback", "--param", "test.input=hi", "--json"}));
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(loopback_output(r.out) == "hi");
  }
}

TEST_CASE("RI interop: our client against the RI component over mutual TLS", "[interop][ri][tls]") {
  MPLANE_REQUIRE_PEER(ri_dir() / "ri-run.py");
  ScratchDir dir;
  RiComponent ri(dir, "component-ci-tls.conf");
  const std::string url = "https://127.0.0.1:" + std::to_string(ri.port) + "/";
  // Client-1 (role guest). The RI's .crt files begin with OpenSSL's text dump before the PEM.
  {
    const Ran caps = mplane(dir, our_client(url, "Client-SSB", {"caps"}));
    INFO(caps.err);
    REQUIRE(caps.status == 0);
    CHECK_THAT(caps.out, Catch::Contains(std::string("test-loopback  token ") + kLoopbackToken));
  }
  {
    const Ran r =
        mplane(dir, our_client(url, "Client-SSB",
                               {"run", "test-loopback", "--param", "test.input=hi", "--json"}));
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(loopback_output(r.out) == "hi");
  }
  // Client-2 (no role): the RI shows it no capability, and refuses the specification with the
  // text our component must give too (test case "… refuses test-loopback to Client-2").
  {
    const Ran none = mplane(dir, our_client(url, "Client2", {"caps"}));
    INFO(none.out << none.err);
    CHECK(none.status == 1);
    CHECK_THAT(none.err, Catch::Contains("no capabilities"));
  }
  CHECK_THAT(post_loopback_spec(ri.port, "Client2"), Catch::Contains(kNoPermission));
}

TEST_CASE("RI interop: the RI client against our component over mutual TLS", "[interop][ri][tls]") {
  MPLANE_REQUIRE_PEER(ri_dir() / "ri-client.py");
  ScratchDir dir;
  OurComponent ours(dir);
  {
    const Ran caps = ri_client(dir, ours.url(), "", {"caps"});
    INFO(caps.err);
    REQUIRE(caps.status == 0);
    CHECK(caps.out == "test-loopback\n");
  }
  {
    const Ran r = ri_client(dir, ours.url(), "", {"run", "test-loopback", "test.input=hi"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(loopback_output(r.out) == "hi");
  }
}

// Access control (PROTOCOL.md §4.7): a certified client without a role neither sees nor may run
// test-loopback, as the RI's own component behaves (test case "… the RI component over mutual
// TLS").
TEST_CASE("RI interop: our component refuses test-loopback to Client-2 (no role)",
          "[interop][ri][tls][access]") {
  MPLANE_REQUIRE_PEER(ri_dir() / "ri-client.py");
  ScratchDir dir;
  OurComponent ours(dir);
  {
    const Ran allowed = ri_client(dir, ours.url(), "", {"caps"});
    INFO(allowed.err);
    CHECK(allowed.status == 0);
    CHECK(allowed.out == "test-loopback\n");
  }
  {
    const Ran caps = ri_client(dir, ours.url(), "Client2", {"caps"});
    INFO(caps.err);
    CHECK_THAT(caps.out, !Catch::Contains("test-loopback"));
  }
  {
    // The RI client only runs what it was shown: no result.
    const Ran r = ri_client(dir, ours.url(), "Client2", {"run", "test-loopback", "test.input=hi"});
    INFO(r.err);
    CHECK(r.status != 0);
    CHECK_THAT(r.out, !Catch::Contains("resultvalues"));
  }
  // A specification sent anyway is refused with the RI's exception text; Client-1's is run.
  CHECK_THAT(post_loopback_spec(ours.port, "Client2"), Catch::Contains(kNoPermission));
  CHECK_THAT(post_loopback_spec(ours.port, "Client-SSB"), Catch::Contains("\"resultvalues\""));
}

// Our component-initiated component (`mplane component --supervisor`, as Component-1 of the RI's
// PKI) behind the RI's supervisor (mpsup, mutual TLS as Supervisor-1), driven by the RI's client
// on the supervisor's client face: the capability our component registered is listed there, and
// a specification relayed through the supervisor comes back with our result.
TEST_CASE("RI interop: our component-initiated component behind the RI supervisor",
          "[interop][ri][tls][initiator]") {
  MPLANE_REQUIRE_PEER(ri_dir() / "ri-run.py");
  ScratchDir dir;
  const std::uint16_t component_face = test::free_loopback_port();
  std::uint16_t client_face = test::free_loopback_port();
  while (client_face == component_face) client_face = test::free_loopback_port();
  test::Process supervisor(ri_program(dir, "ri-run.py"),
                           {"mpsup", "supervisor-tls.conf",
                            "COMPONENT_FACE_PORT=" + std::to_string(component_face),
                            "CLIENT_FACE_PORT=" + std::to_string(client_face)},
                           dir.file("ri-supervisor"));
  if (!wait_for_port(component_face, supervisor) || !wait_for_port(client_face, supervisor)) {
    FAIL("the RI supervisor is not listening:\n" << supervisor.out() << supervisor.err());
  }
  std::vector<std::string> args = {
      "component", "--supervisor", "https://127.0.0.1:" + std::to_string(component_face),
      "--service", "loopback",     "--shards",
      "1",         "--spool",      dir.file("spool"),
      "--poll-interval", "1"};
  for (const std::string& a : tls_files("Component-SSB")) args.push_back(a);
  test::Process ours(args, dir.file("component"));
  const std::string url = "https://127.0.0.1:" + std::to_string(client_face) + "/";
  bool listed = false;  // registration takes a moment: ask again, a bounded number of times
  for (int attempt = 0; attempt < 20 && !listed; ++attempt) {
    const Ran caps = ri_client(dir, url, "", {"caps"});
    listed = caps.status == 0 && caps.out == "test-loopback\n";
    if (!listed) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  INFO(ours.err() << supervisor.out() << supervisor.err());
  REQUIRE(listed);
  const Ran r = ri_client(dir, url, "", {"run", "test-loopback", "test.input=hi"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(loopback_output(r.out) == "hi");
}

}  // namespace
}  // namespace mplane
