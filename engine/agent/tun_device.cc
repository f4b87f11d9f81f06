#include "engine/agent/tun_device.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "engine/agent/netns.h"
#include "engine/agent/sys_error.h"

namespace mplane::agent {
namespace {

std::string uv_text(int code) { return std::string(uv_err_name(code)) + ": " + uv_strerror(code); }

}  // namespace

// --- TunFd ---

TunFd::TunFd(TunFd&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), name_(std::move(other.name_)), ifindex_(other.ifindex_) {}

TunFd& TunFd::operator=(TunFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    name_ = std::move(other.name_);
    ifindex_ = other.ifindex_;
  }
  return *this;
}

TunFd::~TunFd() {
  if (fd_ >= 0) ::close(fd_);
}

int TunFd::release() noexcept { return std::exchange(fd_, -1); }

Result<TunFd> open_tun(const TunOptions& options) {
  if (options.name.size() >= IFNAMSIZ) {
    return fail("tun name '" + options.name + "' is longer than " + std::to_string(IFNAMSIZ - 1) +
                " bytes");
  }
  auto scope = NetnsScope::enter(options.netns);  // returns to our namespace at scope end
  if (!scope) return fail(scope.error());
  const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return fail("/dev/net/tun: " + errno_text(errno));
  TunFd tun(fd, {}, 0);  // closes the fd on the error paths below
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  const std::string requested = options.name.empty() ? "tun%d" : options.name;
  std::memcpy(ifr.ifr_name, requested.c_str(), requested.size() + 1);
  if (::ioctl(fd, TUNSETIFF, &ifr) != 0) {
    return fail("TUNSETIFF " + requested + ": " + errno_text(errno));
  }
  std::string name(ifr.ifr_name, ::strnlen(ifr.ifr_name, IFNAMSIZ));
  const unsigned ifindex = ::if_nametoindex(name.c_str());  // in the tun's namespace
  if (ifindex == 0) return fail("tun " + name + ": interface index: " + errno_text(errno));
  return TunFd(tun.release(), std::move(name), static_cast<int>(ifindex));
}

// --- TunDevice ---

TunDevice::TunDevice(uv_loop_t* loop, const loop::WallClock& clock, TunFd tun,
                     std::size_t write_queue_packets)
    : loop_(loop),
      clock_(clock),
      tun_(std::move(tun)),
      queue_(write_queue_packets),
      read_buffer_(new std::uint8_t[kReadBufferBytes]) {
  poll_.data = this;
}

TunDevice::~TunDevice() {
  if (started_ && !closed_) {
    std::fprintf(stderr, "mplane: TunDevice destroyed before its close callback ran\n");
    std::abort();
  }
}

Status<> TunDevice::start(PacketFn on_packet) {
  if (started_ || closing_) return fail("tun " + name() + ": already started or closed");
  if (int rc = uv_poll_init(loop_, &poll_, tun_.fd()); rc != 0) {
    return fail("tun " + name() + ": uv_poll_init: " + uv_text(rc));
  }
  started_ = true;
  on_packet_ = std::move(on_packet);
  if (int rc = uv_poll_start(&poll_, UV_READABLE, &TunDevice::poll_cb); rc != 0) {
    return fail("tun " + name() + ": uv_poll_start: " + uv_text(rc) + "; close the device");
  }
  return Ok{};
}

TunWrite TunDevice::write(std::span<const std::uint8_t> packet) noexcept {
  if (closing_) return TunWrite::kClosed;
  if (queue_.empty()) {
    switch (write_now(packet)) {
      case Attempt::kDone:
        return TunWrite::kWritten;
      case Attempt::kFailed:
        return TunWrite::kRefused;
      case Attempt::kWouldBlock:
        break;
    }
  }
  if (!queue_.push(packet)) {
    ++counters_.queue_drops;
    return TunWrite::kDropped;
  }
  if (started_) watch(true);
  return TunWrite::kQueued;
}

TunDevice::Attempt TunDevice::write_now(std::span<const std::uint8_t> packet) noexcept {
  for (;;) {
    const ssize_t n = ::write(tun_.fd(), packet.data(), packet.size());
    if (n >= 0) {
      ++counters_.written_packets;
      counters_.written_bytes += packet.size();
      return Attempt::kDone;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Attempt::kWouldBlock;
    ++counters_.write_errors;
    record_error("tun " + name() + ": write of " + std::to_string(packet.size()) +
                 " bytes: " + errno_text(errno));
    return Attempt::kFailed;
  }
}

void TunDevice::drain_queue() noexcept {
  for (int i = 0; i < kPacketsPerWakeup && !queue_.empty(); ++i) {
    if (write_now(queue_.front()) == Attempt::kWouldBlock) return;
    ++counters_.queued_packets;  // written or refused: either way it left the queue
    queue_.pop();
  }
  if (queue_.empty()) watch(false);
}

void TunDevice::read_some() noexcept {
  for (int i = 0; i < kPacketsPerWakeup && !closing_; ++i) {
    const ssize_t n = ::read(tun_.fd(), read_buffer_.get(), kReadBufferBytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        ++counters_.read_errors;
        record_error("tun " + name() + ": read: " + errno_text(errno));
      }
      return;
    }
    if (n == 0) return;
    ++counters_.read_packets;
    counters_.read_bytes += static_cast<std::uint64_t>(n);
    const TunPacket packet{{read_buffer_.get(), static_cast<std::size_t>(n)}, clock_.wall_now()};
    if (on_packet_) on_packet_(packet);  // may close this device
  }
}

void TunDevice::on_poll(int status, int events) noexcept {
  if (closing_) return;
  if (status < 0) {
    ++counters_.read_errors;
    record_error("tun " + name() + ": poll: " + uv_text(status));
    return;
  }
  if ((events & UV_WRITABLE) != 0) drain_queue();
  if ((events & UV_READABLE) != 0) read_some();
}

void TunDevice::watch(bool writable) noexcept {
  if (writable == watching_writable_ || closing_) return;
  watching_writable_ = writable;
  const int events = UV_READABLE | (writable ? UV_WRITABLE : 0);
  if (int rc = uv_poll_start(&poll_, events, &TunDevice::poll_cb); rc != 0) {
    record_error("tun " + name() + ": uv_poll_start: " + uv_text(rc));
  }
}

void TunDevice::close(std::function<void()> on_closed) {
  if (closing_) return;
  closing_ = true;
  queue_.clear();
  on_closed_ = std::move(on_closed);
  if (!started_) {
    tun_ = TunFd();  // closing the fd removes the device
    closed_ = true;
    if (auto done = std::move(on_closed_)) done();
    return;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), &TunDevice::close_cb);
}

void TunDevice::record_error(std::string text) noexcept { last_error_ = std::move(text); }

void TunDevice::poll_cb(uv_poll_t* handle, int status, int events) noexcept {
  static_cast<TunDevice*>(handle->data)->on_poll(status, events);
}

void TunDevice::close_cb(uv_handle_t* handle) noexcept {
  auto* self = static_cast<TunDevice*>(handle->data);
  // The fd is closed only now: libuv forbids closing an fd that an active poll watches.
  self->tun_ = TunFd();
  self->closed_ = true;
  if (auto done = std::move(self->on_closed_)) done();  // may destroy the device
}

}  // namespace mplane::agent
