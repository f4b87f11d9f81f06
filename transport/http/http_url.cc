#include "transport/http/http_url.h"

#include <charconv>

namespace mplane::transport {

std::string authority_of(std::string_view host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string_view::npos;
  std::string out = v6 ? "[" + std::string(host) + "]" : std::string(host);
  return out + ":" + std::to_string(port);
}

std::string HttpUrl::authority() const { return authority_of(host, port); }

std::string HttpUrl::str() const {
  return std::string(tls ? "https://" : "http://") + authority() + path;
}

Result<HttpUrl> parse_http_url(std::string_view url) {
  HttpUrl u;
  std::string_view rest;
  if (url.starts_with("https://")) {
    u.tls = true;
    u.port = 443;
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return fail(std::string(url) + ": expected http://HOST[:PORT][/PATH] or https://…");
  }
  const auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    u.path = std::string(rest.substr(slash));
    u.has_path = true;
    rest = rest.substr(0, slash);
  }
  std::string_view port_text;
  if (rest.starts_with("[")) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return fail(std::string(url) + ": unterminated '['");
    u.host = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return fail(std::string(url) + ": expected ':' after ']'");
      port_text = rest.substr(1);
    }
  } else {
    const auto colon = rest.rfind(':');
    u.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
  }
  if (u.host.empty()) return fail(std::string(url) + ": no host");
  if (!port_text.empty() || rest.ends_with(":")) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return fail(std::string(url) + ": bad port '" + std::string(port_text) + "'");
    }
    u.port = static_cast<std::uint16_t>(port);
  }
  return u;
}

}  // namespace mplane::transport
