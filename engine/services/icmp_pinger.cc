// ICMP echo prober: socket selection, request encoding, reply matching and loss timing.
//
// Packet layout (RFC 792 / RFC 4443 echo): type, code, checksum, identifier, sequence, then our
// payload: cookie (8 bytes), payload stamp (8), full 32-bit sequence number (4), filler. The
// payload is read only by us, so it is in host byte order.
#include "engine/services/icmp_pinger.h"

#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace mplane::services {
namespace {

constexpr std::uint8_t kEchoRequest4 = 8;
constexpr std::uint8_t kEchoReply4 = 0;
constexpr std::uint8_t kEchoRequest6 = 128;
constexpr std::uint8_t kEchoReply6 = 129;
constexpr std::size_t kIcmpHeaderBytes = 8;
constexpr std::size_t kIpv4MinHeaderBytes = 20;
constexpr std::size_t kCookieOffset = kIcmpHeaderBytes;
constexpr std::size_t kStampOffset = kCookieOffset + 8;
constexpr std::size_t kSeqOffset = kStampOffset + 8;
constexpr std::size_t kPayloadUsedEnd = kSeqOffset + 4;
constexpr std::size_t kRequestBytes = kIcmpHeaderBytes + IcmpPinger::kPayloadBytes;
static_assert(kPayloadUsedEnd <= kRequestBytes);
// Replies are 64 bytes plus an IPv4 header; anything longer than this is not ours.
constexpr std::size_t kRecvBytes = 512;
// Reads per poll wakeup (STYLE C9, libuv's own budget): then yield to the rest of the loop.
constexpr int kReadsPerWakeup = 32;
// linux/icmp.h ICMP_FILTER on SOL_RAW: a bit mask of the ICMP types to *block*. Spelt out here
// because linux/icmp.h clashes with the glibc network headers.
constexpr int kIcmpFilterOption = 1;
struct IcmpFilter {
  std::uint32_t blocked;
};

[[noreturn]] void die(const char* what) noexcept {
  std::fprintf(stderr, "mplane: IcmpPinger: %s\n", what);
  std::abort();
}

std::string errno_text(int e) {
  const char* name = strerrorname_np(e);
  return std::string(name != nullptr ? name : "errno " + std::to_string(e)) + ": " +
         std::strerror(e);
}

std::string uv_text(int code) { return std::string(uv_err_name(code)) + ": " + uv_strerror(code); }

std::string address_text(const model::Address& a) {
  char buf[model::kMaxScalarChars];
  return std::string(buf, model::format_address(buf, a));
}

// A datagram ICMP socket that the system refuses for policy or support reasons: try raw.
bool is_refusal(int e) noexcept {
  switch (e) {
    case EACCES:           // not in net.ipv4.ping_group_range
    case EPERM:            // LSM policy
    case EPROTONOSUPPORT:  // kernel without ping sockets
    case ESOCKTNOSUPPORT:
      return true;
    default:
      return false;  // resource errors (EMFILE, ENOBUFS, …) would hit the raw socket too
  }
}

const char* send_failure(int e) noexcept {
  switch (e) {
    case EAGAIN:
      return "socket buffer full, probe not sent";
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EHOSTDOWN:
      return "destination unreachable";
    case EACCES:
    case EPERM:
      return "sending refused (firewall, or a broadcast destination)";
    case ENOBUFS:
    case ENOMEM:
      return "out of kernel buffers";
    case EMSGSIZE:
      return "message too long";
    case EINVAL:
    case EADDRNOTAVAIL:
      return "destination not usable (blackhole route, or invalid for this socket)";
    default:
      return "unexpected error";
  }
}

// RFC 1071 Internet checksum of `size` bytes; a buffer with a valid checksum sums to 0.
std::uint16_t internet_checksum(const std::uint8_t* p, std::size_t size) noexcept {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < size; i += 2) sum += (std::uint32_t{p[i]} << 8) | p[i + 1];
  if (size % 2 != 0) sum += std::uint32_t{p[size - 1]} << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

void put_be16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
std::uint16_t get_be16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

socklen_t to_sockaddr(const model::Address& a, sockaddr_storage& out) noexcept {
  std::memset(&out, 0, sizeof out);
  if (a.family == 4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, a.bytes, 4);
    return sizeof *sin;
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out);
  sin6->sin6_family = AF_INET6;
  std::memcpy(&sin6->sin6_addr, a.bytes, 16);
  return sizeof *sin6;
}

Status<> check_address(const model::Address& a, const char* role) {
  if (a.family != 4 && a.family != 6) return fail(std::string(role) + ": unknown address family");
  if (a.has_prefix()) return fail(std::string(role) + " must be a plain address, not a network");
  return Ok{};
}

// The cookie and identifier need only be unlikely to collide with another prober's, so a
// clock-derived value is an acceptable fallback when the system's random source fails.
std::uint64_t random_u64(const void* salt) noexcept {
  std::uint64_t v = 0;
  if (uv_random(nullptr, nullptr, &v, sizeof v, 0, nullptr) == 0) return v;
  v = uv_hrtime() ^ reinterpret_cast<std::uintptr_t>(salt);
  v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ULL;  // splitmix64 finaliser
  v = (v ^ (v >> 27)) * 0x94d049bb133111ebULL;
  return v ^ (v >> 31);
}

}  // namespace

std::string_view to_string(IcmpSocketKind kind) noexcept {
  switch (kind) {
    case IcmpSocketKind::kNone:
      return "none";
    case IcmpSocketKind::kDatagram:
      return "datagram";
    case IcmpSocketKind::kRaw:
      return "raw";
  }
  return "?";
}

IcmpPinger::IcmpPinger(uv_loop_t* loop, MonoClock& clock) : loop_(loop), clock_(clock) {
  // uv_timer_init cannot fail on Unix (it only initialises the struct and registers it).
  if (uv_timer_init(loop_, &timer_) != 0) die("uv_timer_init failed");
  timer_.data = this;
  const std::uint64_t r = random_u64(this);
  cookie_ = r;
  ident_ = static_cast<std::uint16_t>(r >> 48);
}

IcmpPinger::~IcmpPinger() {
  if (!closed_) die("destroyed before close() completed (STYLE C7)");
}

Status<> IcmpPinger::open(const model::Address& destination,
                          const std::optional<model::Address>& source) {
  if (closing_) return fail("ICMP pinger: closed");
  if (fd_ >= 0) return fail("ICMP pinger: already open");
  if (auto s = check_address(destination, "destination"); !s) return s;
  if (source) {
    if (auto s = check_address(*source, "source"); !s) return s;
    if (source->family != destination.family) {
      return fail("source address " + address_text(*source) + " is not of the family of " +
                  address_text(destination));
    }
  }
  dest_ = destination;
  if (auto s = open_socket(destination.family == 4 ? AF_INET : AF_INET6); !s) return s;
  if (auto s = configure_socket(source); !s) {
    ::close(fd_);  // a fresh socket: nothing to flush, and the error we report is the one above
    fd_ = -1;
    kind_ = IcmpSocketKind::kNone;
    return s;
  }
  return start_polling();
}

Status<> IcmpPinger::open_socket(int family) {
  const int proto = family == AF_INET ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6};
  const int flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
  int fd = ::socket(family, SOCK_DGRAM | flags, proto);
  if (fd >= 0) {
    fd_ = fd;
    family_ = family;
    kind_ = IcmpSocketKind::kDatagram;
    return Ok{};
  }
  const int dgram_error = errno;
  if (!is_refusal(dgram_error)) return fail("ICMP datagram socket: " + errno_text(dgram_error));
  fd = ::socket(family, SOCK_RAW | flags, proto);
  if (fd < 0) {
    return fail("ICMP datagram socket refused (" + errno_text(dgram_error) +
                "; see net.ipv4.ping_group_range) and raw socket refused (" + errno_text(errno) +
                "; needs CAP_NET_RAW)");
  }
  fd_ = fd;
  family_ = family;
  kind_ = IcmpSocketKind::kRaw;
  return Ok{};
}

Status<> IcmpPinger::configure_socket(const std::optional<model::Address>& source) {
  if (source) {
    sockaddr_storage sa;
    const socklen_t len = to_sockaddr(*source, sa);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&sa), len) != 0) {
      const int e = errno;
      const char* why = e == EADDRNOTAVAIL ? " (not a local address)" : "";
      return fail("bind to " + address_text(*source) + why + ": " + errno_text(e));
    }
  }
  if (kind_ != IcmpSocketKind::kRaw) return Ok{};
  // Raw sockets see all ICMP traffic of the host: let the kernel drop all but echo replies.
  int rc = 0;
  if (family_ == AF_INET) {
    const IcmpFilter filter{~(std::uint32_t{1} << kEchoReply4)};
    rc = ::setsockopt(fd_, SOL_RAW, kIcmpFilterOption, &filter, sizeof filter);
  } else {
    icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
    rc = ::setsockopt(fd_, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
  }
  if (rc != 0) return fail("setting the ICMP type filter: " + errno_text(errno));
  return Ok{};
}

Status<> IcmpPinger::start_polling() {
  if (int rc = uv_poll_init(loop_, &poll_, fd_); rc != 0) {
    ::close(fd_);  // the handle was not registered: the fd is ours alone
    fd_ = -1;
    kind_ = IcmpSocketKind::kNone;
    return fail("uv_poll_init: " + uv_text(rc));
  }
  poll_.data = this;
  poll_open_ = true;
  if (int rc = uv_poll_start(&poll_, UV_READABLE, &IcmpPinger::poll_cb); rc != 0) {
    return fail("uv_poll_start: " + uv_text(rc) + "; close the pinger");
  }
  return Ok{};
}

std::size_t IcmpPinger::build_request(std::uint8_t* out, std::uint32_t seq,
                                      std::int64_t stamp) const {
  out[0] = family_ == AF_INET ? kEchoRequest4 : kEchoRequest6;
  out[1] = 0;
  put_be16(out + 2, 0);
  put_be16(out + 4, ident_);  // datagram sockets: the kernel replaces it with its own
  put_be16(out + 6, static_cast<std::uint16_t>(seq));
  std::memcpy(out + kCookieOffset, &cookie_, 8);
  std::memcpy(out + kStampOffset, &stamp, 8);
  std::memcpy(out + kSeqOffset, &seq, 4);
  for (std::size_t i = kPayloadUsedEnd; i < kRequestBytes; ++i) {
    out[i] = static_cast<std::uint8_t>(i);
  }
  // The kernel computes the checksum for datagram sockets and for every ICMPv6 socket.
  if (family_ == AF_INET && kind_ == IcmpSocketKind::kRaw) {
    put_be16(out + 2, internet_checksum(out, kRequestBytes));
  }
  return kRequestBytes;
}

Status<> IcmpPinger::send_probe() {
  if (closing_) return fail("ICMP pinger: closed");
  if (fd_ < 0 || !poll_open_) return fail("ICMP pinger: not open");
  Probe& slot = probes_[next_seq_ % kMaxOutstanding];
  if (slot.pending) return fail("ICMP pinger: too many outstanding probes");
  std::uint8_t packet[kRequestBytes];
  const std::int64_t stamp = now_ns();
  const std::size_t size = build_request(packet, next_seq_, stamp);
  if (auto s = send_bytes(packet, size); !s) return s;
  slot = Probe{next_seq_, now_ns(), stamp, true};
  ++next_seq_;
  ++counters_.sent;
  if (uv_is_active(reinterpret_cast<uv_handle_t*>(&timer_)) == 0) arm_timer();
  return Ok{};
}

Status<> IcmpPinger::send_bytes(const std::uint8_t* data, std::size_t size) {
  sockaddr_storage sa;
  const socklen_t len = to_sockaddr(dest_, sa);
  for (;;) {
    const ssize_t n =
        ::sendto(fd_, data, size, MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&sa), len);
    if (n == static_cast<ssize_t>(size)) return Ok{};
    if (n >= 0) return fail("ICMP send to " + address_text(dest_) + ": short send");
    const int e = errno;
    if (e == EINTR) continue;
    return fail("ICMP send to " + address_text(dest_) + ": " + send_failure(e) + " (" +
                errno_text(e) + ")");
  }
}

void IcmpPinger::on_readable(int status, int events) noexcept {
  if (closing_) return;
  if (status < 0) {
    // libuv has already stopped the watcher: outstanding probes will time out.
    record_error("ICMP socket poll: " + uv_text(status));
    return;
  }
  if ((events & UV_READABLE) == 0) return;
  std::uint8_t buf[kRecvBytes];
  for (int i = 0; i < kReadsPerWakeup && !closing_; ++i) {
    // MSG_TRUNC: return the real length, so a truncated (foreign, large) packet is detected.
    const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_TRUNC);
    if (n < 0) {
      const int e = errno;
      if (e == EINTR) continue;
      if (e == EAGAIN) return;  // drained (EWOULDBLOCK == EAGAIN on Linux)
      record_error("ICMP recv: " + errno_text(e));
      return;
    }
    const std::int64_t now = now_ns();
    if (static_cast<std::size_t>(n) > sizeof buf) {
      ++counters_.ignored;
      continue;
    }
    on_packet(buf, static_cast<std::size_t>(n), now);
  }
}

void IcmpPinger::on_packet(const std::uint8_t* data, std::size_t size, std::int64_t now) noexcept {
  const std::uint8_t* icmp = data;
  std::size_t len = size;
  const bool raw = kind_ == IcmpSocketKind::kRaw;
  if (raw && family_ == AF_INET) {  // only raw IPv4 sockets deliver the IP header
    const std::size_t ihl = size > 0 ? std::size_t{data[0] & 0x0fu} * 4 : 0;
    if (size < kIpv4MinHeaderBytes || (data[0] >> 4) != 4 || ihl < kIpv4MinHeaderBytes ||
        ihl > size) {
      ++counters_.ignored;
      return;
    }
    icmp += ihl;
    len -= ihl;
    // The kernel hands raw sockets the packet before ICMP checks it (ICMPv6 raw sockets and
    // datagram sockets get checked packets).
    if (len >= kIcmpHeaderBytes && internet_checksum(icmp, len) != 0) {
      ++counters_.ignored;
      return;
    }
  }
  if (len < kIcmpHeaderBytes) {
    ++counters_.ignored;
    return;
  }
  if (icmp[0] != (family_ == AF_INET ? kEchoReply4 : kEchoReply6)) {
    ++(raw ? counters_.unrelated : counters_.ignored);
    return;
  }
  if (raw && get_be16(icmp + 4) != ident_) {  // another prober's reply
    ++counters_.unrelated;
    return;
  }
  on_echo_reply(icmp, len, now);
}

void IcmpPinger::on_echo_reply(const std::uint8_t* icmp, std::size_t size,
                               std::int64_t now) noexcept {
  std::uint64_t cookie = 0;
  std::int64_t stamp = 0;
  std::uint32_t seq = 0;
  if (size < kPayloadUsedEnd || icmp[1] != 0) {
    ++counters_.ignored;
    return;
  }
  std::memcpy(&cookie, icmp + kCookieOffset, 8);
  std::memcpy(&stamp, icmp + kStampOffset, 8);
  std::memcpy(&seq, icmp + kSeqOffset, 4);
  Probe& p = probes_[seq % kMaxOutstanding];
  if (cookie != cookie_ || get_be16(icmp + 6) != static_cast<std::uint16_t>(seq) || !p.pending ||
      p.seq != seq || p.stamp_ns != stamp) {
    ++counters_.ignored;  // foreign, corrupt, duplicate or already declared lost
    return;
  }
  p.pending = false;
  // A fake clock may run backwards; a measured time is never negative.
  const std::int64_t rtt = now > p.sent_ns ? now - p.sent_ns : 0;
  if (rtt >= timeout_ns_) {  // the timer has not run yet, but the probe is late: lost
    ++counters_.lost;
    if (on_loss_) on_loss_(seq);
    return;
  }
  ++counters_.received;
  if (on_reply_) on_reply_(PingReply{seq, p.sent_ns, rtt});
}

void IcmpPinger::set_timeout_ms(std::uint32_t ms) {
  timeout_ns_ = std::int64_t{ms} * 1'000'000;
  if (!closing_ && uv_is_active(reinterpret_cast<uv_handle_t*>(&timer_)) != 0) arm_timer();
}

void IcmpPinger::on_timer() noexcept {
  if (closing_) return;
  expire(now_ns());
  if (!closing_) arm_timer();
}

// Declares lost, in sequence order, every pending probe older than the timeout.
void IcmpPinger::expire(std::int64_t now) noexcept {
  while (oldest_ != next_seq_ && !closing_) {
    Probe& p = probes_[oldest_ % kMaxOutstanding];
    if (p.pending && p.seq == oldest_) {
      if (now - p.sent_ns < timeout_ns_) return;
      p.pending = false;
      ++counters_.lost;
      const std::uint32_t seq = oldest_++;
      if (on_loss_) on_loss_(seq);  // may send or close: our state is consistent here
      continue;
    }
    ++oldest_;
  }
}

// Arms the timer for the oldest pending probe's deadline (loop timers have millisecond
// resolution: round up, so the probe is due when the timer fires), or stops it.
void IcmpPinger::arm_timer() noexcept {
  while (oldest_ != next_seq_ && !probes_[oldest_ % kMaxOutstanding].pending) ++oldest_;
  if (oldest_ == next_seq_) {
    uv_timer_stop(&timer_);  // always 0
    return;
  }
  const Probe& p = probes_[oldest_ % kMaxOutstanding];
  const std::int64_t left_ns = p.sent_ns + timeout_ns_ - now_ns();
  const std::uint64_t ms =
      left_ns <= 0 ? 0 : static_cast<std::uint64_t>((left_ns + 999'999) / 1'000'000);
  if (int rc = uv_timer_start(&timer_, &IcmpPinger::timer_cb, ms, 0); rc != 0) {
    record_error("uv_timer_start: " + uv_text(rc));  // only when closing, which we excluded
  }
}

void IcmpPinger::close(std::function<void()> on_closed) {
  if (closing_) return;
  closing_ = true;
  on_closed_ = std::move(on_closed);
  handles_to_close_ = poll_open_ ? 2 : 1;
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &IcmpPinger::close_cb);
  if (poll_open_) uv_close(reinterpret_cast<uv_handle_t*>(&poll_), &IcmpPinger::close_cb);
}

void IcmpPinger::on_handle_closed() noexcept {
  if (--handles_to_close_ > 0) return;
  // The socket is closed only now: libuv forbids closing an fd that an active poll watches.
  // On Linux, close() releases the descriptor even when it reports an error.
  if (fd_ >= 0 && ::close(fd_) != 0) record_error("closing the ICMP socket: " + errno_text(errno));
  fd_ = -1;
  poll_open_ = false;
  closed_ = true;
  auto done = std::move(on_closed_);
  if (done) done();  // may destroy this pinger: touch nothing after
}

void IcmpPinger::record_error(std::string text) noexcept {
  ++counters_.errors;
  last_error_ = std::move(text);
}

void IcmpPinger::poll_cb(uv_poll_t* h, int status, int events) noexcept {
  static_cast<IcmpPinger*>(h->data)->on_readable(status, events);
}

void IcmpPinger::timer_cb(uv_timer_t* h) noexcept { static_cast<IcmpPinger*>(h->data)->on_timer(); }

void IcmpPinger::close_cb(uv_handle_t* h) noexcept {
  static_cast<IcmpPinger*>(h->data)->on_handle_closed();
}

}  // namespace mplane::services
