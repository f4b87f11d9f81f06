// URLs of HTTP peers: what `mplane client --url`, indirect export and the load generator take.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "parsers/base/result.h"

namespace mplane::transport {

// `http[s]://HOST[:PORT][/PATH]`; HOST may be a bracketed IPv6 literal (`[::1]:1228`).
struct HttpUrl {
  bool tls = false;
  std::string host;  // without brackets
  std::uint16_t port = 80;
  std::string path = "/";
  bool has_path = false;  // the URL named a path (even just "/")

  std::string authority() const;  // "host:port", IPv6 in brackets
  std::string str() const;        // scheme://authority/path
};
// Errors name the URL and what is wrong with it.
Result<HttpUrl> parse_http_url(std::string_view url);

// "host:port" with an IPv6 literal in brackets (the Host header, the TLS session key).
std::string authority_of(std::string_view host, std::uint16_t port);

}  // namespace mplane::transport
