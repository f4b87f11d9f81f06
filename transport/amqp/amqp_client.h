// An AMQP 0-9-1 client (rabbitmq-c) driven from a libuv loop: publishes to one exchange, consumes
// from a private queue bound to that exchange, and reconnects by itself when the broker goes away.
// What the IP-over-AMQP agent and router (issue 13) stand on; they never see rabbitmq-c.
//
// Threading: everything, callbacks included, runs on the loop's thread; no call is thread-safe.
//
// Blocking: connect() and each reconnection attempt do the TCP connect, the login and the queue
// set-up blocking, bounded by `handshake_timeout_ms` in total (a refused connection returns at
// once). close() waits at most kCloseTimeoutMs for the broker's close-ok. Once connected nothing
// blocks: frames are read as the socket becomes readable (uv_poll), a message is written only
// when the socket's send buffer has room for all of it, otherwise it waits in a bounded output
// queue, and when that is full it is dropped and counted.
//
// Lifetime: the client owns its libuv handles and closes them in close() (also called by the
// destructor); they are freed by their close callbacks, so the loop must run once more after the
// client is closed or destroyed (before uv_loop_close). No callback runs after close().
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/base/result.h"
#include "transport/amqp/amqp_url.h"

namespace mplane::transport::amqp {

struct AmqpOptions {
  // Publishes go to it and the consumer queue is bound to it. It must exist: it is never declared
  // (amq.topic always exists on RabbitMQ).
  std::string exchange = "amq.topic";
  // Routing keys (topic patterns allowed) of the consumer queue; none: no queue, no consumer.
  std::vector<std::string> bindings;
  // Heartbeat proposed to the broker, in seconds (0: none). The negotiated value is heartbeat_s().
  std::uint16_t heartbeat_s = 10;
  // Total deadline of one connection attempt: TCP connect, login, channel, queue set-up.
  std::uint32_t handshake_timeout_ms = 3000;
  // Bounds of the output queue (messages waiting for room in the socket's send buffer).
  std::size_t max_queued_messages = 4096;
  std::size_t max_queued_bytes = 8u << 20;
  // A delivery with a larger body is acked and dropped (counted), never buffered.
  std::size_t max_delivery_bytes = 1u << 20;
  // Reconnection delays: initial doubling up to max, each drawn in [d/2, d] (jitter).
  std::uint32_t backoff_initial_ms = 100;
  std::uint32_t backoff_max_ms = 5000;
};

enum class AmqpState {
  kIdle,          // constructed, connect() not called or failed
  kConnected,     // publishing and consuming
  kReconnecting,  // lost; the next attempt is on a timer
  kClosed,        // close() called: final
};

std::string_view to_string(AmqpState s) noexcept;

// A message received. The views are valid only during the delivery callback.
struct AmqpDelivery {
  std::string_view routing_key;
  std::string_view content_type;  // empty when the publisher set none
  std::span<const std::uint8_t> body;
};

struct AmqpCounters {
  std::uint64_t published = 0;  // messages written to the socket
  std::uint64_t published_bytes = 0;
  std::uint64_t delivered = 0;  // messages handed to the delivery callback (all acked)
  std::uint64_t delivered_bytes = 0;
  std::uint64_t dropped_queue_full = 0;    // publish() while the output queue was full
  std::uint64_t dropped_disconnected = 0;  // publish() while not connected, or queued when lost
  std::uint64_t dropped_too_large = 0;     // deliveries above max_delivery_bytes
  std::uint64_t heartbeats_sent = 0;
  std::uint64_t reconnects = 0;     // successful reconnections after a loss
  std::size_t queued_messages = 0;  // in the output queue now
  std::size_t queued_bytes = 0;
};

struct AmqpCallbacks {
  // Each delivery, in order; acked after the callback returns. May call publish() or close().
  std::function<void(const AmqpDelivery&)> on_delivery;
  // Each change of state, with the reason (the error that lost the connection, …).
  // kConnected follows every successful connect() and reconnection: the place to (re)publish
  // announcements (the agent's "component ready"). May call publish() or close().
  std::function<void(AmqpState, std::string_view why)> on_state;
};

enum class PublishOutcome { kSent, kQueued, kDropped };

class AmqpClient {
 public:
  static constexpr std::uint32_t kCloseTimeoutMs = 1000;

  AmqpClient(uv_loop_t* loop, AmqpUrl url, AmqpOptions options, AmqpCallbacks callbacks);
  ~AmqpClient();
  AmqpClient(const AmqpClient&) = delete;
  AmqpClient& operator=(const AmqpClient&) = delete;

  // The first connection (blocking, see above). On error (unreachable broker, refused login,
  // missing exchange, …: the message says which) the state stays kIdle and connect() may be
  // called again; no reconnection is scheduled. On success the state is kConnected and later
  // losses are repaired by reconnection.
  Status<> connect();

  // Publishes `body` with `routing_key` and `content_type` (empty: none) to the exchange. kSent:
  // written to the socket; kQueued: copied to the output queue; kDropped: not connected or the
  // queue is full (counted). Does not wait for the broker, except for a message larger than
  // half the socket's send buffer (hundreds of KiB): that one is written once the buffer is
  // empty and waits for the broker to take it. Delivery is not confirmed (no publisher
  // confirms). May be called from the callbacks.
  PublishOutcome publish(std::string_view routing_key, std::string_view content_type,
                         std::span<const std::uint8_t> body) noexcept;

  // Sends connection.close (best effort, bounded), closes the socket and the handles. Queued
  // messages are dropped uncounted. Idempotent; on_state(kClosed) is the last callback.
  void close() noexcept;

  AmqpState state() const noexcept { return state_; }
  // The heartbeat in seconds agreed with the broker on the current connection (0: none).
  int heartbeat_s() const noexcept { return heartbeat_s_; }
  const AmqpCounters& counters() const noexcept { return counters_; }
  // Why the last attempt or connection failed ("" if none has).
  const std::string& last_error() const noexcept { return last_error_; }
  const AmqpUrl& url() const noexcept { return url_; }

 private:
  struct Connection;
  struct OutputQueue;
  struct Inbound;

  Status<> attempt();  // throws only std::bad_alloc, like everything here: OOM aborts
  void lost(std::string why) noexcept;
  void schedule_reconnect() noexcept;
  void set_state(AmqpState s, std::string_view why) noexcept;
  void update_poll() noexcept;
  void drain_input() noexcept;
  bool handle_frame(const void* frame) noexcept;
  bool deliver() noexcept;
  void flush_output() noexcept;
  void flush_ack() noexcept;
  bool send_publish(std::string_view routing_key, std::string_view content_type,
                    std::span<const std::uint8_t> body) noexcept;
  bool has_room(std::size_t bytes) const noexcept;
  void on_heartbeat_tick() noexcept;

  static void on_poll(uv_poll_t* h, int status, int events) noexcept;
  static void on_drain_idle(uv_idle_t* h) noexcept;
  static void on_heartbeat_timer(uv_timer_t* h) noexcept;
  static void on_reconnect_timer(uv_timer_t* h) noexcept;

  uv_loop_t* loop_;
  AmqpUrl url_;
  AmqpOptions options_;
  AmqpCallbacks callbacks_;
  AmqpState state_ = AmqpState::kIdle;
  AmqpCounters counters_;
  std::string last_error_;
  int heartbeat_s_ = 0;
  std::uint32_t attempts_ = 0;  // failed attempts since the loss
  std::uint64_t rng_;
  // Heap handles, freed by their close callbacks (they may outlive the client by a loop turn).
  uv_timer_t* heartbeat_timer_;
  uv_timer_t* reconnect_timer_;
  uv_idle_t* drain_idle_;
  std::unique_ptr<Connection> conn_;
  std::unique_ptr<OutputQueue> queue_;
  std::unique_ptr<Inbound> inbound_;
};

}  // namespace mplane::transport::amqp
