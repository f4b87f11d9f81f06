// The capabilities a client has fetched, by effective token (the latest wins; a withdrawal
// removes its capability).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/base/result.h"
#include "parsers/json/message_reader.h"

namespace mplane::client {

class CapabilityStore {
 public:
  // Takes a capability, withdrawal or envelope of them; returns how many it held.
  std::size_t add(std::unique_ptr<json::OwnedMessage> doc);
  // In the order received (a re-sent capability moves to the end).
  const std::vector<const model::Message*>& capabilities() const { return caps_; }
  // By label first, then by token. The error lists the known labels.
  Result<const model::Message*> find(std::string_view label_or_token) const;

 private:
  std::vector<std::unique_ptr<json::OwnedMessage>> docs_;  // kept: caps_ borrow them
  std::vector<const model::Message*> caps_;
};

std::string label_of(const model::Message& m);  // "" when it has none
std::string token_of(const model::Message& m);  // the effective token (§2.7)

}  // namespace mplane::client
