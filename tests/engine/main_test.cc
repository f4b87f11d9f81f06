// engine/main.cc: what every run of the `mplane` binary gets before its subcommand. SIGPIPE is
// ignored (issue 10, item 5): a write to a peer that has gone — a closed pipe on stdout, a
// client that disconnects while a component writes to it — is an error, never a killed process.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/net_support.h"
#include "tests/process_support.h"
#include "tests/test_support.h"
#include "transport/http/http_client.h"

namespace mplane {
namespace {

// Runs `mplane ARGS...` with stdout on a pipe whose reading end is already closed; returns
// the exit status (-1: killed by a signal) and its stderr.
std::pair<int, std::string> run_with_closed_stdout(std::vector<std::string> args) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ::close(fds[0]);
  const std::string err_path = (std::filesystem::temp_directory_path() /
                                ("mplane_main_test_" + std::to_string(::getpid()) + ".err"))
                                   .string();
  args.insert(args.begin(), MPLANE_BINARY);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_adddup2(&files, fds[1], 1);
  posix_spawn_file_actions_addopen(&files, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  // The child starts with SIGPIPE at its default (this test binary ignores it, and an ignored
  // signal stays ignored across exec): what a shell gives the binary.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, MPLANE_BINARY, &files, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  REQUIRE(rc == 0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::string err = test::read_file(err_path);
  std::filesystem::remove(err_path);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, err};
}

TEST_CASE("mplane: output to a closed pipe exits 1 with one line, not by SIGPIPE",
          "[engine][cli][sigpipe]") {
  const std::string spec =
      (test::source_dir() / "conf/examples/specification_ping_absolute.json").string();
  auto [status, err] = run_with_closed_stdout({"msg", "canon", spec});
  CHECK(status == 1);
  CHECK(err == "mplane: cannot write to standard output (closed pipe?)\n");
}

TEST_CASE("mplane capture: a closed stdout stops it with one line, not by SIGPIPE",
          "[engine][cli][sigpipe][capture]") {
  const std::string pcap = (test::pcaps_dir() / "ndpi__netflix.pcap").string();
  auto [status, err] = run_with_closed_stdout({"capture", "-r", pcap, "--format", "csv"});
  CHECK(status == 1);
  CHECK_THAT(err, Catch::Contains(" packets (") && Catch::Contains("standard output"));
}

// A client that asks for a large streamed result and disconnects after its first bytes: the
// component's next writes fail (EPIPE). It used to die of SIGPIPE; it must go on serving.
TEST_CASE("mplane component: a client vanishing mid-response does not kill it",
          "[engine][component][net][sigpipe]") {
  const std::uint16_t port = test::free_loopback_port();
  test::Process component({"component", "--insecure", "--listen",
                           "127.0.0.1:" + std::to_string(port), "--service", "counter", "--service",
                           "loopback", "--shards", "1"});
  for (int i = 0; i < 200 && !test::accepts(port); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  REQUIRE(test::accepts(port));
  const std::string spec = R"({"specification": "measure", "version": 1, "when": "now",
    "registry": "http://mplane-engine.org/registry/engine",
    "parameters": {"test.count": "1000000", "test.input": "vanishing"},
    "results": ["test.sequence", "test.output"]})";
  const std::string request =
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/x-mplane+json\r\nContent-Length: " +
      std::to_string(spec.size()) + "\r\n\r\n" + spec;
  for (int round = 0; round < 3; ++round) {
    const int fd = test::connect_loopback(port);
    REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size()));
    char buf[4096];
    REQUIRE(::recv(fd, buf, sizeof buf, 0) > 0);  // the response has begun
    ::close(fd);  // unread bytes: the kernel answers the component's next segments with RST
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  transport::HttpClient client("127.0.0.1", port);
  auto r = client.request("GET", "/capabilities", "", "", 10'000);
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(component.stop() == 0);  // not -1: killed by a signal
}

}  // namespace
}  // namespace mplane
