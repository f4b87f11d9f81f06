// Schema hashes and default tokens, computed exactly as the RI computes them (PROTOCOL.md §2.7).
// MD5 comes from mbedTLS. These are pure functions of the message.
//
// One point where §2.7's u(x) ("`*` when absent") is not what the RI does: a `time` parameter
// or metadatum without a value is hashed as `None` (the RI's time primitive unparses with
// str(), so str(None)); every other primitive gives `*`. So a capability with a time-typed
// parameter hashes `pv ... None ...`, as does a specification derived from it before it is
// filled in. Constraints (`pc`) are unaffected: no constraint is `*` for every primitive.
#pragma once

#include <optional>
#include <string>

#include "parsers/mplane/message.h"

namespace mplane::model {

using Md5Hex = std::string;  // 32 lowercase hex digits

// md5hex(R + " p " + J(P) + " r " + J(C)). Defined for statements and full notifications.
Md5Hex schema_hash(const Message& m);
// The hash inputs, exposed for tests and for `mplane msg token --explain`.
std::string schema_hash_input(const Message& m);
std::string pv_hash_input(const Message& m);    // requires m.when
std::string mpcv_hash_input(const Message& m);  // requires m.when
Md5Hex pv_hash(const Message& m);
Md5Hex mpcv_hash(const Message& m);

// The RI's default token: pv_hash for specifications, mpcv_hash for the other statements and
// notifications; none for exceptions, envelopes and messages without a `when` (token-only).
std::optional<Md5Hex> default_token(const Message& m);
// The token of the message: its own if it has one, else the default token.
std::optional<std::string> effective_token(const Message& m);

Md5Hex md5_hex(std::string_view bytes);

}  // namespace mplane::model
