// The messages a client sends, built without any I/O: a specification from a capability
// (PROTOCOL.md §2.3, as the RI's client builds it), and the redemption or interrupt that
// follows a receipt (§3.4). Also when to redeem again (the polling schedule).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "parsers/base/result.h"
#include "parsers/mplane/message.h"
#include "transport/http/http_client.h"

namespace mplane::client {

// A specification ready to send.
struct SpecificationText {
  std::string body;   // compact JSON
  std::string token;  // its effective token
};

// The default scope: `now` (a single measurement as soon as possible), or `now + 5s / PERIOD`
// for a capability that measures periodically (a few samples at the capability's rate).
std::string default_when(const model::Message& cap);

// The scope `when_text` (empty: default_when) checked against the capability's. `now_us` (wall
// clock, microseconds) dates relative scopes.
Result<model::When> specification_scope(const model::Message& cap, const std::string& when_text,
                                        std::int64_t now_us);

// A specification of `cap` with scope `when`, the parameter values `params` (by element name;
// single-valued parameters are pre-filled) and `label`. Errors name the parameter at fault.
Result<SpecificationText> build_specification(const model::Message& cap, const model::When& when,
                                              const std::map<std::string, std::string>& params,
                                              const std::string& label);

// Where a specification of `cap` goes: its link, else `default_url`.
Result<transport::HttpUrl> specification_url(const model::Message& cap,
                                             const std::optional<transport::HttpUrl>& default_url);

// The redemption (or interrupt) of the measurement whose latest reply is `current` (a receipt,
// or a result when interrupting), with `token` when the reply has none. Compact JSON.
Result<std::string> redemption_body(const model::Message& current, const std::string& token,
                                    bool interrupt);

// A receipt for a measurement known only by its token (`redeem TOKEN`): what redemption_body
// turns into the token-only form.
model::Message token_only_receipt(std::string_view token);

// How long to wait before the next redemption of `receipt` (microseconds): the first wait lasts
// until the end of the receipt's scope (when the result can be ready), later ones 0.5 s; never
// past `until` (wall clock).
std::int64_t poll_delay(const model::Message& receipt, bool first, std::int64_t now,
                        std::int64_t until);

}  // namespace mplane::client
