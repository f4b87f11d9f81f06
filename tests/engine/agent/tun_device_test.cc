// The tun device in a network namespace made by the test: created there (not here), configured
// through rtnetlink, a real ICMP echo round trip through the kernel, the write queue, close.
// Needs root and /dev/net/tun; skips with one line otherwise (MPLANE_NO_SKIP=1: fails).
#include "engine/agent/tun_device.h"

#include <net/if.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <vector>

#include "engine/agent/netlink.h"
#include "tests/engine/agent/ip_packets.h"
#include "tests/engine/agent/netns_support.h"

namespace mplane::agent {
namespace {

// A unique interface name (< IFNAMSIZ) for this process.
std::string tun_name() {
  static int n = 0;
  return "mpt" + std::to_string(::getpid() % 100000) + "x" + std::to_string(++n);
}

std::string command_output(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

TunAddresses test_addresses() {
  auto a = resolve_tun_addresses("test", {"10.2.0.1", "bbbb", "1"});
  REQUIRE(a);
  return *a;
}

bool has_address(const std::vector<InterfaceAddress>& list, int family, const std::string& text,
                 int prefix) {
  for (const auto& a : list) {
    if (a.family == family && a.text == text && a.prefix_length == prefix) return true;
  }
  return false;
}

TEST_CASE("tun in a namespace: created there, configured through rtnetlink, removed on close",
          "[engine][agent][tun]") {
  MPLANE_REQUIRE_TUN("creates a tun device in a network namespace");
  test::TestNetns ns;
  REQUIRE(ns.ok());
  const std::string name = tun_name();
  auto tun = open_tun({name, ns.name()});
  REQUIRE(tun);
  CHECK(tun->name() == name);
  CHECK(::if_nametoindex(name.c_str()) == 0);  // not in our namespace
  auto netlink = RtNetlink::open(ns.name());
  REQUIRE(netlink);
  const int ifindex = tun->ifindex();
  REQUIRE(configure_tun(*netlink, ifindex, test_addresses(), 1400));

  const auto state = netlink->link_state(ifindex);
  REQUIRE(state);
  CHECK(state->mtu == 1400);
  CHECK(state->up);
  const auto addresses = netlink->addresses(ifindex);
  REQUIRE(addresses);
  CHECK(has_address(*addresses, AF_INET, "10.2.0.1", 24));
  CHECK(has_address(*addresses, AF_INET6, "bbbb::1", 64));
  CHECK(has_address(*addresses, AF_INET6, "fe80::1", 64));
  // ip(8) sees the same.
  const std::string ip = command_output("ip -n " + ns.name() + " -j addr show dev " + name);
  CHECK_THAT(ip, Catch::Contains("\"mtu\":1400"));
  CHECK_THAT(ip, Catch::Contains("\"local\":\"10.2.0.1\",\"prefixlen\":24"));
  CHECK_THAT(ip, Catch::Contains("\"local\":\"bbbb::1\",\"prefixlen\":64"));
  CHECK_THAT(ip, Catch::Contains("\"local\":\"fe80::1\",\"prefixlen\":64"));

  // Errors are values naming the step and the errno.
  const auto again = netlink->add_address(ifindex, test_addresses().ipv4, 24);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == EEXIST);
  CHECK(again.error().message ==
        "adding 10.2.0.1/24 to ifindex " + std::to_string(ifindex) + ": File exists (EEXIST)");
  const auto busy = open_tun({name, ns.name()});  // the name is taken by an open tun
  REQUIRE_FALSE(busy);
  CHECK_THAT(busy.error(), Catch::Contains("TUNSETIFF " + name + ": "));

  tun = TunFd();  // closing the fd removes the device
  const auto gone = netlink->link_state(ifindex);
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == ENODEV);
}

TEST_CASE("tun and rtnetlink: a namespace that does not exist is a clear error",
          "[engine][agent][tun]") {
  MPLANE_REQUIRE_TUN("opens tun devices");
  const auto tun = open_tun({"", "mplane-no-such-netns"});
  REQUIRE_FALSE(tun);
  CHECK_THAT(tun.error(), Catch::StartsWith("network namespace 'mplane-no-such-netns': "
                                            "/run/netns/mplane-no-such-netns: No such file"));
  const auto netlink = RtNetlink::open("mplane-no-such-netns");
  REQUIRE_FALSE(netlink);
  CHECK_THAT(netlink.error().message, Catch::Contains("/run/netns/mplane-no-such-netns"));
  CHECK_FALSE(open_tun({std::string(IFNAMSIZ, 'x'), ""}));
  auto here = RtNetlink::open("");
  REQUIRE(here);
  const auto nodev = here->set_mtu(0x7ffffff0, 1400);
  REQUIRE_FALSE(nodev);
  CHECK(nodev.error().code == ENODEV);
}

// One test set-up: a configured tun in a fresh namespace, read and written on a loop.
struct LoopTun {
  LoopTun() {
    REQUIRE(ns.ok());
    uv_loop_init(&loop);
    auto tun = open_tun({"", ns.name()});
    REQUIRE(tun);
    auto netlink = RtNetlink::open(ns.name());
    REQUIRE(netlink);
    REQUIRE(configure_tun(*netlink, tun->ifindex(), test_addresses(), std::nullopt));
    REQUIRE(netlink->wait_until_usable(tun->ifindex(), 5000));
    device = std::make_unique<TunDevice>(&loop, clock, std::move(*tun));
  }
  ~LoopTun() {
    bool closed = device->closed();
    if (!closed) device->close([&] { closed = true; });
    test::run_until(&loop, [&] { return closed; });
    CHECK(closed);
    CHECK(uv_loop_close(&loop) == 0);
  }
  test::TestNetns ns;
  uv_loop_t loop{};
  loop::SystemWallClock clock;
  std::unique_ptr<TunDevice> device;
};

TEST_CASE("tun: the kernel of the namespace answers echo requests written into the tun",
          "[engine][agent][tun]") {
  MPLANE_REQUIRE_TUN("creates a tun device in a network namespace");
  LoopTun t;
  REQUIRE(t.ns.ok());
  constexpr std::uint16_t kId = 0x4d50;
  std::vector<std::uint8_t> reply4, reply6;
  REQUIRE(t.device->start([&](const TunPacket& p) {
    CHECK(p.time.time_since_epoch().count() > 0);
    if (!test::is_echo_reply(p.data, kId)) return;  // e.g. the kernel's router solicitations
    ((p.data[0] >> 4) == 4 ? reply4 : reply6).assign(p.data.begin(), p.data.end());
  }));
  const auto request4 = test::echo_request4("10.2.0.2", "10.2.0.1", kId, 1400 - 28);
  const auto request6 = test::echo_request6("bbbb::2", "bbbb::1", kId);
  // As ping does, a request is sent again every 100 ms until answered: right after the address
  // is configured the kernel may still drop the first IPv6 request (its local route is added
  // from a work queue), which is not what this test is about.
  int sent = 0;
  const auto send_unanswered = [&] {
    if (reply4.empty()) CHECK(t.device->write(request4) == TunWrite::kWritten);
    if (reply6.empty()) CHECK(t.device->write(request6) == TunWrite::kWritten);
    sent += static_cast<int>(reply4.empty()) + static_cast<int>(reply6.empty());
  };
  send_unanswered();
  const auto answered = [&] { return !reply4.empty() && !reply6.empty(); };
  for (int round = 0; round < 50 && !answered(); ++round) {
    test::run_until(&t.loop, answered, 100);
    if (!answered()) send_unanswered();
  }
  REQUIRE(answered());
  CHECK(reply4.size() == request4.size());  // the whole payload came back
  CHECK(std::equal(reply4.begin() + 12, reply4.begin() + 16, request4.begin() + 16));
  CHECK(std::equal(reply4.begin() + 16, reply4.begin() + 20, request4.begin() + 12));
  CHECK(reply6.size() == request6.size());
  CHECK(std::equal(reply6.begin() + 8, reply6.begin() + 24, request6.begin() + 24));
  CHECK(std::equal(reply6.begin() + 24, reply6.begin() + 40, request6.begin() + 8));
  const TunCounters& c = t.device->counters();
  CHECK(c.written_packets == static_cast<std::uint64_t>(sent));
  CHECK(c.written_bytes >= request4.size() + request6.size());
  CHECK(c.read_packets >= 2);
  CHECK(c.read_bytes >= request4.size() + request6.size());
  CHECK(c.write_errors == 0);

  // Not IP: the kernel refuses it, and it is counted.
  const std::vector<std::uint8_t> junk(40, 0x11);
  CHECK(t.device->write(junk) == TunWrite::kRefused);
  CHECK(t.device->counters().write_errors == 1);
  CHECK_THAT(t.device->last_error(), Catch::Contains("Invalid argument (EINVAL)"));
}

TEST_CASE("tun: writes after close are refused, close is idempotent", "[engine][agent][tun]") {
  MPLANE_REQUIRE_TUN("creates a tun device in a network namespace");
  LoopTun t;
  REQUIRE(t.device->start([](const TunPacket&) {}));
  int closes = 0;
  t.device->close([&] { ++closes; });
  t.device->close([&] { closes += 10; });  // ignored
  CHECK(t.device->write(test::echo_request4("10.2.0.2", "10.2.0.1", 1)) == TunWrite::kClosed);
  REQUIRE(test::run_until(&t.loop, [&] { return closes != 0; }));
  CHECK(closes == 1);
}

// The write queue with a real loop, without root: TunDevice over one end of a non-blocking
// SOCK_SEQPACKET pair (packets keep their boundaries, as on a tun) with a small send buffer, so
// that writes do block.
TEST_CASE("tun device: writes that would block wait in the bounded queue, in order",
          "[engine][agent]") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
  const int small = 4096;
  REQUIRE(::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
  uv_loop_t loop;
  uv_loop_init(&loop);
  loop::SystemWallClock clock;
  constexpr std::size_t kQueue = 8;
  auto device = std::make_unique<TunDevice>(&loop, clock, TunFd(fds[0], "pair0", 0), kQueue);
  std::vector<std::uint8_t> echoed;
  REQUIRE(device->start([&](const TunPacket& p) { echoed.assign(p.data.begin(), p.data.end()); }));
  // Fill the socket until a write has to wait, then the queue, then drop.
  std::vector<std::uint8_t> packet(1000, 0x45);
  std::uint32_t n = 0;
  const auto next = [&] {
    std::memcpy(packet.data() + 4, &n, sizeof n);
    return device->write(packet);
  };
  TunWrite w = TunWrite::kWritten;
  for (; n < 10'000 && (w = next()) == TunWrite::kWritten; ++n) {
  }
  REQUIRE(w == TunWrite::kQueued);
  const std::uint32_t first_queued = n++;
  for (std::size_t i = 1; i < kQueue; ++i, ++n) CHECK(next() == TunWrite::kQueued);
  CHECK(next() == TunWrite::kDropped);
  CHECK(device->counters().queue_drops == 1);
  CHECK(device->queued() == kQueue);
  // The peer reads everything: the queue drains in order once the fd is writable.
  std::vector<std::uint32_t> order;
  const auto read_peer = [&] {
    std::uint8_t buf[2048];
    for (ssize_t got; (got = ::recv(fds[1], buf, sizeof buf, 0)) > 0;) {
      std::uint32_t seq = 0;
      std::memcpy(&seq, buf + 4, sizeof seq);
      order.push_back(seq);
    }
    return device->queued() == 0;
  };
  REQUIRE(test::run_until(&loop, read_peer));
  read_peer();
  REQUIRE(order.size() == first_queued + kQueue);
  for (std::uint32_t i = 0; i < order.size(); ++i) CHECK(order[i] == i);
  CHECK(device->counters().queued_packets == kQueue);
  CHECK(device->counters().written_packets == first_queued + kQueue);
  // And the read side: a packet from the peer is handed over whole.
  const std::vector<std::uint8_t> in{0x60, 1, 2, 3, 4};
  REQUIRE(::send(fds[1], in.data(), in.size(), 0) == 5);
  REQUIRE(test::run_until(&loop, [&] { return !echoed.empty(); }));
  CHECK(echoed == in);
  CHECK(device->counters().read_packets == 1);
  bool closed = false;
  device->close([&] { closed = true; });
  REQUIRE(test::run_until(&loop, [&] { return closed; }));
  ::close(fds[1]);
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("packet queue: bounded, in order, slots reused", "[engine][agent]") {
  PacketQueue q(2);
  const std::vector<std::uint8_t> a{1, 2, 3}, b{4}, c{5, 6};
  CHECK(q.push(a));
  CHECK(q.push(b));
  CHECK_FALSE(q.push(c));  // full: the owner counts a drop
  CHECK(q.size() == 2);
  CHECK(std::vector<std::uint8_t>(q.front().begin(), q.front().end()) == a);
  q.pop();
  CHECK(q.push(c));
  CHECK(std::vector<std::uint8_t>(q.front().begin(), q.front().end()) == b);
  q.pop();
  CHECK(std::vector<std::uint8_t>(q.front().begin(), q.front().end()) == c);
  q.pop();
  CHECK(q.empty());
}

}  // namespace
}  // namespace mplane::agent
