// The capabilities a client has fetched, by effective token (the latest wins; a withdrawal
// removes its capability), and the link-following of capability discovery.
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

// The href values of <a href=…> elements (single, double or no quotes).
std::vector<std::string> html_links(std::string_view html);
// The path a link of the page at `page_path` leads to: an absolute URL's path (the RI follows
// links on the same connection, ignoring their host), an absolute path, or a relative one
// resolved against the page's directory. Empty for a URL that does not parse.
std::string link_path(const std::string& href, const std::string& page_path);

}  // namespace mplane::client
