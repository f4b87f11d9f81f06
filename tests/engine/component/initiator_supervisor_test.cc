// Our component-initiated component (`mplane component --supervisor`) behind our supervisor
// (`mplane supervisor`), both as processes over mutual TLS with a domain made at test time,
// driven by `mplane client` on the supervisor: a relayed run, and a `kill -9` of the supervisor
// while a measurement runs — the result waits in the component's spool and reaches the client
// after the supervisor's restart.
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/engine/component/tls_domain.h"
#include "tests/net_support.h"
#include "tests/process_support.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kCommandMs = 30'000;  // a client command ends within this

struct Domain {
  Domain() : tls("Initiator"), supervisor(tls.issue_supervisor("Sup-1")) {}
  std::vector<std::string> files(const transport::pki::IssuedFiles& who) const {
    return tls.tls_args(who);
  }
  test::TlsDomain tls;
  transport::pki::IssuedFiles supervisor;
};

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// `mplane supervisor` on `port` with its state in `dir`, ready when it says it listens.
std::unique_ptr<test::Process> start_supervisor(const Domain& d, const test::TempDir& dir,
                                                std::uint16_t port, const std::string& run) {
  auto p = std::make_unique<test::Process>(
      with({"supervisor", "--listen", "127.0.0.1:" + std::to_string(port), "--state",
            (dir.path() / "supervisor.db").string(), "--immediate-wait", "0s"},
           d.files(d.supervisor)),
      (dir.path() / ("supervisor" + run)).string());
  if (!p->wait_for_err("listening on")) FAIL("our supervisor:\n" << p->err());
  return p;
}

struct Ran {
  int status;
  std::string out, err;
};

// `mplane client --url https://127.0.0.1:PORT/ …` as Client-1, to its end.
Ran client(const Domain& d, const test::TempDir& dir, std::uint16_t port,
           const std::vector<std::string>& tail) {
  static int runs = 0;
  test::Process p(with(with({"client", "--url", "https://127.0.0.1:" + std::to_string(port) + "/"},
                            d.files(d.tls.client)),
                       tail),
                  (dir.path() / ("client" + std::to_string(++runs))).string());
  const int status = p.wait_for(kCommandMs);
  return {status, p.out(), p.err()};
}

// Whether the supervisor lists `label` to the client within 20 s (the probe registers meanwhile).
bool listed(const Domain& d, const test::TempDir& dir, std::uint16_t port,
            const std::string& label) {
  for (int attempt = 0; attempt < 40; ++attempt) {
    if (client(d, dir, port, {"caps"}).out.find(label) != std::string::npos) return true;
    std::this_thread::sleep_for(500ms);
  }
  return false;
}

std::size_t spool_files(const std::string& dir) {
  std::error_code ec;
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir, ec)) n += e.path().extension() == ".msg";
  return n;
}

TEST_CASE("our component-initiated component behind our supervisor, driven by mplane client",
          "[engine][component][initiator][supervisor][net]") {
  Domain d;
  test::TempDir dir;
  const std::uint16_t port = test::free_loopback_port();
  auto supervisor = start_supervisor(d, dir, port, "1");
  test::Process component(
      with({"component", "--supervisor", "https://127.0.0.1:" + std::to_string(port), "--service",
            "loopback", "--service", "sleep", "--shards", "1", "--spool",
            (dir.path() / "spool").string()},
           d.files(d.tls.component)),
      (dir.path() / "component").string());
  REQUIRE(listed(d, dir, port, "test-loopback"));
  {
    const Ran r =
        client(d, dir, port, {"run", "test-loopback", "--param", "test.input=relayed", "--json"});
    INFO(r.err << component.err());
    REQUIRE(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("\"relayed\""));
    CHECK_THAT(r.out, Catch::Contains(d.tls.component.identity));  // which probe measured
  }

  // A measurement of 3 s; the supervisor is killed while it runs; the result cannot be posted
  // and waits in the component's spool; the supervisor comes back on its state file; the
  // component registers again and delivers; the client redeems.
  const Ran submitted = client(d, dir, port, {"submit", "sleep", "--when", "now + 3s"});
  INFO(submitted.err);
  REQUIRE(submitted.status == 0);
  std::string token = submitted.out;
  while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
  REQUIRE(!token.empty());
  std::this_thread::sleep_for(500ms);  // the probe picks it up (a long poll: at once)
  supervisor->signal(SIGKILL);
  supervisor->wait();
  const std::string spool =
      (dir.path() / "spool").string() + "/spool-127.0.0.1-" + std::to_string(port);
  bool spooled = false;
  for (int i = 0; i < 200 && !spooled; ++i) {  // within 10 s
    spooled = spool_files(spool) >= 1;
    if (!spooled) std::this_thread::sleep_for(50ms);
  }
  INFO(component.err());
  CHECK(spooled);
  supervisor = start_supervisor(d, dir, port, "2");
  const Ran r = client(d, dir, port, {"redeem", token, "--wait", "25", "--json"});
  INFO(r.err << component.err() << supervisor->err());
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("\"result\""));
  CHECK_THAT(r.out, Catch::Contains("duration.ms"));
  component.signal(SIGTERM);
  CHECK(component.wait_for(10'000) == 0);
}

}  // namespace
}  // namespace mplane
