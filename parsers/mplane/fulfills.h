// Matching a specification against a capability (PROTOCOL.md §2.13).
#pragma once

#include <string>

#include "parsers/mplane/message.h"

namespace mplane::model {

// Why a specification does not fulfil a capability; kFulfills when it does.
enum class Mismatch : std::uint8_t {
  kFulfills,
  kSchema,      // registry, parameter names or result columns differ
  kWhen,        // the temporal scope does not follow the capability's
  kConstraint,  // a parameter value violates its constraint
};

struct MatchResult {
  Mismatch mismatch = Mismatch::kFulfills;
  std::string detail;  // which parameter, or the scopes, for error messages
  explicit operator bool() const { return mismatch == Mismatch::kFulfills; }
};

// The RI's Specification.fulfills(capability): same schema hash, the spec's `when` follows the
// capability's at `now`, and every value satisfies its constraint. The verb is not compared
// (RI); callers that care compare it themselves. Unlike the RI, an absent value against a
// range is a plain mismatch, not an error.
MatchResult fulfills(const Message& spec, const Message& capability, MicrosSinceEpoch now);
// fulfills() without the schema comparison, for callers that compared cached schema hashes.
MatchResult fulfills_same_schema(const Message& spec, const Message& capability,
                                 MicrosSinceEpoch now);

}  // namespace mplane::model
