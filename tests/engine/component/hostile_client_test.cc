// The shipped component in its own process against hostile and careless peers: pipelining
// without reading, dribbling one byte at a time, closing mid-reply, a second component on the
// same port. Every loop here is bounded in count and time; nothing asserts a duration.
#include <fcntl.h>
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

std::string loopback_spec(std::size_t input_bytes, int serial = 0) {
  return R"({"specification": "measure", "version": 1,
    "registry": "http://mplane.corvid.ch/registry/loopback", "when": "now",
    "parameters": {"test.input": ")" +
         std::to_string(serial) + std::string(input_bytes, 'x') + R"("},
    "results": ["test.output"]})";
}

std::string post(const std::string& body, const std::string& extra_headers = "") {
  return "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-mplane+json\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// A component process on 127.0.0.1 (plaintext) with the loopback service and [engine] lines.
struct ComponentProcess {
  explicit ComponentProcess(const std::string& name, const std::string& engine_lines = "",
                            std::vector<std::string> extra = {})
      : dir(fs::temp_directory_path() /
            ("mplane-hostile-" + name + "-" + std::to_string(::getpid()))),
        port(test::free_loopback_port()) {
    fs::create_directories(dir);
    std::ofstream(dir / "component.conf") << "[engine]\nshards = 1\n" << engine_lines;
    std::vector<std::string> args = {"component",
                                     "--config",
                                     (dir / "component.conf").string(),
                                     "--listen",
                                     "127.0.0.1:" + std::to_string(port),
                                     "--service",
                                     "loopback"};
    if (extra.empty()) args.push_back("--insecure");  // else TLS flags
    args.insert(args.end(), extra.begin(), extra.end());
    process = std::make_unique<test::Process>(args, (dir / "component").string());
    REQUIRE(process->wait_for_err("listening on"));
  }
  ~ComponentProcess() {
    process.reset();
    fs::remove_all(dir);
  }
  // A loopback specification answered with its result (a fresh connection).
  bool serves() const {
    transport::HttpClient client("127.0.0.1", port);
    auto r = client.request("POST", "/", "application/x-mplane+json", loopback_spec(10), 10'000);
    return r.ok() && r->status == 200 && r->body.find("\"result\"") != std::string::npos;
  }
  std::size_t rss_kib() const {
    std::ifstream in("/proc/" + std::to_string(pid()) + "/status");
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("VmRSS:")) return std::stoul(line.substr(6));
    }
    return 0;
  }
  pid_t pid() const { return process->pid(); }

  fs::path dir;
  std::uint16_t port;
  std::unique_ptr<test::Process> process;
};

// A non-blocking TCP connection from `source` (an address of 127/8) to 127.0.0.1:port.
int connect_from(const char* source, std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source, &from.sin_addr);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

using test::peer_closed;

TEST_CASE("hostile: ten connections pipelining large specifications, never reading",
          "[engine][component][hostile][net]") {
  ComponentProcess c("pipeline");
  const std::size_t baseline = c.rss_kib();
  const std::string request = post(loopback_spec(1 << 20));  // 1 MiB each
  std::vector<int> fds;
  for (int i = 0; i < 10; ++i) fds.push_back(connect_from("127.0.0.1", c.port));
  // Each connection pipelines up to 64 requests (64 MiB), as far as the component reads them;
  // the test stops when no connection has made progress for a second (or after 60 s).
  std::vector<std::size_t> sent(fds.size(), 0);
  const std::size_t want = request.size() * 64;
  auto last_progress = Clock::now();
  const auto end = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() - last_progress < std::chrono::seconds(1) && Clock::now() < end) {
    bool progress = false;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (sent[i] >= want) continue;
      const std::size_t at = sent[i] % request.size();
      const ssize_t n = send(fds[i], request.data() + at, request.size() - at, MSG_NOSIGNAL);
      if (n > 0) {
        sent[i] += static_cast<std::size_t>(n);
        progress = true;
      }
    }
    if (progress) last_progress = Clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::size_t total = 0;
  for (std::size_t s : sent) total += s;
  const std::size_t peak = c.process->peak_rss_kib();
  INFO("sent " << total / (1 << 20) << " MiB; component RSS " << baseline << " KiB at start, peak "
               << peak << " KiB");
  CHECK(total > 10u * request.size());  // the component read some of it
  CHECK(total < 10u * want);            // and then stopped reading
  CHECK(peak < 256u * 1024);            // the stated bound: 256 MiB
  for (int fd : fds) ::close(fd);
  // after they go, the memory falls back and the component serves others
  CHECK(c.serves());
  std::size_t after = c.rss_kib();
  for (int i = 0; i < 50 && after > baseline + 64 * 1024; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    after = c.rss_kib();
  }
  INFO("RSS after the connections closed: " << after << " KiB");
  CHECK(after < baseline + 64 * 1024);
}

TEST_CASE("hostile: one large request costs a small multiple of its size",
          "[engine][component][hostile][net]") {
  ComponentProcess c("large");
  const std::size_t body = 32u << 20;  // 32 MiB of test.input; the result echoes it twice
  transport::HttpClient client("127.0.0.1", c.port);
  transport::HttpLimits limits;
  limits.max_body_bytes = 256u << 20;
  client.set_limits(limits);
  auto r = client.request("POST", "/", "application/x-mplane+json", loopback_spec(body), 60'000);
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body.size() > 2 * body);
  const std::size_t peak = c.process->peak_rss_kib();
  INFO("peak RSS " << peak << " KiB for a " << body / 1024 << " KiB request");
  // The body, the parse, the job, the 2x reply; under ASan also its quarantine of freed buffers.
  const std::size_t multiple = test::kAddressSanitizer ? 16 : 12;
  CHECK(peak < multiple * body / 1024);
}

TEST_CASE("hostile: slowloris from many addresses, a legitimate client is served",
          "[engine][component][hostile][net]") {
  ComponentProcess c(
      "slowloris", "header-timeout = 2s\nmax-connections-per-peer = 20\nmax-connections = 1000\n");
  // 15 addresses x 25 connections: 5 of each address are over the per-peer bound.
  std::vector<int> fds;
  for (int a = 2; a < 17; ++a) {
    const std::string source = "127.0.0." + std::to_string(a);
    for (int i = 0; i < 25; ++i) fds.push_back(connect_from(source.c_str(), c.port));
  }
  const std::string head = "POST / HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  // One byte per connection every 200 ms: each byte would have restarted the old timer.
  const auto start = Clock::now();
  bool served = false;
  for (std::size_t step = 0; step < 30; ++step) {
    for (int fd : fds) (void)send(fd, head.data() + step % head.size(), 1, MSG_NOSIGNAL);
    if (step == 3) served = c.serves();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::size_t closed = 0;
  for (int fd : fds) closed += peer_closed(fd) ? 1 : 0;
  INFO("after "
       << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count()
       << " ms, " << closed << " of " << fds.size() << " dribblers closed");
  CHECK(served);
  CHECK(closed == fds.size());  // the total header deadline closed every one of them
  CHECK(c.serves());
  for (int fd : fds) ::close(fd);
  const std::string log = c.process->err();
  CHECK_THAT(log, Catch::Contains("max-connections-per-peer"));
  CHECK_THAT(log, Catch::Contains("408 request head not received within 2000 ms"));
}

TEST_CASE("hostile: a peer that closes mid-reply does not kill the component (SIGPIPE)",
          "[engine][component][hostile][net]") {
  ComponentProcess c("sigpipe");
  for (int round = 0; round < 20; ++round) {
    const int fd = connect_from("127.0.0.1", c.port);
    const std::string two = post(loopback_spec(256 * 1024, 1)) + post(loopback_spec(256 * 1024, 2));
    std::size_t off = 0;
    for (int tries = 0; off < two.size() && tries < 1000; ++tries) {
      const ssize_t n = send(fd, two.data() + off, two.size() - off, MSG_NOSIGNAL);
      if (n > 0)
        off += static_cast<std::size_t>(n);
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    linger reset{1, 0};  // close with a reset: the component's next write fails
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    ::close(fd);
  }
  CHECK(c.serves());
  CHECK(c.process->stop() == 0);
}

TEST_CASE("hostile: Expect: 100-continue is answered before the body", "[engine][component][net]") {
  ComponentProcess c("continue");
  const int fd = connect_from("127.0.0.1", c.port);
  const std::string body = loopback_spec(2 << 20);
  std::string request = post(body, "Expect: 100-continue\r\n");
  const std::string head = request.substr(0, request.size() - body.size());
  REQUIRE(send(fd, head.data(), head.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(head.size()));
  std::string got;
  char buf[256];
  const auto end = Clock::now() + std::chrono::seconds(5);
  while (got.find("\r\n\r\n") == std::string::npos && Clock::now() < end) {
    const ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(got == "HTTP/1.1 100 Continue\r\n\r\n");
  ::close(fd);
}

TEST_CASE("a second component on the same port refuses to start", "[engine][component][net]") {
  ComponentProcess first("first");
  test::Process second({"component", "--insecure", "--service", "loopback", "--listen",
                        "127.0.0.1:" + std::to_string(first.port)},
                       (first.dir / "second").string());
  CHECK(second.wait() == 1);
  const std::string err = second.err();
  CHECK_THAT(err, Catch::EndsWith("the port is in use by another process (is another component "
                                  "running?)\n"));
  CHECK(first.serves());
}

}  // namespace
}  // namespace mplane

namespace mplane {
namespace {

TEST_CASE("hostile: limits on connections and on slow bodies, each logged",
          "[engine][component][hostile][net]") {
  ComponentProcess c("limits", "max-connections = 4\nlog-level = info\n");
  std::vector<int> fds;
  for (int i = 0; i < 4; ++i) fds.push_back(connect_from("127.0.0.1", c.port));
  const int fifth = connect_from("127.0.0.1", c.port);  // over max-connections: closed at once
  bool refused = false;
  for (int i = 0; i < 250 && !refused; ++i) {
    refused = peer_closed(fifth);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(refused);
  ::close(fifth);
  // A body announced as 1 MiB that comes at 10 bytes a second: 408 once the grace (10 s) is
  // over, while the other connections are served.
  const std::string head =
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-mplane+json\r\n"
      "Content-Length: 1048576\r\n\r\n";
  REQUIRE(send(fds[0], head.data(), head.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(head.size()));
  ::close(fds[1]);  // a slot for the legitimate client below
  bool slow_closed = false;
  for (int second = 0; second < 20 && !slow_closed; ++second) {
    (void)send(fds[0], "          ", 10, MSG_NOSIGNAL);
    if (second == 1) CHECK(c.serves());
    for (int i = 0; i < 10 && !slow_closed; ++i) {
      slow_closed = peer_closed(fds[0]);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  CHECK(slow_closed);
  for (int fd : fds) ::close(fd);
  const std::string log = c.process->err();
  CHECK_THAT(log, Catch::Contains("refused: too many connections (4, max-connections)"));
  CHECK_THAT(log, Catch::Contains("408 request body slower than 16384 bytes/s"));
  // the access log (info): peer, identity, request, status, bytes, time
  CHECK_THAT(log, Catch::Contains(" info  access 127.0.0.1:"));
  CHECK_THAT(log, Catch::Contains(" Identity.Unauthenticated.Default \"POST /\" 200 "));
}

TEST_CASE("hostile: a TLS handshake must complete within the header timeout, refusals logged",
          "[engine][component][hostile][tls][net]") {
  test::TlsDomain domain("Hostile");
  test::TlsDomain other("Stranger");
  ComponentProcess c("tls", "header-timeout = 1s\n",
                     {"--ca", domain.ca(), "--cert", domain.component.cert_path, "--key",
                      domain.component.key_path});
  // A client that starts a handshake and stops: closed when the deadline passes.
  const int stalled = connect_from("127.0.0.1", c.port);
  REQUIRE(send(stalled, "\x16\x03\x01", 3, MSG_NOSIGNAL) == 3);
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    closed = peer_closed(stalled);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(closed);
  ::close(stalled);
  // A client of another domain: refused during the handshake, and logged with the reason.
  auto tls = test::tls_context(transport::TlsRole::kClient, domain.ca(), &other.client);
  transport::HttpClient stranger("127.0.0.1", c.port, tls.get());
  CHECK(!stranger.request("GET", "/capabilities", "", "", 5000).ok());
  CHECK(c.process->wait_for_err("TLS handshake not complete within 1000 ms"));
  CHECK(c.process->wait_for_err("tls: handshake from 127.0.0.1:"));
}

}  // namespace
}  // namespace mplane

namespace mplane {
namespace {

TEST_CASE("hostile: request bodies in progress are bounded in all (503 past the budget)",
          "[engine][component][hostile][net]") {
  ComponentProcess c("bodies", "max-request-bytes = 2097152\n");
  const std::string first = post(loopback_spec(1500 * 1024, 1));
  const int a = connect_from("127.0.0.1", c.port);
  // Everything of the first request but its last byte: 1.5 MiB of the budget held.
  std::size_t off = 0;
  for (int tries = 0; off + 1 < first.size() && tries < 5000; ++tries) {
    const ssize_t n = send(a, first.data() + off, first.size() - 1 - off, MSG_NOSIGNAL);
    if (n > 0)
      off += static_cast<std::size_t>(n);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  REQUIRE(off + 1 == first.size());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the component has read it
  transport::HttpClient b("127.0.0.1", c.port);
  auto refused =
      b.request("POST", "/", "application/x-mplane+json", loopback_spec(1024 * 1024, 2), 10'000);
  REQUIRE(refused.ok());
  CHECK(refused->status == 503);
  CHECK_THAT(refused->body, Catch::Contains("request bodies in progress exceed 2097152 bytes"));
  REQUIRE(send(a, first.data() + off, 1, MSG_NOSIGNAL) == 1);  // the first completes
  bool answered = false;
  char buf[4096];
  for (int i = 0; i < 500 && !answered; ++i) {
    answered = recv(a, buf, sizeof buf, MSG_DONTWAIT) > 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(answered);
  ::close(a);
  transport::HttpClient retry("127.0.0.1", c.port);
  auto later = retry.request("POST", "/", "application/x-mplane+json",
                             loopback_spec(1024 * 1024, 3), 10'000);
  REQUIRE(later.ok());
  CHECK(later->status == 200);
}

}  // namespace
}  // namespace mplane
