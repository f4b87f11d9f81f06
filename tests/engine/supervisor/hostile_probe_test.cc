// `mplane supervisor` in its own process against hostile probes and clients (WIRE.md "Limits"):
// a registration flood, a long poller that never reads, full queues and relay tables, a slow
// loris, and identity limits over mutual TLS. Each refusal is checked in the answer and in the
// log. Every loop here is bounded in count and time; nothing asserts a duration.
#include <poll.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/engine/component/tls_domain.h"
#include "tests/net_support.h"
#include "tests/process_support.h"
#include "tests/test_support.h"
#include "transport/http/http_client.h"
#include "transport/http/http_parser.h"

namespace mplane {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
constexpr std::string_view kJson = "application/x-mplane+json";

constexpr const char* kRegistration = R"({"envelope":"message","version":1,"contents":[
  {"capability":"measure","version":1,"registry":"http://mplane.corvid.ch/registry/loopback",
   "label":"test-loopback","when":"now ... future","parameters":{"test.input":"*"},
   "results":["test.output"]}]})";

std::string spec(const std::string& input) {
  return R"({"specification":"measure","version":1,
    "registry":"http://mplane.corvid.ch/registry/loopback","label":"hostile","when":"now",
    "parameters":{"test.input":")" +
         input + R"("},"results":["test.output"]})";
}

// A request as `identity`: the RI client's Forged-MPlane-Identity header, which a plaintext
// supervisor honours (WIRE.md).
std::string request(const std::string& method, const std::string& target,
                    const std::string& identity, const std::string& body = "") {
  std::string out = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                    "Forged-MPlane-Identity: " + identity + "\r\n";
  if (!body.empty()) {
    out += "Content-Type: " + std::string(kJson) +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return out + "\r\n" + body;
}

// Sends all of `bytes` on `fd`, for at most 10 s.
bool send_all(int fd, std::string_view bytes) {
  const auto end = Clock::now() + std::chrono::seconds(10);
  while (!bytes.empty() && Clock::now() < end) {
    const ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  return bytes.empty();
}

// One request on a fresh connection, its response within 10 s (status 0: none).
transport::HttpMessage exchange(std::uint16_t port, const std::string& method,
                                const std::string& target, const std::string& identity,
                                const std::string& body = "") {
  const int fd = test::connect_loopback(port);
  transport::HttpParser parser(transport::HttpParser::Kind::kResponse);
  std::vector<transport::HttpMessage> out;
  if (send_all(fd, request(method, target, identity, body))) {
    const auto end = Clock::now() + std::chrono::seconds(10);
    char buf[65536];
    pollfd p{fd, POLLIN, 0};
    while (out.empty() && Clock::now() < end && ::poll(&p, 1, 100) >= 0) {
      const ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0) break;
      if (n > 0 && !parser.feed({buf, static_cast<std::size_t>(n)}, out)) break;
    }
  }
  ::close(fd);
  return out.empty() ? transport::HttpMessage{} : std::move(out.front());
}

// A plaintext supervisor whose [supervisor] section holds `limits`, with immediate-wait 0s (a
// client's specification is answered with its receipt at once).
struct SupervisorProcess {
  SupervisorProcess(const std::string& name, const std::string& limits,
                    std::vector<std::string> tls_flags = {})
      : dir(fs::temp_directory_path() /
            ("mplane-hostile-sup-" + name + "-" + std::to_string(::getpid()))),
        port(test::free_loopback_port()) {
    fs::create_directories(dir);
    std::ofstream(dir / "supervisor.conf")
        << "[supervisor]\nlisten = 127.0.0.1:" << port
        << "\nstate = " << (dir / "state.db").string() << "\nimmediate-wait = 0s\n"
        << limits;
    std::vector<std::string> args = {"supervisor", "--config", (dir / "supervisor.conf").string()};
    if (tls_flags.empty()) args.push_back("--insecure");
    args.insert(args.end(), tls_flags.begin(), tls_flags.end());
    process = std::make_unique<test::Process>(args, (dir / "supervisor").string());
    if (!process->wait_for_err("listening on")) FAIL("no start:\n" << process->err());
  }
  ~SupervisorProcess() {
    process.reset();
    fs::remove_all(dir);
  }
  int register_probe(const std::string& identity) const {
    return exchange(port, "POST", "/register/capability", identity, kRegistration).status;
  }
  // The specifications a poll of `identity` takes (-1: the poll was not answered with 200).
  int poll(const std::string& identity) const {
    auto r = exchange(port, "GET", "/show/specification", identity);
    if (r.status != 200) return -1;
    auto m = test::parse(r.body);
    if (!m) return -1;
    return static_cast<int>((*m)->message.contents.size()) - 1;  // the callback last
  }
  transport::HttpMessage specify(const std::string& client, const std::string& probe,
                                 const std::string& input) const {
    return exchange(port, "POST", "/probe/" + probe + "/", client, spec(input));
  }

  fs::path dir;
  std::uint16_t port;
  std::unique_ptr<test::Process> process;
};

TEST_CASE(
    "hostile probes: a registration flood past max-probes gets 503, and full queues and "
    "relays 503, each logged with who and why",
    "[engine][supervisor][hostile][net]") {
  SupervisorProcess sup("flood",
                        "max-probes = 5\nmax-queued-per-probe = 2\nmax-relays = 6\n"
                        "max-relays-per-client = 100\n");
  for (int i = 0; i < 5; ++i) REQUIRE(sup.register_probe("Probe-" + std::to_string(i)) == 200);
  int refused = 0;
  for (int i = 5; i < 205; ++i) refused += sup.register_probe("Flood-" + std::to_string(i)) == 503;
  CHECK(refused == 200);
  auto last = exchange(sup.port, "POST", "/register/capability", "Flood-205", kRegistration);
  CHECK(last.status == 503);
  CHECK_THAT(last.body,
             Catch::Contains("\"exception\"") && Catch::Contains("Too many probes registered"));
  CHECK(sup.process->wait_for_err(
      "refused a registration from Flood-5: Too many probes registered (5, max-probes)"));
  // The earlier probes keep working: re-registration, polls, relayed work.
  CHECK(sup.register_probe("Probe-0") == 200);
  CHECK(sup.poll("Probe-0") == 0);
  CHECK(sup.specify("Client-1", "Probe-0", "a").status == 200);
  CHECK(sup.specify("Client-1", "Probe-0", "b").status == 200);
  auto full = sup.specify("Client-1", "Probe-0", "c");
  CHECK(full.status == 503);
  CHECK_THAT(full.body, Catch::Contains("Probe Probe-0 has too much queued work"));
  CHECK(
      sup.process->wait_for_err("refused a specification from Client-1: Probe Probe-0 has too "
                                "much queued work (2, max-queued-per-probe)"));
  for (const char* probe : {"Probe-1", "Probe-2"}) {  // 6 measurements in all
    CHECK(sup.specify("Client-2", probe, std::string("a") + probe).status == 200);
    CHECK(sup.specify("Client-2", probe, std::string("b") + probe).status == 200);
  }
  auto pending = sup.specify("Client-3", "Probe-3", "a");
  CHECK(pending.status == 503);
  CHECK_THAT(pending.body, Catch::Contains("Too many measurements pending"));
  CHECK(sup.process->wait_for_err(
      "refused a specification from Client-3: Too many measurements pending (6, max-relays)"));
  CHECK(sup.poll("Probe-0") == 2);  // what was accepted is delivered
  CHECK(sup.process->running());
}

TEST_CASE(
    "hostile probes: a long poller that never reads its replies holds bounded memory and "
    "blocks no other probe",
    "[engine][supervisor][hostile][net]") {
  SupervisorProcess sup("greedy", "max-queued-bytes = 8388608\nmax-output-bytes = 1048576\n");
  REQUIRE(sup.register_probe("Greedy") == 200);
  REQUIRE(sup.register_probe("Good") == 200);
  // The greedy probe keeps long-polling and never reads: each specification for it wakes its
  // held poll, whose answer (256 KiB) then waits in its connection, and it polls again.
  const int greedy = test::connect_loopback(sup.port);
  const std::string poll = request("GET", "/show/specification?wait=30", "Greedy");
  const std::string input(256 * 1024, 'g');
  int accepted = 0;
  int status = 200;
  for (int i = 0; i < 400 && status == 200; ++i) {  // 100 MiB offered, at most
    (void)send(greedy, poll.data(), poll.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    status = sup.specify("Client-1", "Greedy", std::to_string(i) + input).status;
    accepted += status == 200;
  }
  INFO(accepted << " specifications of 256 KiB accepted for the greedy probe");
  CHECK(status == 503);  // it stopped taking work for a probe that does not read
  // At most: 8 MiB queued, 1 MiB of answers waiting in the supervisor, and what the kernel's
  // socket buffers took on both sides.
  CHECK(accepted < 200);
  CHECK(sup.process->wait_for_err(
      "refused a specification from Client-1: Too much work queued for probes (8388608, "
      "max-queued-bytes)"));
  const std::size_t peak = sup.process->peak_rss_kib();
  INFO("supervisor peak RSS " << peak << " KiB");
  CHECK(peak < 256u * 1024);
  // Another probe registers, polls and gets its work meanwhile; the greedy probe is still
  // connected.
  CHECK(sup.register_probe("Late") == 200);
  CHECK(sup.poll("Good") == 0);
  ::close(greedy);  // its unread answers go back to its queue
  CHECK(sup.process->running());
}

TEST_CASE("hostile probes: a slow loris on the supervisor is cut by its header-timeout",
          "[engine][supervisor][hostile][net]") {
  SupervisorProcess sup("loris", "header-timeout = 1s\n");
  const int fd = test::connect_loopback(sup.port);
  const std::string head = request("POST", "/register/capability", "Loris", kRegistration);
  bool closed = false;
  for (std::size_t i = 0; i < 40 && !closed; ++i) {  // one byte every 250 ms: 10 s at most
    (void)send(fd, head.data() + i, 1, MSG_NOSIGNAL);
    if (i == 1) CHECK(sup.register_probe("Probe-1") == 200);  // served meanwhile
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    closed = test::peer_closed(fd);
  }
  ::close(fd);
  CHECK(closed);
  CHECK(sup.process->wait_for_err("408 request head not received within 1000 ms"));
  CHECK(sup.poll("Loris") == -1);  // never registered
  CHECK(sup.poll("Probe-1") == 0);
}

TEST_CASE(
    "hostile peers over mutual TLS: a certificate past max-probes and a client past "
    "max-relays-per-client are refused, the others served",
    "[engine][supervisor][hostile][tls][net]") {
  test::TlsDomain domain("SupHostile");
  auto issue = [&](transport::pki::Role role, const std::string& name) {
    transport::pki::IssueOptions o;
    o.role = role;
    o.name = name;
    o.sans = {"127.0.0.1"};
    return transport::pki::issue(domain.dir, o).value();
  };
  const auto own = issue(transport::pki::Role::kSupervisor, "Supervisor-1");
  const auto probe2 = issue(transport::pki::Role::kComponent, "Probe-2");
  const auto client2 = issue(transport::pki::Role::kClient, "Client-2");
  SupervisorProcess sup("tls", "max-probes = 1\nmax-relays-per-client = 1\n",
                        {"--ca", domain.ca(), "--cert", own.cert_path, "--key", own.key_path});
  auto context = [&](const transport::pki::IssuedFiles& files) {
    return test::tls_context(transport::TlsRole::kClient, domain.ca(), &files);
  };
  auto probe1_tls = context(domain.component);
  auto probe2_tls = context(probe2);
  auto client1_tls = context(domain.client);
  auto client2_tls = context(client2);
  auto post = [&](transport::TlsContext* tls, const std::string& path, const std::string& body) {
    transport::HttpClient c("127.0.0.1", sup.port, tls);
    auto r = c.request("POST", path, kJson, body, 10'000);
    if (!r) FAIL(r.error());
    return std::move(r.value());
  };
  REQUIRE(post(probe1_tls.get(), "/register/capability", kRegistration).status == 200);
  auto second = post(probe2_tls.get(), "/register/capability", kRegistration);
  CHECK(second.status == 503);
  CHECK_THAT(second.body, Catch::Contains("Too many probes registered"));
  CHECK(
      sup.process->wait_for_err("refused a registration from "
                                "org.mplane.SupHostile.Components.Probe-2: Too many probes "
                                "registered (1, max-probes)"));
  CHECK(post(client1_tls.get(), "/", spec("one")).status == 200);
  auto more = post(client1_tls.get(), "/", spec("two"));
  CHECK(more.status == 503);
  CHECK_THAT(more.body, Catch::Contains("Too many measurements pending for "
                                        "org.mplane.SupHostile.Clients.Client-1"));
  CHECK(
      sup.process->wait_for_err("refused a specification from "
                                "org.mplane.SupHostile.Clients.Client-1: Too many "
                                "measurements pending for org.mplane.SupHostile.Clients."
                                "Client-1 (1, max-relays-per-client)"));
  CHECK(post(client2_tls.get(), "/", spec("three")).status == 200);  // another client: served
  transport::HttpClient probe("127.0.0.1", sup.port, probe1_tls.get());
  auto poll = probe.request("GET", "/show/specification", "", "", 10'000);
  REQUIRE(poll.ok());
  CHECK(poll->status == 200);
  CHECK(test::parse(poll->body).value()->message.contents.size() == 3);  // 2 + the callback
}

}  // namespace
}  // namespace mplane
