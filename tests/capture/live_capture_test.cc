// Live capture on the loopback interface (needs root; skipped with a message otherwise): the
// test makes TCP connections with known byte counts while capturing, and the records must say
// exactly what was sent.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "capture/analyzer.h"
#include "capture/source/pcap_source.h"
#include "tests/net_support.h"

namespace mplane::capture {
namespace {

void send_all(int fd, std::size_t n) {
  const std::string chunk(16384, 'z');
  while (n > 0) {
    const ssize_t sent = ::send(fd, chunk.data(), std::min(n, chunk.size()), MSG_NOSIGNAL);
    REQUIRE(sent > 0);
    n -= static_cast<std::size_t>(sent);
  }
}

void receive_all(int fd, std::size_t n) {
  char buf[16384];
  while (n > 0) {
    const ssize_t got = ::recv(fd, buf, std::min(n, sizeof buf), 0);
    REQUIRE(got > 0);
    n -= static_cast<std::size_t>(got);
  }
}

// One connection: the client sends `up` bytes, the server answers `down` bytes, both close.
std::uint16_t exchange(int lfd, std::uint16_t port, std::size_t up, std::size_t down) {
  const int c = test::connect_loopback(port);
  sockaddr_in local{};
  socklen_t len = sizeof local;
  getsockname(c, reinterpret_cast<sockaddr*>(&local), &len);
  const int s = accept(lfd, nullptr, nullptr);
  REQUIRE(s >= 0);
  std::thread server([&] {
    receive_all(s, up);
    send_all(s, down);
    char b;
    REQUIRE(::recv(s, &b, 1, 0) == 0);  // the client's FIN
    ::close(s);
  });
  send_all(c, up);
  receive_all(c, down);
  ::shutdown(c, SHUT_WR);
  char b;
  REQUIRE(::recv(c, &b, 1, 0) == 0);  // the server's FIN
  server.join();
  ::close(c);
  return ntohs(local.sin_port);
}

TEST_CASE("live capture on lo: records match the bytes sent", "[capture][live][root]") {
  if (::geteuid() != 0) {
    WARN("skipped: live capture needs root (CAP_NET_RAW)");
    return;
  }
  std::uint16_t port = 0;
  const int lfd = test::loopback_socket(port, 16);
  SourceOptions o;
  o.interface = "lo";
  o.filter = "tcp port " + std::to_string(port);
  auto src = PcapSource::open(o);
  if (!src) FAIL(src.error());
  std::map<std::uint16_t, FlowRecord> records;  // by client port
  Analyzer analyzer((*src)->link_type(), {},
                    [&](const FlowRecord& r) { records[r.client_port] = r; });
  std::atomic<bool> stop{false};
  std::thread capture([&] {
    const PcapSource::PacketFn fn = [&](std::int64_t ts, auto frame, std::uint32_t len) {
      analyzer.packet(ts, frame, len);
    };
    while (!stop) REQUIRE((*src)->read(1024, fn).ok());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the capture is running
  const std::pair<std::size_t, std::size_t> sizes[] = {
      {100, 2000}, {1, 1}, {70'000, 5}, {1'000'000, 300'000}};
  std::map<std::uint16_t, std::pair<std::size_t, std::size_t>> sent;
  for (const auto& [up, down] : sizes) sent[exchange(lfd, port, up, down)] = {up, down};
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the last packets arrive
  stop = true;
  capture.join();
  analyzer.finish();
  ::close(lfd);

  REQUIRE(records.size() == sent.size());
  for (const auto& [client_port, bytes] : sent) {
    CAPTURE(client_port, bytes.first, bytes.second);
    REQUIRE(records.count(client_port));
    const FlowRecord& r = records[client_port];
    CHECK(r.server_port == port);
    CHECK(r.c2s.payload_bytes == bytes.first);
    CHECK(r.s2c.payload_bytes == bytes.second);
    CHECK(r.c2s.unique_bytes == bytes.first);
    CHECK(r.s2c.unique_bytes == bytes.second);
    CHECK(r.c2s.retrans_packets + r.s2c.retrans_packets == 0);
    CHECK(r.c2s.syn == 1);
    CHECK(r.s2c.syn == 1);
    CHECK(r.c2s.fin == 1);
    CHECK(r.s2c.fin == 1);
    CHECK(r.end == EndState::kComplete);
    CHECK(r.handshake_rtt >= 0);
    // IP lengths: payload plus 40 to 60 bytes of IPv4 and TCP headers per packet.
    for (const DirectionStats* d : {&r.c2s, &r.s2c}) {
      CHECK(d->bytes >= d->payload_bytes + 40 * d->packets);
      CHECK(d->bytes <= d->payload_bytes + 60 * d->packets);
    }
  }
  CHECK(analyzer.counters().malformed_total() == 0);
  CHECK((*src)->stats().kernel_dropped == 0);
}

}  // namespace
}  // namespace mplane::capture
