// IcmpPinger on a real loop with real sockets: loopback pings (IPv4, IPv6), an unanswered
// destination, malformed packets, an injected clock, and clean closing.
//
// Needs an unprivileged ICMP datagram socket (net.ipv4.ping_group_range) or root/CAP_NET_RAW;
// without either, the network tests are skipped (tests/skip_support.h).
#include "engine/services/icmp_pinger.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tests/skip_support.h"

namespace {

using mplane::loop::MonoClock;
using mplane::loop::SteadyMonoClock;
using mplane::model::Address;
using mplane::model::parse_address;
using mplane::services::IcmpPinger;
using mplane::services::IcmpSocketKind;
using mplane::services::PingReply;

constexpr std::int64_t kMs = 1'000'000;

Address addr(const char* text) {
  auto a = parse_address(text);
  REQUIRE(a.ok());
  return a.value();
}

// The test controls time: every read returns `now`.
struct ManualClock final : MonoClock {
  std::int64_t now = 1'000 * kMs;
  mplane::loop::MonoTime mono_now() const noexcept override {
    return mplane::loop::MonoTime(std::chrono::nanoseconds(now));
  }
};

// Whether this process may open an unprivileged ICMP datagram socket of `family`.
bool datagram_icmp_allowed(int family) {
  const int proto = family == AF_INET ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6};
  const int fd = ::socket(family, SOCK_DGRAM, proto);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

bool ipv6_loopback_present() {
  const int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

// One loop, one pinger, and what the pinger reported. The destructor closes everything if a
// REQUIRE failed half-way, so that the pinger is never destroyed with open handles.
class PingFixture {
 public:
  explicit PingFixture(MonoClock* clock = nullptr) {
    REQUIRE(uv_loop_init(&loop_) == 0);
    REQUIRE(uv_timer_init(&loop_, &deadline_) == 0);
    deadline_.data = this;
    pinger.emplace(&loop_, clock != nullptr ? *clock : steady_);
    pinger->set_on_reply([this](const PingReply& r) {
      replies.push_back(r);
      if (after_reply) after_reply(r);
    });
    pinger->set_on_loss([this](std::uint32_t seq) { losses.push_back(seq); });
  }
  ~PingFixture() {
    if (!shut_down_) shutdown();
  }

  // Opens the pinger; false (the test case is then skipped) when the system allows no ICMP
  // socket to us.
  bool open_or_skip(const Address& dest, const std::optional<Address>& source = std::nullopt) {
    auto s = pinger->open(dest, source);
    if (!s && s.error().find("refused") != std::string::npos && ::geteuid() != 0) {
      if (mplane::test::skips_forbidden())
        FAIL("no ICMP socket, and MPLANE_NO_SKIP=1: " << s.error());
      mplane::test::note_skip("no ICMP socket allowed (not root, ping_group_range excludes us): " +
                              s.error());
      return false;
    }
    if (!s) FAIL("open: " << s.error());
    return true;
  }

  // Runs the loop until `done()` holds; false if `deadline_ms` passed first. Never hangs.
  bool run_until(const std::function<bool()>& done, std::uint64_t deadline_ms = 5000) {
    expired_ = false;
    REQUIRE(uv_timer_start(
                &deadline_,
                [](uv_timer_t* t) { static_cast<PingFixture*>(t->data)->expired_ = true; },
                deadline_ms, 0) == 0);
    while (!done() && !expired_) uv_run(&loop_, UV_RUN_ONCE);
    REQUIRE(uv_timer_stop(&deadline_) == 0);
    return !expired_;
  }

  // Closes the pinger and the deadline timer, runs the loop dry; returns uv_loop_close().
  // A test that closed the pinger itself keeps its own on_closed (this close() is ignored).
  int shutdown() {
    shut_down_ = true;
    pinger->close(nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&deadline_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    pinger.reset();  // aborts if its handles were not all closed
    return uv_loop_close(&loop_);
  }

  uv_loop_t* loop() { return &loop_; }

  std::optional<IcmpPinger> pinger;
  std::vector<PingReply> replies;
  std::vector<std::uint32_t> losses;
  std::function<void(const PingReply&)> after_reply;

 private:
  uv_loop_t loop_{};
  uv_timer_t deadline_{};
  SteadyMonoClock steady_;
  bool expired_ = false;
  bool shut_down_ = false;
};

void check_five_replies(const PingFixture& f) {
  REQUIRE(f.replies.size() == 5);
  for (std::uint32_t i = 0; i < 5; ++i) {
    CHECK(f.replies[i].seq == i);
    CHECK(f.replies[i].rtt_ns > 0);
    CHECK(f.replies[i].rtt_ns < 1000 * kMs);
  }
  CHECK(f.losses.empty());
  const auto& c = f.pinger->counters();
  CHECK(c.sent == 5);
  CHECK(c.received == 5);
  CHECK(c.lost == 0);
  CHECK(c.ignored == 0);
  CHECK(c.errors == 0);
}

// An ICMP packet as the pinger's socket would deliver it: raw IPv4 sockets add an IP header.
std::vector<std::uint8_t> as_delivered(const IcmpPinger& p, std::vector<std::uint8_t> icmp) {
  if (!p.uses_raw_socket()) return icmp;
  std::vector<std::uint8_t> pkt = {0x45, 0, 0,   0, 0, 0, 0,   0, 64, 1,
                                   0,    0, 127, 0, 0, 1, 127, 0, 0,  1};
  pkt.insert(pkt.end(), icmp.begin(), icmp.end());
  return pkt;
}

// An IPv4 echo reply with a valid checksum and `payload_bytes` zero bytes of payload.
std::vector<std::uint8_t> echo_reply4(std::uint16_t ident, std::uint16_t seq,
                                      std::size_t payload_bytes) {
  std::vector<std::uint8_t> m(8 + payload_bytes, 0);
  m[4] = static_cast<std::uint8_t>(ident >> 8);
  m[5] = static_cast<std::uint8_t>(ident);
  m[6] = static_cast<std::uint8_t>(seq >> 8);
  m[7] = static_cast<std::uint8_t>(seq);
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < m.size(); i += 2) sum += (m[i] << 8) | m[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  m[2] = static_cast<std::uint8_t>(~sum >> 8);
  m[3] = static_cast<std::uint8_t>(~sum);
  return m;
}

}  // namespace

TEST_CASE("IcmpPinger gets five replies from 127.0.0.1", "[services][icmp][net]") {
  PingFixture f;
  if (!f.open_or_skip(addr("127.0.0.1"))) return;
  INFO("socket kind: " << mplane::services::to_string(f.pinger->socket_kind()));
  CHECK(f.pinger->uses_raw_socket() == !datagram_icmp_allowed(AF_INET));
  for (int i = 0; i < 5; ++i) REQUIRE(f.pinger->send_probe().ok());  // all outstanding at once
  REQUIRE(f.run_until([&] { return f.replies.size() + f.losses.size() >= 5; }));
  check_five_replies(f);
  CHECK(f.shutdown() == 0);
}

TEST_CASE("IcmpPinger gets five replies from ::1", "[services][icmp][net]") {
  if (!ipv6_loopback_present()) MPLANE_SKIP("no IPv6 loopback address ::1 on this machine");
  PingFixture f;
  if (!f.open_or_skip(addr("::1"))) return;
  INFO("socket kind: " << mplane::services::to_string(f.pinger->socket_kind()));
  CHECK(f.pinger->uses_raw_socket() == !datagram_icmp_allowed(AF_INET6));
  f.after_reply = [&](const PingReply&) {  // one probe at a time, sent from the callback
    if (f.pinger->next_seq() < 5) REQUIRE(f.pinger->send_probe().ok());
  };
  REQUIRE(f.pinger->send_probe().ok());
  REQUIRE(f.run_until([&] { return f.replies.size() + f.losses.size() >= 5; }));
  check_five_replies(f);
  CHECK(f.shutdown() == 0);
}

TEST_CASE("IcmpPinger binds to a source address", "[services][icmp][net]") {
  PingFixture f;
  if (!f.open_or_skip(addr("127.0.0.1"), addr("127.0.0.1"))) return;
  REQUIRE(f.pinger->send_probe().ok());
  REQUIRE(f.run_until([&] { return !f.replies.empty() || !f.losses.empty(); }));
  CHECK(f.replies.size() == 1);
  CHECK(f.shutdown() == 0);
}

TEST_CASE("IcmpPinger rejects bad address combinations", "[services][icmp]") {
  PingFixture f;
  auto mixed = f.pinger->open(addr("::1"), addr("127.0.0.1"));
  REQUIRE_FALSE(mixed.ok());
  CHECK(mixed.error() == "source address 127.0.0.1 is not of the family of ::1");
  auto network = f.pinger->open(*parse_address("10.0.0.0/8", true), std::nullopt);
  REQUIRE_FALSE(network.ok());
  CHECK(network.error() == "destination must be a plain address, not a network");
  // Not a local address: bind fails (or, without privileges, the socket itself is refused).
  auto not_local = f.pinger->open(addr("127.0.0.1"), addr("192.0.2.77"));
  REQUIRE_FALSE(not_local.ok());
  INFO(not_local.error());
  CHECK((not_local.error().find("bind to 192.0.2.77 (not a local address)") == 0 ||
         not_local.error().find("refused") != std::string::npos));
  CHECK(f.pinger->socket_kind() == IcmpSocketKind::kNone);
  CHECK(f.shutdown() == 0);
}

TEST_CASE("IcmpPinger send_probe needs an open pinger", "[services][icmp]") {
  PingFixture f;
  auto before = f.pinger->send_probe();
  REQUIRE_FALSE(before.ok());
  CHECK(before.error() == "ICMP pinger: not open");
  f.pinger->close(nullptr);
  auto after = f.pinger->send_probe();
  REQUIRE_FALSE(after.ok());
  CHECK(after.error() == "ICMP pinger: closed");
  CHECK(f.pinger->counters().sent == 0);
  CHECK(f.shutdown() == 0);  // its close() is ignored: the first one is already under way
}

// 192.0.2.0/24 is TEST-NET-1 (RFC 5737). On the development machine it is the local subnet and
// 192.0.2.1, the gateway, answers pings; 192.0.2.200 is unused, so ARP fails and nothing answers.
// Elsewhere it may be unroutable: then send_probe() returns the error, which is also a pass.
TEST_CASE("IcmpPinger reports losses after the timeout", "[services][icmp][net]") {
  PingFixture f;
  if (!f.open_or_skip(addr("192.0.2.200"))) return;
  f.pinger->set_timeout_ms(100);
  const std::uint64_t start = uv_hrtime();
  for (int i = 0; i < 3; ++i) {
    auto s = f.pinger->send_probe();
    if (!s) {
      WARN("192.0.2.200 is not reachable here, send fails as an error value: " << s.error());
      CHECK(s.error().find("ICMP send to 192.0.2.200: ") == 0);
      CHECK(f.shutdown() == 0);
      return;
    }
  }
  REQUIRE(f.run_until([&] { return f.replies.size() + f.losses.size() >= 3; }, 3000));
  CHECK(uv_hrtime() - start >= 100 * kMs);
  CHECK(f.replies.empty());
  CHECK(f.losses == std::vector<std::uint32_t>{0, 1, 2});
  CHECK(f.pinger->counters().lost == 3);
  CHECK(f.shutdown() == 0);
}

TEST_CASE("IcmpPinger measures with the injected clock", "[services][icmp][net]") {
  ManualClock clock;
  PingFixture f(&clock);
  if (!f.open_or_skip(addr("127.0.0.1"))) return;
  const std::int64_t t0 = clock.now;
  REQUIRE(f.pinger->send_probe().ok());
  clock.now += 777'000;  // the reply is read later, on the loop
  REQUIRE(f.run_until([&] { return !f.replies.empty() || !f.losses.empty(); }));
  REQUIRE(f.replies.size() == 1);
  CHECK(f.replies[0].sent_ns == t0);
  CHECK(f.replies[0].rtt_ns == 777'000);

  SECTION("a reply later than the timeout is a loss, even before the timer runs") {
    f.pinger->set_timeout_ms(100);
    REQUIRE(f.pinger->send_probe().ok());
    clock.now += 100 * kMs;
    REQUIRE(f.run_until([&] { return f.replies.size() + f.losses.size() >= 2; }));
    CHECK(f.replies.size() == 1);
    CHECK(f.losses == std::vector<std::uint32_t>{1});
  }
  CHECK(f.shutdown() == 0);
}

TEST_CASE("IcmpPinger counts malformed and foreign packets", "[services][icmp][net]") {
  PingFixture f;
  if (!f.open_or_skip(addr("127.0.0.1"))) return;
  IcmpPinger& p = *f.pinger;
  REQUIRE(p.send_probe().ok());  // seq 0 outstanding
  const std::uint16_t id = p.identifier();
  const std::vector<std::vector<std::uint8_t>> bad = {
      {},
      as_delivered(p, {0, 0, 0}),               // shorter than an ICMP header
      as_delivered(p, echo_reply4(id, 0, 0)),   // no payload
      as_delivered(p, echo_reply4(id, 0, 56)),  // wrong cookie
      as_delivered(p, echo_reply4(id, 9, 56)),  // no such probe
  };
  for (const auto& pkt : bad) p.handle_packet_for_test(pkt.data(), pkt.size());
  std::uint64_t expected_ignored = bad.size();
  if (p.uses_raw_socket()) {
    const std::vector<std::vector<std::uint8_t>> raw_bad = {
        {0x46, 0, 0, 0},                                                   // truncated IP header
        {0x4f, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8},  // IHL past the end
        {0x65, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8},  // not IPv4
    };
    for (const auto& pkt : raw_bad) p.handle_packet_for_test(pkt.data(), pkt.size());
    auto corrupt = as_delivered(p, echo_reply4(id, 0, 56));
    corrupt.back() ^= 1;  // checksum no longer matches
    p.handle_packet_for_test(corrupt.data(), corrupt.size());
    expected_ignored += raw_bad.size() + 1;
    auto foreign = as_delivered(p, echo_reply4(static_cast<std::uint16_t>(id + 1), 0, 56));
    p.handle_packet_for_test(foreign.data(), foreign.size());
    CHECK(p.counters().unrelated == 1);
  }
  CHECK(p.counters().ignored == expected_ignored);
  CHECK(f.replies.empty());
  CHECK(f.losses.empty());
  // The real reply still matches.
  REQUIRE(f.run_until([&] { return !f.replies.empty() || !f.losses.empty(); }));
  CHECK(f.replies.size() == 1);
  CHECK(f.shutdown() == 0);
}

TEST_CASE("IcmpPinger close stops callbacks and is idempotent", "[services][icmp][net]") {
  PingFixture f;
  if (!f.open_or_skip(addr("127.0.0.1"))) return;
  for (int i = 0; i < 3; ++i) REQUIRE(f.pinger->send_probe().ok());
  bool closed = false;
  f.pinger->close([&] { closed = true; });
  CHECK_FALSE(closed);  // never from inside close()
  f.pinger->close([] { FAIL("second on_closed must be dropped"); });
  CHECK(f.run_until([&] { return closed; }));
  CHECK(f.replies.empty());  // the replies were on the socket, but no callback fired
  CHECK(f.losses.empty());
  CHECK(f.shutdown() == 0);
}

TEST_CASE("IcmpPinger closes without ever being opened", "[services][icmp]") {
  PingFixture f;
  bool closed = false;
  f.pinger->close([&] { closed = true; });
  CHECK_FALSE(closed);
  CHECK(f.run_until([&] { return closed; }));
  CHECK(f.shutdown() == 0);
}
