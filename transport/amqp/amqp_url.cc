#include "transport/amqp/amqp_url.h"

#include <amqp.h>

#include <vector>

namespace mplane::transport::amqp {

namespace {

constexpr std::string_view kUsage = "expected amqp://USER:PASS@HOST[:PORT]/VHOST";

// The scheme and the authority only: the part before any '@' may hold the password.
std::string safe_prefix(std::string_view url) {
  const std::size_t at = url.rfind('@');
  if (at == std::string_view::npos) return std::string(url.substr(0, url.find("://") + 3));
  return std::string(url.substr(0, url.find("://") + 3)) + "…" + std::string(url.substr(at));
}

Failure<std::string> bad_url(std::string_view url, std::string_view why) {
  return fail("invalid AMQP URL '" + safe_prefix(url) + "': " + std::string(why) + " (" +
              std::string(kUsage) + ")");
}

}  // namespace

std::string AmqpUrl::redacted() const {
  std::string vhost_part = vhost == "/" ? "" : vhost;
  return "amqp://" + user + ":***@" + host + ":" + std::to_string(port) + "/" + vhost_part;
}

Result<AmqpUrl> parse_amqp_url(std::string_view url) {
  if (url.starts_with("amqps://")) return bad_url(url, "amqps (TLS) is not supported");
  if (!url.starts_with("amqp://")) return bad_url(url, "the scheme is not amqp://");
  if (url.find('\0') != std::string_view::npos) return bad_url(url, "a NUL byte");
  // amqp_parse_url decodes in place and points into its argument.
  std::vector<char> copy(url.begin(), url.end());
  copy.push_back('\0');
  amqp_connection_info info{};
  amqp_default_connection_info(&info);
  if (amqp_parse_url(copy.data(), &info) != AMQP_STATUS_OK) {
    return bad_url(url, "malformed user, password, host, port or percent-escape");
  }
  AmqpUrl out{info.user, info.password, info.host, 0, info.vhost};
  if (out.host.empty()) return bad_url(url, "no host");
  if (out.user.empty()) return bad_url(url, "no user");
  if (info.port <= 0 || info.port > 65535) return bad_url(url, "port out of range");
  out.port = static_cast<std::uint16_t>(info.port);
  return out;
}

}  // namespace mplane::transport::amqp
