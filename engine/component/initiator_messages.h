// What a component-initiated component says to its supervisor and reads from it (PROTOCOL.md
// §4.3, engine/supervisor/WIRE.md), apart from any I/O: the registration envelope, the
// supervisor's reply to it, the callback specification that paces the polls, where a reply to a
// specification goes, and the backoff between failed attempts.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parsers/base/result.h"
#include "parsers/mplane/message.h"
#include "transport/http/http_url.h"

namespace mplane::component {

// The registration body (§4.3.2): an envelope of `capabilities`, each with `"link": ""` (results
// go to the result path) and its token (the RI's mpcv hash unless it has one), followed by the
// callback capability: verb `callback`, label `callback`, `when` "now ... future", no parameters
// or results, in the registry of the first capability (the core registry without one).
std::string registration_envelope(std::span<const model::Message* const> capabilities);

// The supervisor's reply to a registration: `{"label":{"registered":"ok"},…}`, and for a refusal
// `{"registered":"no","reason":"…"}`.
struct RegistrationReply {
  std::vector<std::string> registered;                       // labels, in reply order
  std::vector<std::pair<std::string, std::string>> refused;  // label, reason
};
// Errors: not JSON, not an object of objects.
Result<RegistrationReply> read_registration_reply(std::string_view body);

// The members of a poll reply in order, nested envelopes flattened (the RI listener wraps a
// specification and its callback in an envelope of their own); a bare message is its own member.
void poll_members(const model::Message& reply, std::vector<const model::Message*>& out);

// Whether a member is callback control: verb `callback` or label `callback` (§4.3.4 "DO (as
// component)").
bool is_callback(const model::Message& m);

// When to poll next, as a callback's `when` says: the end of its scope from `now`
// (`now + 30s` → 30 s, `now + 0s` → 0). Absent when the scope is expired, has no end, or is
// missing: the caller keeps its own interval then.
std::optional<std::chrono::milliseconds> callback_delay(const model::Message& callback,
                                                        model::MicrosSinceEpoch now);

// Where the replies to `spec` go (§4.3.4): "" for the supervisor's result path — the spec's
// `link` is absent, empty, or names the supervisor's host and port (its path is ignored then);
// otherwise the link as an http(s) URL (`mplane-https://` read as `https://`). Errors: a link
// that is no URL we can post to.
Result<std::string> result_target(const model::Message& spec, const transport::HttpUrl& supervisor);

struct BackoffOptions {
  std::chrono::milliseconds initial{1000};
  std::chrono::milliseconds max{60000};
  double jitter = 0.25;  // each delay is scaled by a factor in [1 - jitter, 1 + jitter]
};
// The wait before attempt `failures + 1` after `failures` failures in a row (at least 1):
// initial · 2^(failures-1), at most max, scaled by 1 + jitter · (2u - 1) for `u` in [0, 1).
std::chrono::milliseconds backoff_delay(unsigned failures, const BackoffOptions& options, double u);

}  // namespace mplane::component
