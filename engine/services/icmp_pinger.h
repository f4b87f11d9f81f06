// A non-blocking ICMP / ICMPv6 echo prober on a libuv loop, for the `ping` measurement service.
//
// The pinger sends Echo Requests to one destination when its owner asks (send_probe()), matches
// replies to the outstanding sequence numbers, measures each round-trip time with an injected
// monotonic clock and reports a probe as lost when no reply came within the timeout. The owner
// decides the schedule and aggregates (min/mean/max/count, packets.lost).
//
// Sockets: an unprivileged ICMP datagram socket ("ping socket", allowed by
// net.ipv4.ping_group_range) is tried first; if the system refuses it, a raw socket (root or
// CAP_NET_RAW). The socket is non-blocking and watched with a uv_poll_t.
//
// Threading: everything, including the callbacks, runs on the loop thread.
// Lifetime (STYLE C7): the pinger embeds libuv handles. Call close() and destroy it only after
// its `on_closed` callback has run (or from inside it); destroying it earlier aborts.
#pragma once

#include <uv.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "engine/loop/clock.h"
#include "parsers/base/result.h"
#include "parsers/mplane/primitive.h"

namespace mplane::services {

// Measured times come from the injected monotonic clock (engine/loop/clock.h): tests control
// them with a manual clock, production uses loop::SteadyMonoClock (uv_hrtime()).
using loop::MonoClock;

// One answered probe.
struct PingReply {
  std::uint32_t seq;     // the probe's sequence number (0, 1, 2, … in send order)
  std::int64_t sent_ns;  // clock time read when the send syscall returned
  std::int64_t rtt_ns;   // clock time read when the reply was read, minus sent_ns; >= 0
};

struct PingCounters {
  std::uint64_t sent = 0;      // echo requests handed to the kernel
  std::uint64_t received = 0;  // replies reported through the reply callback
  std::uint64_t lost = 0;      // probes reported through the loss callback
  // Malformed or short packets, bad checksums, and echo replies carrying our identifier that
  // do not match an outstanding probe: wrong cookie, unknown, duplicate or late sequence.
  std::uint64_t ignored = 0;
  // Raw sockets only: ICMP traffic of the host that is not for us (other message types, such
  // as our own requests looped back, and echo replies with another identifier).
  std::uint64_t unrelated = 0;
  std::uint64_t errors = 0;  // failed recv / poll calls (see last_error())
};

enum class IcmpSocketKind : std::uint8_t { kNone, kDatagram, kRaw };
std::string_view to_string(IcmpSocketKind kind) noexcept;  // "none", "datagram", "raw"

class IcmpPinger {
 public:
  // Called on the loop thread. The callbacks may call send_probe() or close().
  using ReplyFn = std::function<void(const PingReply&)>;
  using LossFn = std::function<void(std::uint32_t seq)>;  // no reply within the timeout

  static constexpr std::uint32_t kDefaultTimeoutMs = 1000;
  // Outstanding probes kept for matching; send_probe() fails when the oldest is still waiting.
  static constexpr std::size_t kMaxOutstanding = 1024;
  static constexpr std::size_t kPayloadBytes = 56;  // as ping(8): 64-byte ICMP messages

  // `loop` and `clock` must outlive the pinger. Initialises the timeout timer on `loop`.
  IcmpPinger(uv_loop_t* loop, MonoClock& clock);
  ~IcmpPinger();
  IcmpPinger(const IcmpPinger&) = delete;
  IcmpPinger& operator=(const IcmpPinger&) = delete;

  // Set these before open(), not from inside a callback.
  void set_on_reply(ReplyFn fn) { on_reply_ = std::move(fn); }
  void set_on_loss(LossFn fn) { on_loss_ = std::move(fn); }

  // Opens the socket for `destination`, bound to `source` if given. Both must be plain
  // addresses (no prefix) of the same family. IPv6 link-local destinations are not supported
  // (Address carries no scope). Errors: bad addresses, "already open"/"closed", both socket
  // kinds refused (the text names both reasons), bind or poll failures. On error nothing stays
  // open and open() may be tried again, except after a uv_poll_start failure (the text says
  // "close the pinger").
  [[nodiscard]] Status<> open(const model::Address& destination,
                              const std::optional<model::Address>& source);

  // Sends one echo request with the next sequence number. Errors: not open, closing,
  // kMaxOutstanding probes waiting, or the send failing (e.g. ENETUNREACH, EAGAIN when the
  // socket buffer is full); on error nothing is counted and the sequence number is not used.
  [[nodiscard]] Status<> send_probe();

  // A probe without a reply after this many milliseconds is lost; a reply that arrives later
  // is ignored. Applies to outstanding probes too. Default kDefaultTimeoutMs.
  void set_timeout_ms(std::uint32_t ms);

  // Stops both callbacks at once, closes the handles and the socket, then calls `on_closed`
  // on the loop (never from inside close()). Idempotent: later calls are ignored, and their
  // `on_closed` is dropped.
  void close(std::function<void()> on_closed);

  IcmpSocketKind socket_kind() const noexcept { return kind_; }
  bool uses_raw_socket() const noexcept { return kind_ == IcmpSocketKind::kRaw; }
  // Raw sockets: the identifier we put in requests. Datagram sockets: the kernel's choice,
  // unknown to us (0).
  std::uint16_t identifier() const noexcept { return kind_ == IcmpSocketKind::kRaw ? ident_ : 0; }
  const PingCounters& counters() const noexcept { return counters_; }
  // The last recv/poll/close failure seen on the loop, for logs; empty if none.
  const std::string& last_error() const noexcept { return last_error_; }
  std::uint32_t next_seq() const noexcept { return next_seq_; }

  // Handles one received packet exactly as if the socket had delivered it (tests only).
  void handle_packet_for_test(const std::uint8_t* data, std::size_t size) noexcept {
    on_packet(data, size, now_ns());
  }

 private:
  struct Probe {
    std::uint32_t seq = 0;
    std::int64_t sent_ns = 0;
    std::int64_t stamp_ns = 0;  // the timestamp written into the payload
    bool pending = false;
  };

  Status<> open_socket(int family);
  Status<> configure_socket(const std::optional<model::Address>& source);
  Status<> start_polling();
  std::size_t build_request(std::uint8_t* out, std::uint32_t seq, std::int64_t stamp) const;
  Status<> send_bytes(const std::uint8_t* data, std::size_t size);
  void on_readable(int status, int events) noexcept;
  void on_packet(const std::uint8_t* data, std::size_t size, std::int64_t now) noexcept;
  void on_echo_reply(const std::uint8_t* icmp, std::size_t size, std::int64_t now) noexcept;
  void on_timer() noexcept;
  void expire(std::int64_t now) noexcept;
  void arm_timer() noexcept;
  void on_handle_closed() noexcept;
  void record_error(std::string text) noexcept;

  static void poll_cb(uv_poll_t* h, int status, int events) noexcept;
  static void timer_cb(uv_timer_t* h) noexcept;
  static void close_cb(uv_handle_t* h) noexcept;

  uv_loop_t* loop_;
  std::int64_t now_ns() const noexcept { return clock_.mono_now().time_since_epoch().count(); }
  MonoClock& clock_;
  uv_poll_t poll_{};
  uv_timer_t timer_{};
  bool poll_open_ = false;
  bool closing_ = false;
  bool closed_ = false;  // all handles closed: the pinger may be destroyed
  int handles_to_close_ = 0;
  int fd_ = -1;
  int family_ = 0;  // AF_INET or AF_INET6 once open
  IcmpSocketKind kind_ = IcmpSocketKind::kNone;
  model::Address dest_{};
  std::uint16_t ident_ = 0;
  std::uint64_t cookie_ = 0;
  std::int64_t timeout_ns_ = std::int64_t{kDefaultTimeoutMs} * 1'000'000;
  std::uint32_t next_seq_ = 0;
  std::uint32_t oldest_ = 0;  // no probe below this sequence number is pending
  std::array<Probe, kMaxOutstanding> probes_{};
  PingCounters counters_;
  std::string last_error_;
  ReplyFn on_reply_;
  LossFn on_loss_;
  std::function<void()> on_closed_;
};

}  // namespace mplane::services
