#include "engine/client/capability_store.h"

#include <algorithm>

#include "parsers/mplane/token.h"
#include "transport/http/http_client.h"

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

std::vector<std::string> html_links(std::string_view html) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while ((at = html.find("href", at)) != std::string_view::npos) {
    at += 4;
    while (at < html.size() && html[at] == ' ') ++at;
    if (at >= html.size() || html[at] != '=') continue;
    ++at;
    while (at < html.size() && html[at] == ' ') ++at;
    if (at >= html.size()) break;
    std::size_t end;
    if (html[at] == '\'' || html[at] == '"') {
      const char q = html[at++];
      end = html.find(q, at);
    } else {
      end = html.find_first_of(" >", at);
    }
    if (end == std::string_view::npos) break;
    out.emplace_back(html.substr(at, end - at));
    at = end;
  }
  return out;
}

std::string link_path(const std::string& href, const std::string& page_path) {
  if (href.starts_with("http://") || href.starts_with("https://")) {
    auto u = transport::parse_http_url(href);
    return u ? u->path : "";
  }
  if (href.starts_with("/")) return href;
  return page_path.substr(0, page_path.rfind('/') + 1) + href;
}

}  // namespace mplane::client
