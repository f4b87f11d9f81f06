#include "engine/supervisor/relay_table.h"

#include <algorithm>

#include "parsers/json/message_writer.h"

namespace mplane::supervisor {

std::string RelayTable::group_key(std::string_view client_identity, std::string_view client_token) {
  std::string key(client_identity);
  key += '\n';
  key += client_token;
  return key;
}

Relay& RelayTable::add(RelayEntry entry, bool final) {
  groups_[group_key(entry.client_identity, entry.client_token)].push_back(entry.component_token);
  std::string token = entry.component_token;
  Relay& r = relays_[token];
  reply_bytes_ += entry.reply_json.size() - r.entry.reply_json.size();
  ++per_client_[entry.client_identity];
  r.entry = std::move(entry);
  r.final = final;
  return r;
}

void RelayTable::set_reply(Relay& relay, std::string reply_json, std::int64_t now_us, bool final) {
  reply_bytes_ += reply_json.size();
  reply_bytes_ -= relay.entry.reply_json.size();
  relay.entry.reply_json = std::move(reply_json);
  relay.entry.updated_us = now_us;
  relay.final = final;
}

void RelayTable::erase(const std::string& component_token) {
  auto it = relays_.find(component_token);
  if (it == relays_.end()) return;
  reply_bytes_ -= it->second.entry.reply_json.size();
  auto client = per_client_.find(it->second.entry.client_identity);
  if (client != per_client_.end() && --client->second == 0) per_client_.erase(client);
  relays_.erase(it);
}

std::size_t RelayTable::of_client(std::string_view client_identity) const {
  auto it = per_client_.find(std::string(client_identity));
  return it == per_client_.end() ? 0 : it->second;
}

Relay* RelayTable::find(std::string_view component_token) {
  auto it = relays_.find(std::string(component_token));
  return it == relays_.end() ? nullptr : &it->second;
}

const std::vector<std::string>* RelayTable::group(std::string_view client_identity,
                                                  std::string_view client_token) const {
  auto it = groups_.find(group_key(client_identity, client_token));
  return it == groups_.end() ? nullptr : &it->second;
}

void RelayTable::remove_group(std::string_view client_identity, std::string_view client_token) {
  auto it = groups_.find(group_key(client_identity, client_token));
  if (it == groups_.end()) return;
  for (const std::string& token : it->second) erase(token);
  groups_.erase(it);
}

std::vector<std::string> RelayTable::expire(std::int64_t before_us) {
  std::vector<std::string> removed;
  for (auto it = groups_.begin(); it != groups_.end();) {
    const bool old = std::all_of(it->second.begin(), it->second.end(), [&](const std::string& t) {
      auto r = relays_.find(t);
      return r == relays_.end() || r->second.entry.updated_us < before_us;
    });
    if (!old) {
      ++it;
      continue;
    }
    for (const std::string& token : it->second) {
      erase(token);
      removed.push_back(token);
    }
    it = groups_.erase(it);
  }
  return removed;
}

bool RelayTable::group_final(const std::vector<std::string>& tokens) const {
  return std::all_of(tokens.begin(), tokens.end(), [&](const std::string& t) {
    auto it = relays_.find(t);
    return it != relays_.end() && it->second.final;
  });
}

std::string RelayTable::group_reply(const std::vector<std::string>& tokens) const {
  std::vector<const Relay*> members;
  for (const std::string& t : tokens) {
    if (auto it = relays_.find(t); it != relays_.end()) members.push_back(&it->second);
  }
  if (members.empty()) return {};
  if (members.size() == 1) return members.front()->entry.reply_json;
  if (!group_final(tokens)) {  // the receipt, in the client's terms, of a probe still at work
    for (const Relay* r : members) {
      if (!r->final) return r->entry.reply_json;
    }
  }
  std::string out = R"({"contents":[)";
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (i > 0) out += ',';
    out += members[i]->entry.reply_json;
  }
  out += R"(],"envelope":"message","version":1})";
  return out;
}

std::size_t RelayTable::pending() const {
  return static_cast<std::size_t>(
      std::count_if(relays_.begin(), relays_.end(), [](const auto& r) { return !r.second.final; }));
}

bool is_final(model::MessageKind kind) {
  return kind == model::MessageKind::kResult || kind == model::MessageKind::kException ||
         kind == model::MessageKind::kEnvelope;
}

namespace {

void relabel(model::Message& m, const RelayEntry& relay, const model::Element* source_device) {
  if (m.kind == model::MessageKind::kException) {
    m.exception_token = relay.client_token;
    return;
  }
  m.token = relay.client_token;
  if (!relay.client_label.empty()) m.label = relay.client_label;
  if (m.kind == model::MessageKind::kResult && source_device &&
      !m.find_metadatum(source_device->name)) {
    model::Metadatum probe;
    probe.element = source_device;
    probe.value = model::Value::string(relay.component_identity);
    m.metadata.push_back(probe);
  }
}

}  // namespace

std::string in_client_terms(model::Message& reply, const RelayEntry& relay,
                            const model::Element* source_device) {
  relabel(reply, relay, source_device);
  for (model::Message& member : reply.contents) relabel(member, relay, source_device);
  return json::to_json(reply, {.pretty = false});
}

}  // namespace mplane::supervisor
