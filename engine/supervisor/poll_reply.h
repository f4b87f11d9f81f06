// The reply to a component's poll (PROTOCOL.md §4.3.3, `GET /show/specification`): an envelope of
// the specifications and interrupts queued for it, in queueing order, then — when the supervisor
// sets the pace (callback control) — a specification labelled `callback` whose `when` ends when
// the component should poll next. The callback goes last: the RI component stops reading the
// envelope at it. The RI component reads `now + 30s` as "poll again in 30 s".
//
// Pure: the queued members are JSON texts already validated when they were queued.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>

namespace mplane::supervisor {

// `{"label":"callback","registry":"http://ict-mplane.eu/registry/core","specification":"measure",
//   "version":1,"when":"now + 30s"}` for 30 s. 0 s (`now + 0s`: poll again at once) is for our
// long-polling components only; the supervisor gives RI components 1 s at least.
std::string callback_specification(std::chrono::seconds next_poll);

std::string poll_reply(std::span<const std::string> queued_json,
                       std::optional<std::chrono::seconds> next_poll);

}  // namespace mplane::supervisor
