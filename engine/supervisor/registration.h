// A component's registration with a supervisor (PROTOCOL.md §4.3.2, `POST /register/capability`):
// which of the envelope's members are capabilities, withdrawals or a callback capability, and
// the reply the RI's component reads — a JSON object keyed by label, in envelope order:
// `{"ping-average-ip4":{"registered":"ok"},"callback":{"registered":"ok"}}`; a withdrawal gives
// `{"registered":"no","reason":"Withdrawn"}`, any other member `{"registered":"no","reason":"Not
// a capability"}`. Unlike the RI, labels are JSON-escaped (a `"` in a label broke its reply) and
// a bare message or an unlabelled capability is a 400 with a reason instead of a crash (500).
//
// Pure: no I/O, no store. The result borrows the message.
#pragma once

#include <string>
#include <vector>

#include "parsers/base/result.h"
#include "parsers/mplane/message.h"

namespace mplane::supervisor {

struct Registration {
  std::vector<const model::Message*> capabilities;  // ordinary ones (verb-callback excluded)
  std::vector<const model::Message*> withdrawals;
  // A capability whose verb is `callback` (the RI listener's rule) or whose label is `callback`
  // (the RI component's, verb `measure`): the probe's callback control, not listed to clients.
  const model::Message* callback = nullptr;
  std::string reply;  // the body of the 200 reply (application/x-mplane+json)
};

// Errors: the message is not an envelope, or a member has no label (the reply is keyed by it).
Result<Registration> read_registration(const model::Message& message);

}  // namespace mplane::supervisor
