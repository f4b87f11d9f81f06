// A Linux tun device (IFF_TUN | IFF_NO_PI: whole IP packets, no packet-information header) read
// and written from a libuv loop.
//
// open_tun() creates the device, optionally inside a named network namespace (the fd works from
// the caller's namespace afterwards: see netns.h). TunDevice then watches the non-blocking fd
// with a uv_poll_t, reads at most kPacketsPerWakeup packets per wake-up (STYLE C9) and hands each
// to its owner; write() hands a packet to the kernel, or keeps it in a bounded queue while the fd
// would block, and drops (counted) what does not fit.
//
// The device is not persistent: it disappears when its fd is closed (TunDevice::close(), or
// TunFd's destructor), with its addresses and routes.
//
// Threading: TunDevice runs on its loop's thread only. Lifetime (STYLE C7): call close() and
// destroy the device only after `on_closed` ran (or from inside it).
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "engine/agent/packet_queue.h"
#include "engine/loop/clock.h"
#include "parsers/base/result.h"

namespace mplane::agent {

struct TunOptions {
  std::string name;   // the interface name; empty: the kernel picks "tunN"
  std::string netns;  // a namespace name (/run/netns/NAME); empty: the caller's namespace
};

// An open tun fd and the interface it created. Closing the fd (destruction) removes the device.
class TunFd {
 public:
  TunFd() = default;
  TunFd(int fd, std::string name, int ifindex)
      : fd_(fd), name_(std::move(name)), ifindex_(ifindex) {}
  TunFd(TunFd&& other) noexcept;
  TunFd& operator=(TunFd&& other) noexcept;
  TunFd(const TunFd&) = delete;
  TunFd& operator=(const TunFd&) = delete;
  ~TunFd();

  int fd() const noexcept { return fd_; }
  const std::string& name() const noexcept { return name_; }  // e.g. "tun0"
  int ifindex() const noexcept { return ifindex_; }           // in the device's namespace
  // Gives up ownership of the fd (the caller closes it).
  int release() noexcept;

 private:
  int fd_ = -1;
  std::string name_;
  int ifindex_ = 0;
};

// Creates the device. Errors name the step and errno: "/dev/net/tun: No such file or directory
// (ENOENT)", "TUNSETIFF tun-x: Device or resource busy (EBUSY)" (a tun of that name is open
// elsewhere), "... Operation not permitted (EPERM)" (needs CAP_NET_ADMIN), a namespace that
// does not exist, a name of IFNAMSIZ bytes or more.
[[nodiscard]] Result<TunFd> open_tun(const TunOptions& options);

// One packet read from the tun: `data` valid only during the callback.
struct TunPacket {
  std::span<const std::uint8_t> data;
  loop::WallTime time;  // when it was read (the injected wall clock)
};

struct TunCounters {
  std::uint64_t read_packets = 0;  // from the kernel (to be sent on the bus)
  std::uint64_t read_bytes = 0;
  std::uint64_t written_packets = 0;  // handed to the kernel (received from the bus)
  std::uint64_t written_bytes = 0;
  std::uint64_t queued_packets = 0;  // written after waiting in the queue (fd would block)
  std::uint64_t queue_drops = 0;     // not written: the queue was full
  std::uint64_t write_errors = 0;    // refused by the kernel (EINVAL: not IP; EIO: link down)
  std::uint64_t read_errors = 0;
};

enum class TunWrite : std::uint8_t { kWritten, kQueued, kDropped, kRefused, kClosed };

class TunDevice {
 public:
  using PacketFn = std::function<void(const TunPacket&)>;

  static constexpr int kPacketsPerWakeup = 64;            // reads per readable wake-up
  static constexpr std::size_t kReadBufferBytes = 65536;  // the largest tun MTU fits
  static constexpr std::size_t kDefaultWriteQueuePackets = 1024;

  // `loop` and `clock` must outlive the device. Takes the fd; does not start reading.
  TunDevice(uv_loop_t* loop, const loop::WallClock& clock, TunFd tun,
            std::size_t write_queue_packets = kDefaultWriteQueuePackets);
  ~TunDevice();  // aborts if the loop still holds the handle (close() not finished, C7)
  TunDevice(const TunDevice&) = delete;
  TunDevice& operator=(const TunDevice&) = delete;

  // Starts watching the fd; `on_packet` is called on the loop for every packet read, and may
  // call write() or close(). Errors: uv_poll_init/uv_poll_start failures, already started.
  [[nodiscard]] Status<> start(PacketFn on_packet);

  // Writes one IP packet into the tun (the kernel receives it as if from the wire). kQueued:
  // kept until the fd is writable (order preserved); kDropped: the queue was full; kRefused:
  // the kernel refused it (counted, last_error() says why); kClosed: close() was called.
  TunWrite write(std::span<const std::uint8_t> packet) noexcept;

  // Stops reading, drops the queue, closes the fd (the device disappears), then calls
  // `on_closed` on the loop (from inside close() only when start() never registered the fd with
  // the loop). Idempotent: later calls are ignored.
  void close(std::function<void()> on_closed);

  // Whether close() finished: the fd is closed and the device may be destroyed.
  bool closed() const noexcept { return closed_; }
  const std::string& name() const noexcept { return tun_.name(); }
  int ifindex() const noexcept { return tun_.ifindex(); }
  const TunCounters& counters() const noexcept { return counters_; }
  std::size_t queued() const noexcept { return queue_.size(); }
  const std::string& last_error() const noexcept { return last_error_; }

 private:
  void on_poll(int status, int events) noexcept;
  void read_some() noexcept;
  void drain_queue() noexcept;
  enum class Attempt : std::uint8_t { kDone, kWouldBlock, kFailed };
  Attempt write_now(std::span<const std::uint8_t> packet) noexcept;
  void watch(bool writable) noexcept;
  void record_error(std::string text) noexcept;
  static void poll_cb(uv_poll_t* handle, int status, int events) noexcept;
  static void close_cb(uv_handle_t* handle) noexcept;

  uv_loop_t* loop_;
  const loop::WallClock& clock_;
  TunFd tun_;
  uv_poll_t poll_{};
  bool started_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool watching_writable_ = false;
  PacketQueue queue_;
  std::unique_ptr<std::uint8_t[]> read_buffer_;
  TunCounters counters_;
  std::string last_error_;
  PacketFn on_packet_;
  std::function<void()> on_closed_;
};

}  // namespace mplane::agent
