#include "engine/client/capability_store.h"

#include <algorithm>

#include "parsers/mplane/token.h"

namespace mplane::client {

using model::Message;
using model::MessageKind;

std::string label_of(const Message& m) { return m.label ? std::string(*m.label) : ""; }
std::string token_of(const Message& m) { return model::effective_token(m).value_or(""); }

std::size_t CapabilityStore::add(std::unique_ptr<json::OwnedMessage> doc) {
  std::vector<const Message*> members;
  const Message& m = doc->message;
  if (m.kind == MessageKind::kEnvelope) {
    for (const Message& c : m.contents) members.push_back(&c);
  } else {
    members.push_back(&m);
  }
  for (const Message* c : members) {
    const std::string token = token_of(*c);
    std::erase_if(caps_, [&](const Message* old) { return token_of(*old) == token; });
    if (c->kind == MessageKind::kCapability) caps_.push_back(c);
    // A withdrawal just removes the capability (done above).
  }
  docs_.push_back(std::move(doc));
  return members.size();
}

Result<const Message*> CapabilityStore::find(std::string_view key) const {
  for (const Message* c : caps_) {
    if (c->label && *c->label == key) return c;
  }
  for (const Message* c : caps_) {
    if (token_of(*c) == key) return c;
  }
  std::string known;
  for (const Message* c : caps_) known += (known.empty() ? "" : ", ") + label_of(*c);
  return fail("no capability '" + std::string(key) + "'" +
              (caps_.empty() ? " (no capabilities fetched)" : " (known: " + known + ")"));
}

}  // namespace mplane::client
