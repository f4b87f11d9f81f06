// What makes an HTTP response an mPlane reply, and the error line for one that is not; shared by
// the whole-reply and streamed-reply paths of the client.
#pragma once

#include <string>
#include <string_view>

#include "transport/http/http_client.h"
#include "transport/http/http_parser.h"

namespace mplane::client {

inline constexpr std::string_view kMplaneJson = "application/x-mplane+json";

// Status 200 with Content-Type application/x-mplane+json.
bool is_mplane_reply(const transport::HttpMessage& head);
// "POST URL: HTTP STATUS: first line of the body" (at most 200 characters of it).
std::string not_mplane_error(const transport::HttpUrl& url, int status, std::string_view body);

}  // namespace mplane::client
