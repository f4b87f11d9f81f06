// Live capture on the loopback interface (needs root; skipped with a message otherwise): the
// test makes TCP connections with known byte counts while capturing, and the records must say
// exactly what was sent; with one source, and with two in a kernel fanout group (live shards).
// The [live] test cases run one at a time (RESOURCE_LOCK loopback_live, tests/CMakeLists.txt),
// but beside other tests: a loaded loopback may retransmit, so only what stays exact under load
// is checked exactly (unique bytes, the handshake and the end of each connection).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "capture/analyzer.h"
#include "capture/source/pcap_source.h"
#include "tests/net_support.h"
#include "tests/skip_support.h"

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

// Captures on lo with `shards` sources (one PACKET_FANOUT group when more than one, an analyser
// each) while making connections of the given sizes; the records, by client port.
struct LiveRun {
  std::uint16_t port = 0;
  std::map<std::uint16_t, std::pair<std::size_t, std::size_t>> sent;  // by client port
  std::map<std::uint16_t, FlowRecord> records;
  std::vector<std::size_t> flows_per_shard;
  std::uint64_t malformed = 0, kernel_dropped = 0;
};

LiveRun capture_exchanges(std::size_t shards,
                          const std::vector<std::pair<std::size_t, std::size_t>>& sizes) {
  LiveRun run;
  const int lfd = test::loopback_socket(run.port, 16);
  SourceOptions o;
  o.interface = "lo";
  o.filter = "tcp port " + std::to_string(run.port);
  o.fanout_group = shards > 1 ? static_cast<int>(::getpid() % 0xffff) + 1 : 0;
  std::vector<std::unique_ptr<PcapSource>> sources;
  std::vector<std::unique_ptr<Analyzer>> analyzers;
  std::mutex lock;
  run.flows_per_shard.assign(shards, 0);
  for (std::size_t i = 0; i < shards; ++i) {
    auto src = PcapSource::open(o);
    if (!src) FAIL(src.error());
    analyzers.push_back(std::make_unique<Analyzer>((*src)->link_type(), FlowTableOptions{},
                                                   [&run, &lock, i](const FlowRecord& r) {
                                                     std::lock_guard<std::mutex> hold(lock);
                                                     run.records[r.client_port] = r;
                                                     ++run.flows_per_shard[i];
                                                   }));
    sources.push_back(std::move(src.value()));
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < shards; ++i) {
    threads.emplace_back([&, i] {
      const PcapSource::PacketFn fn = [&](std::int64_t ts, auto frame, std::uint32_t len) {
        analyzers[i]->packet(ts, frame, len);
      };
      while (!stop) REQUIRE(sources[i]->read(1024, fn).ok());
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the capture is running
  for (const auto& [up, down] : sizes) run.sent[exchange(lfd, run.port, up, down)] = {up, down};
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the last packets arrive
  stop = true;
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < shards; ++i) {
    analyzers[i]->finish();
    run.malformed += analyzers[i]->counters().malformed_total();
    run.kernel_dropped += sources[i]->stats().kernel_dropped;
  }
  ::close(lfd);
  return run;
}

// Each connection whole in one record, with exactly the bytes sent.
void check_records(const LiveRun& run) {
  REQUIRE(run.records.size() == run.sent.size());
  for (const auto& [client_port, bytes] : run.sent) {
    CAPTURE(client_port, bytes.first, bytes.second);
    REQUIRE(run.records.count(client_port));
    const FlowRecord& r = run.records.at(client_port);
    CHECK(r.server_port == run.port);
    // Each byte sent counted once; a retransmission adds payload (and packets), never unique
    // bytes, and may repeat a SYN or a FIN.
    CHECK(r.c2s.unique_bytes == bytes.first);
    CHECK(r.s2c.unique_bytes == bytes.second);
    CHECK(r.c2s.payload_bytes >= bytes.first);
    CHECK(r.s2c.payload_bytes >= bytes.second);
    CHECK(r.c2s.syn >= 1);
    CHECK(r.s2c.syn >= 1);
    CHECK(r.c2s.fin >= 1);
    CHECK(r.s2c.fin >= 1);
    CHECK(r.end == EndState::kComplete);
    CHECK(r.handshake_rtt >= 0);
    // IP lengths: payload plus 40 to 60 bytes of IPv4 and TCP headers per packet.
    for (const DirectionStats* d : {&r.c2s, &r.s2c}) {
      CHECK(d->bytes >= d->payload_bytes + 40 * d->packets);
      CHECK(d->bytes <= d->payload_bytes + 60 * d->packets);
    }
  }
  CHECK(run.malformed == 0);
  CHECK(run.kernel_dropped == 0);
}

TEST_CASE("live capture on lo: records match the bytes sent", "[capture][live][root]") {
  MPLANE_REQUIRE_ROOT("live capture opens a raw socket (CAP_NET_RAW)");
  check_records(capture_exchanges(1, {{100, 2000}, {1, 1}, {70'000, 5}, {1'000'000, 300'000}}));
}

// Two sources in one fanout group: the kernel's symmetric hash gives each shard whole
// connections (a split one would show as two half records), and both shards get some.
TEST_CASE("live capture on lo: a fanout group splits whole flows between shards",
          "[capture][live][root]") {
  MPLANE_REQUIRE_ROOT("live capture opens a raw socket (CAP_NET_RAW)");
  std::vector<std::pair<std::size_t, std::size_t>> sizes = {{70'000, 5}, {1'000'000, 300'000}};
  for (std::size_t i = 0; i < 18; ++i) sizes.emplace_back(100 + i, 2000 + i);
  const LiveRun run = capture_exchanges(2, sizes);
  check_records(run);
  CHECK(run.flows_per_shard[0] > 0);  // all 20 on one side: 2 chances in 2^20
  CHECK(run.flows_per_shard[1] > 0);
}

}  // namespace
}  // namespace mplane::capture
