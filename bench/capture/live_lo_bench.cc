// Live capture on the loopback interface (issue 5): UDP packets are sent to a local socket at
// increasing rates while the analyser captures them (the product's PcapSource and Analyzer on
// one thread); each step reports packets sent, captured, and dropped by the kernel. Needs
// root. Traffic goes to 127.0.0.1 only, bounded in count and time.
//
//   live_lo_bench [SECONDS_PER_STEP]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "capture/analyzer.h"
#include "capture/source/pcap_source.h"

namespace {

using namespace mplane::capture;
using Clock = std::chrono::steady_clock;

struct Step {
  std::uint64_t sent = 0, captured = 0, dropped = 0;
  double seconds = 0;
};

// Sends 64-byte UDP datagrams to `port` at `rate` per second (0: as fast as possible).
std::uint64_t send_for(std::uint16_t port, double rate, double seconds) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  char payload[64] = {};
  constexpr int kBurst = 32;
  std::vector<mmsghdr> msgs(kBurst);
  std::vector<iovec> iov(kBurst);
  for (int i = 0; i < kBurst; ++i) {
    iov[i] = {payload, sizeof payload};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &to;
    msgs[i].msg_hdr.msg_namelen = sizeof to;
  }
  std::uint64_t sent = 0;
  const auto start = Clock::now();
  for (;;) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (elapsed >= seconds) break;
    if (rate > 0 && sent >= rate * elapsed) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      continue;
    }
    const int n = sendmmsg(fd, msgs.data(), kBurst, 0);
    if (n > 0) sent += static_cast<std::uint64_t>(n);
  }
  ::close(fd);
  return sent;
}

Step run_step(double rate, double seconds) {
  // A receiver that never reads: the datagrams still cross lo (and are dropped at its socket).
  const int sink = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(sink, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(sink, reinterpret_cast<sockaddr*>(&a), &len);
  const std::uint16_t port = ntohs(a.sin_port);
  SourceOptions o;
  o.interface = "lo";
  o.filter = "udp dst port " + std::to_string(port);
  auto src = PcapSource::open(o);
  if (!src) {
    std::fprintf(stderr, "live_lo_bench: %s\n", src.error().c_str());
    std::exit(1);
  }
  Analyzer analyzer((*src)->link_type(), {}, [](const FlowRecord&) {});
  std::atomic<bool> stop{false};
  std::thread capture([&] {
    const PcapSource::PacketFn fn = [&](std::int64_t ts, auto frame, std::uint32_t l) {
      analyzer.packet(ts, frame, l);
    };
    while (!stop) (void)(*src)->read(65536, fn);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  Step s;
  const auto start = Clock::now();
  s.sent = send_for(port, rate, seconds);
  s.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  capture.join();
  s.captured = analyzer.counters().packets;
  s.dropped = (*src)->stats().kernel_dropped;
  ::close(sink);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (::geteuid() != 0) {
    std::fprintf(stderr, "live_lo_bench: needs root (live capture)\n");
    return 2;
  }
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  double best = 0;
  for (double rate : {100e3, 200e3, 400e3, 800e3, 0.0}) {
    const Step s = run_step(rate, seconds);
    const double pps = s.sent / s.seconds;
    std::printf("target %-9s sent %8.0f pkt/s  captured %llu of %llu  kernel drops %llu\n",
                rate > 0 ? std::to_string(static_cast<long>(rate)).c_str() : "max", pps,
                static_cast<unsigned long long>(s.captured),
                static_cast<unsigned long long>(s.sent),
                static_cast<unsigned long long>(s.dropped));
    if (s.dropped == 0 && s.captured >= s.sent) best = std::max(best, pps);
  }
  std::printf("highest rate captured without kernel drops: %.0f pkt/s\n", best);
  return 0;
}
