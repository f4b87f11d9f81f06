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

#include "tests/interop/ri_support.h"

namespace mplane {
namespace {

using namespace interop;  // NOLINT(google-build-using-namespace): the tests' vocabulary

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

}  // namespace
}  // namespace mplane
