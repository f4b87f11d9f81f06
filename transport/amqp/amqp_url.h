// The broker address of an AMQP 0-9-1 connection, from a URL
// `amqp://USER:PASS@HOST[:PORT]/VHOST` (the ioppytest agent's `--url`, WIRE.md §1.2).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "parsers/base/result.h"

namespace mplane::transport::amqp {

struct AmqpUrl {
  std::string user;
  std::string password;
  std::string host;
  std::uint16_t port = 5672;
  // The URL path without its leading '/', percent-decoded (`%2F` is the default vhost "/").
  // Without a path it is "/", RabbitMQ's default vhost.
  std::string vhost;

  // The URL with the password replaced by "***": what logs and error messages may show.
  std::string redacted() const;
};

// Parses `url`. Errors name what is wrong, never echo the password: not `amqp://`
// (`amqps://` is refused: TLS is not supported), a malformed port, an empty host or user.
// Percent-escapes are decoded in the user, password, host and vhost.
Result<AmqpUrl> parse_amqp_url(std::string_view url);

}  // namespace mplane::transport::amqp
