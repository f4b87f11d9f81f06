#include "transport/amqp/amqp_handshake.h"

#include <amqp_tcp_socket.h>

#include <chrono>
#include <memory>

namespace mplane::transport::amqp {

namespace {

using Clock = std::chrono::steady_clock;

// Frames above 128 KiB are split by the broker and by us; 128 KiB is RabbitMQ's default.
constexpr int kFrameMax = 131072;

std::string bytes_text(amqp_bytes_t b) {
  return std::string(static_cast<const char*>(b.bytes), b.len);
}

amqp_bytes_t as_bytes(std::string_view s) {
  return amqp_bytes_t{s.size(), const_cast<char*>(s.data())};
}

// What is left of the deadline, as rabbitmq-c wants it (at least 1 ms: 0 would mean "poll").
timeval remaining(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
  const long us = std::max<long>(1000, static_cast<long>(left.count()));
  return timeval{us / 1'000'000, us % 1'000'000};
}

// Applies what is left of the deadline to the next handshake or RPC step.
void bound_next_step(amqp_connection_state_t c, Clock::time_point deadline) {
  timeval tv = remaining(deadline);
  amqp_set_handshake_timeout(c, &tv);
  amqp_set_rpc_timeout(c, &tv);
}

struct ConnectionDeleter {
  void operator()(amqp_connection_state_t c) const noexcept { amqp_destroy_connection(c); }
};
using ConnectionPtr = std::unique_ptr<amqp_connection_state_t_, ConnectionDeleter>;

Status<> check(amqp_connection_state_t c, std::string_view what) {
  const amqp_rpc_reply_t reply = amqp_get_rpc_reply(c);
  if (reply.reply_type == AMQP_RESPONSE_NORMAL) return Ok{};
  return fail(describe_reply(what, reply));
}

Status<> open_socket(amqp_connection_state_t c, const AmqpUrl& url, Clock::time_point deadline) {
  amqp_socket_t* socket = amqp_tcp_socket_new(c);
  if (socket == nullptr) return fail("cannot create a socket");
  timeval tv = remaining(deadline);
  const int rc = amqp_socket_open_noblock(socket, url.host.c_str(), url.port, &tv);
  if (rc != AMQP_STATUS_OK) {
    return fail("cannot connect to " + url.host + ":" + std::to_string(url.port) + ": " +
                amqp_error_string2(rc));
  }
  return Ok{};
}

Status<> login(amqp_connection_state_t c, const AmqpUrl& url, const AmqpOptions& options) {
  const amqp_rpc_reply_t reply =
      amqp_login(c, url.vhost.c_str(), 1, kFrameMax, options.heartbeat_s, AMQP_SASL_METHOD_PLAIN,
                 url.user.c_str(), url.password.c_str());
  if (reply.reply_type == AMQP_RESPONSE_NORMAL) return Ok{};
  return fail(describe_reply("login as '" + url.user + "' on vhost '" + url.vhost + "'", reply));
}

Status<> consume(amqp_connection_state_t c, const AmqpOptions& options,
                 Clock::time_point deadline) {
  bound_next_step(c, deadline);
  // Exclusive, auto-delete, not durable: the broker names it, it dies with the connection.
  amqp_queue_declare_ok_t* q =
      amqp_queue_declare(c, kChannel, amqp_empty_bytes, 0, 0, 1, 1, amqp_empty_table);
  if (Status<> s = check(c, "queue.declare"); !s) return s;
  const amqp_bytes_t queue = amqp_bytes_malloc_dup(q->queue);
  const std::unique_ptr<void, void (*)(void*)> free_queue(queue.bytes, std::free);
  for (const std::string& key : options.bindings) {
    bound_next_step(c, deadline);
    amqp_queue_bind(c, kChannel, queue, as_bytes(options.exchange), as_bytes(key),
                    amqp_empty_table);
    if (Status<> s =
            check(c, "queue.bind to exchange '" + options.exchange + "' with '" + key + "'");
        !s) {
      return s;
    }
  }
  bound_next_step(c, deadline);
  amqp_basic_consume(c, kChannel, queue, amqp_empty_bytes, 0, /*no_ack=*/0, 1, amqp_empty_table);
  return check(c, "basic.consume");
}

}  // namespace

std::string describe_reply(std::string_view what, const amqp_rpc_reply_t& reply) {
  std::string out(what);
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return out + ": ok";
    case AMQP_RESPONSE_NONE:
      return out + ": no reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return out + ": " + amqp_error_string2(reply.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      break;
  }
  if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
    const auto* m = static_cast<const amqp_connection_close_t*>(reply.reply.decoded);
    return out + ": the broker closed the connection: " + std::to_string(m->reply_code) + " " +
           bytes_text(m->reply_text);
  }
  if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
    const auto* m = static_cast<const amqp_channel_close_t*>(reply.reply.decoded);
    return out + ": the broker closed the channel: " + std::to_string(m->reply_code) + " " +
           bytes_text(m->reply_text);
  }
  return out + ": unexpected broker method " + std::to_string(reply.reply.id);
}

Result<amqp_connection_state_t> open_session(const AmqpUrl& url, const AmqpOptions& options) {
  const Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(options.handshake_timeout_ms);
  ConnectionPtr c(amqp_new_connection());
  if (!c) return fail("out of memory");
  if (Status<> s = open_socket(c.get(), url, deadline); !s) return fail(s.error());
  bound_next_step(c.get(), deadline);
  if (Status<> s = login(c.get(), url, options); !s) return fail(s.error());
  bound_next_step(c.get(), deadline);
  amqp_channel_open(c.get(), kChannel);
  if (Status<> s = check(c.get(), "channel.open"); !s) return fail(s.error());
  if (!options.bindings.empty()) {
    if (Status<> s = consume(c.get(), options, deadline); !s) return fail(s.error());
  }
  return c.release();
}

}  // namespace mplane::transport::amqp
