// Our supervisor with the Python RI (issue 12): the RI's component-initiated component behind our
// supervisor, driven by our client and by the RI's client, over mutual TLS with the RI's demo
// PKI; a component that disappears is withdrawn and comes back.
#include <catch2/catch.hpp>

#include "tests/interop/ri_support.h"

namespace mplane {
namespace {

using namespace interop;  // NOLINT(google-build-using-namespace): the tests' vocabulary

// Our supervisor as Supervisor-1 of the RI's domain, on one port for both faces.
struct OurSupervisor {
  OurSupervisor(ScratchDir& dir, std::vector<std::string> extra = {})
      : port(test::free_loopback_port()) {
    std::vector<std::string> args = {"supervisor",
                                     "--listen",
                                     "127.0.0.1:" + std::to_string(port),
                                     "--ca",
                                     pki("root-ca.crt"),
                                     "--cert",
                                     pki("Supervisor-SSB.crt"),
                                     "--key",
                                     pki("Supervisor-SSB-plaintext.key"),
                                     "--state",
                                     dir.file("supervisor.db")};
    args.insert(args.end(), extra.begin(), extra.end());
    process.emplace(args, dir.file("supervisor"));
    if (!process->wait_for_err("listening on")) FAIL("our supervisor:\n" << process->err());
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port) + "/"; }
  std::uint16_t port;
  std::optional<test::Process> process;
};

// The RI's component-initiated component (Component-1) registering with `supervisor_port`.
struct RiProbe {
  RiProbe(ScratchDir& dir, std::uint16_t supervisor_port)
      : process(ri_program(dir, "ri-run.py"),
                {"mpcom", "component-to-supervisor-tls.conf",
                 "SUPERVISOR_PORT=" + std::to_string(supervisor_port)},
                dir.next_output("ri-probe")) {}
  test::Process process;
};

// Whether the client face lists a capability labelled `label` to Client-1 (`present`) or not,
// within `timeout_ms`.
bool listed_within(std::uint16_t port, const std::string& label, bool present, int timeout_ms) {
  transport::TlsOptions o;
  o.role = transport::TlsRole::kClient;
  o.ca_file = pki("root-ca.crt");
  o.cert_file = pki("Client-SSB.crt");
  o.key_file = pki("Client-SSB-plaintext.key");
  auto tls = transport::TlsContext::create(o);
  if (!tls) FAIL(tls.error());
  transport::HttpClient client("127.0.0.1", port, tls->get());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = client.request("GET", "/capabilities", "", "", 5'000);
    const bool has = r && r->body.find("\"label\":\"" + label + "\"") != std::string::npos;
    if (has == present) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

TEST_CASE(
    "supervisor interop: the RI's component behind our supervisor, driven by our client "
    "and the RI's",
    "[interop][ri][supervisor]") {
  MPLANE_REQUIRE_PEER(ri_dir() / "ri-run.py");
  ScratchDir dir;
  OurSupervisor sup(dir);
  RiProbe probe(dir, sup.port);
  REQUIRE(listed_within(sup.port, "test-loopback", true, kListenMs));
  {
    const Ran caps = mplane(dir, our_client(sup.url(), "Client-SSB", {"caps"}));
    INFO(caps.err);
    REQUIRE(caps.status == 0);
    CHECK_THAT(caps.out, Catch::Contains("test-loopback"));
    CHECK_THAT(caps.out, !Catch::Contains("callback"));  // callback control is not for clients
  }
  {
    const Ran r =
        mplane(dir, our_client(sup.url(), "Client-SSB",
                               {"run", "test-loopback", "--param", "test.input=hi", "--json"}));
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(loopback_output(r.out) == "hi");
    CHECK_THAT(r.out, Catch::Contains("org.mplane.SSB.Components.Component-1"));  // which probe
  }
  {
    const Ran r = ri_client(dir, sup.url(), "", {"run", "test-loopback", "test.input=hi"});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    CHECK(loopback_output(r.out) == "hi");
  }
  CHECK(sup.process->running());
}

TEST_CASE("supervisor interop: a component that disappears is withdrawn and comes back",
          "[interop][ri][supervisor]") {
  MPLANE_REQUIRE_PEER(ri_dir() / "ri-run.py");
  ScratchDir dir;
  OurSupervisor sup(dir, {"--withdraw-after", "3s", "--poll-idle", "1s"});
  std::optional<RiProbe> probe;
  probe.emplace(dir, sup.port);
  REQUIRE(listed_within(sup.port, "test-loopback", true, kListenMs));
  probe->process.signal(SIGKILL);
  probe->process.wait();
  CHECK(listed_within(sup.port, "test-loopback", false, 20'000));
  CHECK(
      sup.process->wait_for_err("withdrew the capabilities of org.mplane.SSB.Components."
                                "Component-1"));
  probe.emplace(dir, sup.port);  // it comes back: registers again
  CHECK(listed_within(sup.port, "test-loopback", true, kListenMs));
}

}  // namespace
}  // namespace mplane
