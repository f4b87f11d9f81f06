#include "engine/client/mplane_reply.h"

namespace mplane::client {

bool is_mplane_reply(const transport::HttpMessage& head) {
  const std::string* type = head.header("Content-Type");
  return head.status == 200 && type && *type == kMplaneJson;
}

std::string not_mplane_error(const transport::HttpUrl& url, int status, std::string_view body) {
  const std::string_view first = body.substr(0, body.find('\n')).substr(0, 200);
  return "POST " + url.str() + ": HTTP " + std::to_string(status) +
         (first.empty() ? "" : ": " + std::string(first));
}

}  // namespace mplane::client
