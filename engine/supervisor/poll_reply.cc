#include "engine/supervisor/poll_reply.h"

#include <algorithm>

namespace mplane::supervisor {

std::string callback_specification(std::chrono::seconds next_poll) {
  const long long seconds = std::max<long long>(0, next_poll.count());
  return R"({"label":"callback","registry":"http://ict-mplane.eu/registry/core",)"
         R"("specification":"measure","version":1,"when":"now + )" +
         std::to_string(seconds) + R"(s"})";
}

std::string poll_reply(std::span<const std::string> queued_json,
                       std::optional<std::chrono::seconds> next_poll) {
  std::string out = R"({"contents":[)";
  bool first = true;
  auto add = [&](const std::string& member) {
    if (!first) out += ',';
    first = false;
    out += member;
  };
  for (const std::string& member : queued_json) add(member);
  if (next_poll) add(callback_specification(*next_poll));
  out += R"(],"envelope":"message","version":1})";
  return out;
}

}  // namespace mplane::supervisor
