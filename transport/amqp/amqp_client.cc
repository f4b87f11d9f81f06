#include "transport/amqp/amqp_client.h"

#include <amqp.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <deque>

#include "transport/amqp/amqp_handshake.h"

namespace mplane::transport::amqp {

namespace {

// Frames read per readable event before yielding to the loop (libuv reads 32 per event).
constexpr int kFrameBudget = 64;
// A publish is a method, a header and body frames: their headers and the routing key on top of
// the body, with room to spare.
constexpr std::size_t kPublishOverhead = 512;

amqp_bytes_t as_bytes(std::string_view s) {
  return amqp_bytes_t{s.size(), const_cast<char*>(s.data())};
}

std::string_view as_view(amqp_bytes_t b) { return {static_cast<const char*>(b.bytes), b.len}; }

template <class Handle>
void free_handle(uv_handle_t* h) noexcept {
  delete reinterpret_cast<Handle*>(h);
}

template <class Handle>
void close_handle(Handle* h) noexcept {
  uv_close(reinterpret_cast<uv_handle_t*>(h), free_handle<Handle>);
}

}  // namespace

std::string_view to_string(AmqpState s) noexcept {
  switch (s) {
    case AmqpState::kIdle:
      return "idle";
    case AmqpState::kConnected:
      return "connected";
    case AmqpState::kReconnecting:
      return "reconnecting";
    case AmqpState::kClosed:
      return "closed";
  }
  return "unknown";
}

// One live connection: rabbitmq-c's state and the poll handle watching its socket.
struct AmqpClient::Connection {
  amqp_connection_state_t amqp = nullptr;
  uv_poll_t* poll = nullptr;
  int fd = -1;
  int poll_events = 0;
  std::uint64_t last_recv_ms = 0;
  std::uint64_t last_send_ms = 0;
  std::uint64_t unacked_tag = 0;  // the last delivery not yet acked (acks are cumulative)

  ~Connection() {
    if (poll != nullptr) {
      uv_poll_stop(poll);
      close_handle(poll);
    }
    if (amqp != nullptr) amqp_destroy_connection(amqp);
  }
};

struct AmqpClient::OutputQueue {
  struct Message {
    std::string routing_key;
    std::string content_type;
    std::vector<std::uint8_t> body;
    std::size_t size() const { return routing_key.size() + content_type.size() + body.size(); }
  };
  std::deque<Message> messages;
};

// The delivery being assembled: basic.deliver, then a header frame, then body frames.
struct AmqpClient::Inbound {
  enum class Expect { kMethod, kHeader, kBody } expect = Expect::kMethod;
  std::uint64_t tag = 0;
  std::string routing_key;
  std::string content_type;
  std::vector<std::uint8_t> body;
  std::size_t body_size = 0;
  std::size_t received = 0;
  bool too_large = false;
};

AmqpClient::AmqpClient(uv_loop_t* loop, AmqpUrl url, AmqpOptions options, AmqpCallbacks callbacks)
    : loop_(loop),
      url_(std::move(url)),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      rng_(uv_hrtime() | 1),
      heartbeat_timer_(new uv_timer_t),
      reconnect_timer_(new uv_timer_t),
      drain_idle_(new uv_idle_t),
      queue_(std::make_unique<OutputQueue>()),
      inbound_(std::make_unique<Inbound>()) {
  uv_timer_init(loop_, heartbeat_timer_);
  uv_timer_init(loop_, reconnect_timer_);
  uv_idle_init(loop_, drain_idle_);
  heartbeat_timer_->data = reconnect_timer_->data = drain_idle_->data = this;
}

AmqpClient::~AmqpClient() { close(); }

Status<> AmqpClient::connect() {
  if (state_ != AmqpState::kIdle)
    return fail("connect() on a client that is " + std::string(to_string(state_)));
  if (Status<> s = attempt(); !s) return s;
  set_state(AmqpState::kConnected, "connected to " + url_.redacted());
  return Ok{};
}

Status<> AmqpClient::attempt() {
  Result<amqp_connection_state_t> session = open_session(url_, options_);
  if (!session) {
    last_error_ = url_.redacted() + ": " + session.error();
    return fail(last_error_);
  }
  conn_ = std::make_unique<Connection>();
  conn_->amqp = *session;
  conn_->fd = amqp_get_sockfd(conn_->amqp);
  conn_->poll = new uv_poll_t;  // NOLINT(bugprone-unhandled-exception-at-new): OOM aborts
  uv_poll_init_socket(loop_, conn_->poll, conn_->fd);
  conn_->poll->data = this;
  conn_->last_recv_ms = conn_->last_send_ms = uv_now(loop_);
  heartbeat_s_ = amqp_get_heartbeat(conn_->amqp);
  *inbound_ = Inbound{};
  update_poll();
  if (heartbeat_s_ > 0) {
    const std::uint64_t tick = static_cast<std::uint64_t>(heartbeat_s_) * 1000 / 2;
    uv_timer_start(heartbeat_timer_, on_heartbeat_timer, tick, tick);
  }
  // Deliveries may have arrived with basic.consume-ok: they sit in rabbitmq-c's buffer, where
  // uv_poll cannot see them.
  uv_idle_start(drain_idle_, on_drain_idle);
  return Ok{};
}

void AmqpClient::set_state(AmqpState s, std::string_view why) noexcept {
  state_ = s;
  if (callbacks_.on_state) callbacks_.on_state(s, why);
}

void AmqpClient::lost(std::string why) noexcept {
  if (state_ != AmqpState::kConnected) return;
  last_error_ = std::move(why);
  uv_timer_stop(heartbeat_timer_);
  uv_idle_stop(drain_idle_);
  conn_.reset();
  counters_.dropped_disconnected += queue_->messages.size();
  queue_->messages.clear();
  counters_.queued_messages = counters_.queued_bytes = 0;
  attempts_ = 0;
  set_state(AmqpState::kReconnecting, last_error_);
  if (state_ == AmqpState::kReconnecting) schedule_reconnect();
}

void AmqpClient::schedule_reconnect() noexcept {
  const std::uint32_t shift = std::min<std::uint32_t>(attempts_, 20);
  const std::uint64_t ceiling = std::min<std::uint64_t>(
      options_.backoff_max_ms, static_cast<std::uint64_t>(options_.backoff_initial_ms) << shift);
  rng_ ^= rng_ << 13;  // xorshift64: jitter only, no need for more
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  const std::uint64_t delay = ceiling / 2 + rng_ % (ceiling / 2 + 1);
  uv_timer_start(reconnect_timer_, on_reconnect_timer, delay, 0);
}

void AmqpClient::on_reconnect_timer(uv_timer_t* h) noexcept {
  auto* self = static_cast<AmqpClient*>(h->data);
  if (self->state_ != AmqpState::kReconnecting) return;
  if (!self->attempt()) {
    ++self->attempts_;
    self->schedule_reconnect();
    return;
  }
  ++self->counters_.reconnects;
  self->set_state(AmqpState::kConnected, "reconnected to " + self->url_.redacted());
}

void AmqpClient::update_poll() noexcept {
  const int events = UV_READABLE | UV_DISCONNECT | (queue_->messages.empty() ? 0 : UV_WRITABLE);
  if (events == conn_->poll_events) return;
  conn_->poll_events = events;
  uv_poll_start(conn_->poll, events, on_poll);
}

void AmqpClient::on_poll(uv_poll_t* h, int status, int events) noexcept {
  auto* self = static_cast<AmqpClient*>(h->data);
  if (self->state_ != AmqpState::kConnected) return;
  if (status < 0) return self->lost(std::string("socket error: ") + uv_strerror(status));
  if ((events & (UV_READABLE | UV_DISCONNECT)) != 0) {
    // Broker heartbeats are swallowed by rabbitmq-c: any readable byte counts as life.
    self->conn_->last_recv_ms = uv_now(self->loop_);
    self->drain_input();
  }
  if (self->state_ == AmqpState::kConnected && (events & UV_WRITABLE) != 0) self->flush_output();
}

void AmqpClient::on_drain_idle(uv_idle_t* h) noexcept {
  auto* self = static_cast<AmqpClient*>(h->data);
  uv_idle_stop(h);
  if (self->state_ == AmqpState::kConnected) self->drain_input();
}

void AmqpClient::drain_input() noexcept {
  for (int i = 0; i < kFrameBudget; ++i) {
    amqp_maybe_release_buffers(conn_->amqp);
    amqp_frame_t frame{};
    timeval now{0, 0};
    const int rc = amqp_simple_wait_frame_noblock(conn_->amqp, &frame, &now);
    if (rc == AMQP_STATUS_TIMEOUT) break;
    if (rc != AMQP_STATUS_OK) return lost(std::string("read: ") + amqp_error_string2(rc));
    if (!handle_frame(&frame)) return;  // lost or closed meanwhile
    if (i + 1 == kFrameBudget) uv_idle_start(drain_idle_, on_drain_idle);
  }
  flush_ack();
}

bool AmqpClient::handle_frame(const void* raw) noexcept {
  const auto& frame = *static_cast<const amqp_frame_t*>(raw);
  Inbound& in = *inbound_;
  if (frame.frame_type == AMQP_FRAME_METHOD) {
    const amqp_method_t& m = frame.payload.method;
    switch (m.id) {
      case AMQP_BASIC_DELIVER_METHOD: {
        const auto* d = static_cast<const amqp_basic_deliver_t*>(m.decoded);
        in.tag = d->delivery_tag;
        in.routing_key.assign(as_view(d->routing_key));
        in.expect = Inbound::Expect::kHeader;
        return true;
      }
      case AMQP_CONNECTION_CLOSE_METHOD:
      case AMQP_CHANNEL_CLOSE_METHOD: {
        amqp_rpc_reply_t reply{};
        reply.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
        reply.reply = m;
        lost(describe_reply("connection", reply));
        return false;
      }
      case AMQP_BASIC_CANCEL_METHOD:
        lost("the broker cancelled the consumer (queue deleted?)");
        return false;
      default:
        return true;  // connection.blocked and the like: nothing to do
    }
  }
  if (frame.frame_type == AMQP_FRAME_HEADER && in.expect == Inbound::Expect::kHeader) {
    const auto* p = static_cast<const amqp_basic_properties_t*>(frame.payload.properties.decoded);
    in.content_type.clear();
    if ((p->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG) != 0) {
      in.content_type.assign(as_view(p->content_type));
    }
    in.body_size = static_cast<std::size_t>(frame.payload.properties.body_size);
    in.received = 0;
    in.too_large = in.body_size > options_.max_delivery_bytes;
    in.body.clear();
    in.expect = Inbound::Expect::kBody;
    return in.body_size > 0 || deliver();
  }
  if (frame.frame_type == AMQP_FRAME_BODY && in.expect == Inbound::Expect::kBody) {
    const amqp_bytes_t& b = frame.payload.body_fragment;
    const auto* bytes = static_cast<const std::uint8_t*>(b.bytes);
    if (!in.too_large) in.body.insert(in.body.end(), bytes, bytes + b.len);
    in.received += b.len;
    return in.received < in.body_size || deliver();
  }
  return true;
}

bool AmqpClient::deliver() noexcept {
  Inbound& in = *inbound_;
  in.expect = Inbound::Expect::kMethod;
  conn_->unacked_tag = in.tag;
  if (in.too_large) {
    ++counters_.dropped_too_large;
    return true;
  }
  ++counters_.delivered;
  counters_.delivered_bytes += in.body.size();
  if (callbacks_.on_delivery) {
    callbacks_.on_delivery(AmqpDelivery{in.routing_key, in.content_type, in.body});
  }
  return state_ == AmqpState::kConnected;  // the callback may have closed the client
}

void AmqpClient::flush_ack() noexcept {
  if (conn_->unacked_tag == 0 || !has_room(kPublishOverhead)) return;
  const int rc = amqp_basic_ack(conn_->amqp, kChannel, conn_->unacked_tag, /*multiple=*/1);
  if (rc != AMQP_STATUS_OK) return lost(std::string("ack: ") + amqp_error_string2(rc));
  conn_->unacked_tag = 0;
  conn_->last_send_ms = uv_now(loop_);
}

// Whether `bytes` more fit in the socket's send buffer, so that rabbitmq-c's write (which waits
// for room without a deadline) returns at once. Half of SO_SNDBUF is the payload the kernel
// accepts (the other half is its bookkeeping); TCP autotuning grows it, so it is read each time.
// A message larger than that goes out when the buffer is empty: then it waits only for the
// broker to read.
bool AmqpClient::has_room(std::size_t bytes) const noexcept {
  int queued = 0;
  int sndbuf = 0;
  socklen_t len = sizeof sndbuf;
  if (ioctl(conn_->fd, SIOCOUTQ, &queued) != 0 ||
      getsockopt(conn_->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) != 0) {
    return false;
  }
  return queued == 0 ||
         static_cast<std::size_t>(queued) + bytes <= static_cast<std::size_t>(sndbuf) / 2;
}

bool AmqpClient::send_publish(std::string_view routing_key, std::string_view content_type,
                              std::span<const std::uint8_t> body) noexcept {
  amqp_basic_properties_t props{};
  if (!content_type.empty()) {
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG;
    props.content_type = as_bytes(content_type);
  }
  const amqp_bytes_t payload{body.size(),
                             const_cast<std::uint8_t*>(body.data())};  // rabbitmq-c only reads
  const int rc = amqp_basic_publish(conn_->amqp, kChannel, as_bytes(options_.exchange),
                                    as_bytes(routing_key), 0, 0, &props, payload);
  if (rc != AMQP_STATUS_OK) {
    ++counters_.dropped_disconnected;
    lost(std::string("publish: ") + amqp_error_string2(rc));
    return false;
  }
  ++counters_.published;
  counters_.published_bytes += body.size();
  conn_->last_send_ms = uv_now(loop_);
  return true;
}

PublishOutcome AmqpClient::publish(std::string_view routing_key, std::string_view content_type,
                                   std::span<const std::uint8_t> body) noexcept {
  if (state_ != AmqpState::kConnected) {
    ++counters_.dropped_disconnected;
    return PublishOutcome::kDropped;
  }
  const std::size_t size = routing_key.size() + content_type.size() + body.size();
  if (queue_->messages.empty() && has_room(size + kPublishOverhead)) {
    return send_publish(routing_key, content_type, body) ? PublishOutcome::kSent
                                                         : PublishOutcome::kDropped;
  }
  if (counters_.queued_messages >= options_.max_queued_messages ||
      counters_.queued_bytes + size > options_.max_queued_bytes) {
    ++counters_.dropped_queue_full;
    return PublishOutcome::kDropped;
  }
  queue_->messages.push_back(OutputQueue::Message{
      std::string(routing_key), std::string(content_type), {body.begin(), body.end()}});
  ++counters_.queued_messages;
  counters_.queued_bytes += size;
  update_poll();
  return PublishOutcome::kQueued;
}

void AmqpClient::flush_output() noexcept {
  auto& messages = queue_->messages;
  while (!messages.empty() && has_room(messages.front().size() + kPublishOverhead)) {
    OutputQueue::Message m = std::move(messages.front());
    messages.pop_front();
    --counters_.queued_messages;
    counters_.queued_bytes -= m.size();
    if (!send_publish(m.routing_key, m.content_type, m.body)) return;  // lost
  }
  update_poll();
}

void AmqpClient::on_heartbeat_timer(uv_timer_t* h) noexcept {
  static_cast<AmqpClient*>(h->data)->on_heartbeat_tick();
}

// Ticks every half heartbeat: sends one when nothing else went out for that long, and declares
// the broker gone after two heartbeats of silence (AMQP 0-9-1 §4.2.7).
void AmqpClient::on_heartbeat_tick() noexcept {
  if (state_ != AmqpState::kConnected) return;
  const std::uint64_t now = uv_now(loop_);
  const std::uint64_t period_ms = static_cast<std::uint64_t>(heartbeat_s_) * 1000;
  if (now - conn_->last_recv_ms > 2 * period_ms) {
    return lost("heartbeat timeout: nothing from the broker for " +
                std::to_string(2 * heartbeat_s_) + " s");
  }
  if (now - conn_->last_send_ms < period_ms / 2 || !has_room(kPublishOverhead)) return;
  amqp_frame_t beat{};
  beat.frame_type = AMQP_FRAME_HEARTBEAT;
  beat.channel = 0;
  const int rc = amqp_send_frame(conn_->amqp, &beat);
  if (rc != AMQP_STATUS_OK) return lost(std::string("heartbeat: ") + amqp_error_string2(rc));
  ++counters_.heartbeats_sent;
  conn_->last_send_ms = now;
}

void AmqpClient::close() noexcept {
  if (state_ == AmqpState::kClosed) return;
  if (conn_) {
    timeval tv{0, static_cast<long>(kCloseTimeoutMs) * 1000};
    amqp_set_rpc_timeout(conn_->amqp, &tv);
    flush_ack();
    if (conn_) amqp_connection_close(conn_->amqp, AMQP_REPLY_SUCCESS);
    conn_.reset();
  }
  queue_->messages.clear();
  counters_.queued_messages = counters_.queued_bytes = 0;
  close_handle(heartbeat_timer_);
  close_handle(reconnect_timer_);
  close_handle(drain_idle_);
  set_state(AmqpState::kClosed, "closed");
}

}  // namespace mplane::transport::amqp
