// The blocking part of an AMQP connection: TCP connect, login, channel 1, and the consumer's
// queue (declared exclusive and auto-delete by the broker's naming, bound to the exchange with
// each routing key, consumed with acks). Internal to transport/amqp (AmqpClient calls it).
#pragma once

#include <amqp.h>

#include <string>
#include <string_view>

#include "parsers/base/result.h"
#include "transport/amqp/amqp_client.h"

namespace mplane::transport::amqp {

// The channel everything uses.
inline constexpr amqp_channel_t kChannel = 1;

// A connection ready for publishing and, with bindings, delivering; the caller owns it
// (amqp_destroy_connection). Every step is bounded by what is left of
// `options.handshake_timeout_ms`. Errors say which step failed and why (the broker's reply text
// when it refused, e.g. "ACCESS_REFUSED - Login was refused …").
Result<amqp_connection_state_t> open_session(const AmqpUrl& url, const AmqpOptions& options);

// One line for a failed RPC reply: `what`: the library's error or the broker's code and text.
std::string describe_reply(std::string_view what, const amqp_rpc_reply_t& reply);

}  // namespace mplane::transport::amqp
