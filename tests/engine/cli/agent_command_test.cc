// `mplane agent connect` and `mplane router` end to end (issue 13): a private RabbitMQ broker, two
// network namespaces made by the test, one agent in each (10.2.0.1/24 + bbbb::1/64 with the
// original's JSON bodies, 10.2.0.2/24 + bbbb::2/64 with raw bodies) and a router; pings across,
// IPv4, IPv6 and MTU-sized, with 0% loss; SIGINT stops each with exit 0 and the tun gone; the
// --dump file holds the pings. Needs root, /dev/net/tun and rabbitmq-server (skips otherwise).
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/amqp_broker.h"
#include "tests/engine/agent/netns_support.h"
#include "tests/process_support.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

// `ip netns exec NS COMMAND`'s exit status and output.
int in_netns(const std::string& ns, const std::string& command, std::string* output = nullptr) {
  const std::string line = "ip netns exec " + ns + " " + command + " 2>&1";
  FILE* p = ::popen(line.c_str(), "r");
  if (!p) return -1;
  char buffer[4096];
  std::string out;
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, p)) > 0;) out.append(buffer, n);
  if (output) *output = out;
  const int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_CASE("mplane agent and router: pings across two namespaces through the broker",
          "[broker][engine][agent][cli]") {
  MPLANE_REQUIRE_TUN("creates tun devices in network namespaces");
  MPLANE_REQUIRE_BROKER();
  if (std::system("command -v ping > /dev/null") != 0) MPLANE_SKIP("needs ping (iputils-ping)");
  test::AmqpBroker& broker = test::shared_amqp_broker();
  test::TestNetns ns1, ns2;
  REQUIRE(ns1.ok());
  REQUIRE(ns2.ok());
  test::TempDir dir;
  const std::string url = broker.url();
  test::Process router({"router", "--url", url, "--agents", "agent_1,agent_2"}, dir.sub("router"));
  REQUIRE(router.wait_for_err("routing"));
  const std::string dump = dir.sub("agent_1.pcap");
  test::Process a1({"agent", "connect", "--url", url, "--name", "agent_1", "--netns", ns1.name(),
                    "--dev", "tunA1", "--dump", dump},
                   dir.sub("a1"));
  test::Process a2({"agent", "connect", "--url", url, "--name", "agent_2", "--netns", ns2.name(),
                    "--dev", "tunA2", "--format", "raw"},
                   dir.sub("a2"));
  REQUIRE(a1.wait_for_err(" up on tunA1"));
  REQUIRE(a2.wait_for_err(" up on tunA2"));

  std::string out;
  CHECK(in_netns(ns1.name(), "ping -c 3 -i 0.2 -W 5 10.2.0.2", &out) == 0);
  CHECK_THAT(out, Catch::Contains(" 0% packet loss"));
  CHECK(in_netns(ns2.name(), "ping -6 -c 3 -i 0.2 -W 5 bbbb::1", &out) == 0);
  CHECK_THAT(out, Catch::Contains(" 0% packet loss"));
  // MTU-sized: 1,472 bytes of ICMP payload + 28 of headers = 1,500, not fragmented.
  CHECK(in_netns(ns1.name(), "ping -c 3 -i 0.2 -W 5 -M do -s 1472 10.2.0.2", &out) == 0);
  CHECK_THAT(out, Catch::Contains(" 0% packet loss"));

  for (test::Process* p : {&a1, &a2, &router}) p->signal(SIGINT);
  CHECK(a1.wait_for(10'000) == 0);
  CHECK(a2.wait_for(10'000) == 0);
  CHECK(router.wait_for(10'000) == 0);
  CHECK_THAT(a1.err(), Catch::Contains("stopped") && Catch::Contains("dropped out 0"));
  CHECK(in_netns(ns1.name(), "ip link show tunA1") != 0);  // the tun is gone
  test::Process capture({"capture", "-r", dump}, dir.sub("capture"));
  CHECK(capture.wait_for(10'000) == 0);
  // The 9 echo requests and 9 replies that crossed agent_1's tunnel, at least (IPv6 neighbour
  // discovery may add some).
  const std::string summary = capture.err();
  const std::size_t at = summary.find("mplane capture: ");
  REQUIRE(at != std::string::npos);
  CHECK(std::stoi(summary.substr(at + 16)) >= 18);
}

TEST_CASE("mplane agent and router: usage errors are one line and exit 2", "[engine][agent][cli]") {
  test::TempDir dir;
  const std::string url = "amqp://u:p@127.0.0.1:1/v";
  auto run = [&](std::vector<std::string> args, const std::string& expected) {
    test::Process p(args, dir.sub("p" + std::to_string(args.size()) + expected.substr(0, 4)));
    CHECK(p.wait_for(10'000) == 2);
    CHECK_THAT(p.err(), Catch::Contains(expected));
  };
  run({"agent", "connect", "--url", url, "--name", "a.b"}, "'.'");
  run({"agent", "connect", "--url", url, "--name", "coap_client"}, "no default addresses");
  run({"agent", "connect", "--url", "http://x/", "--name", "agent_1"}, "--url");
  run({"agent", "connect", "--url", url, "--name", "agent_1", "--format", "xml"}, "--format");
  run({"agent", "nothing"}, "unknown subcommand");
  run({"router", "--url", url, "--agents", "a,b*"}, "--agents");
}

}  // namespace
}  // namespace mplane
