#include "engine/supervisor/probe_table.h"

#include <algorithm>
#include <cctype>

#include "parsers/json/message_writer.h"
#include "parsers/mplane/token.h"

namespace mplane::supervisor {
namespace {

// Identities are dotted DN values ([A-Za-z0-9_.-] in practice); anything else is escaped so
// that the link stays one path segment.
std::string path_segment(std::string_view identity) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : identity) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

}  // namespace

std::string ProbeTable::link_for(std::string_view identity) const {
  return link_base_ + "probe/" + path_segment(identity) + "/";
}

void ProbeTable::list(Probe& probe, const model::Message& capability) {
  OfferedCapability offered;
  offered.message = &capability;
  offered.label = std::string(capability.label.value_or(""));
  offered.schema_hash = model::schema_hash(capability);
  offered.own_token =
      capability.token ? std::string(*capability.token) : model::mpcv_hash(capability);
  offered.listed_token = model::md5_hex(probe.identity + "\n" + offered.own_token);
  model::Message listed = capability;
  const std::string link = link_for(probe.identity);
  listed.link = link;
  listed.token = offered.listed_token;
  offered.listed_json = json::to_json(listed, {.pretty = false});
  probe.capabilities.push_back(std::move(offered));
}

Probe& ProbeTable::apply(const std::string& identity,
                         std::unique_ptr<json::OwnedMessage> registration,
                         const Registration& parsed, bool array_dialect, std::int64_t now_us) {
  Probe& probe = probes_[identity];
  probe.identity = identity;
  probe.array_dialect = array_dialect;
  probe.last_poll_us = now_us;
  if (!parsed.capabilities.empty()) {  // a new set: replaces the previous one
    probe.registered_us = now_us;
    probe.capabilities.clear();
    registered_bytes_ -= registration_bytes(probe);
    probe.registration = std::move(registration);
    registered_bytes_ += registration_bytes(probe);
    for (const model::Message* cap : parsed.capabilities) list(probe, *cap);
  }
  for (const model::Message* w : parsed.withdrawals) {
    if (!w->token) continue;
    const std::string token(*w->token);
    std::erase_if(probe.capabilities,
                  [&](const OfferedCapability& c) { return c.own_token == token; });
  }
  return probe;
}

Probe* ProbeTable::find(std::string_view identity) {
  auto it = probes_.find(identity);
  return it == probes_.end() ? nullptr : &it->second;
}

const Probe* ProbeTable::find(std::string_view identity) const {
  auto it = probes_.find(identity);
  return it == probes_.end() ? nullptr : &it->second;
}

void ProbeTable::remove(std::string_view identity) {
  auto it = probes_.find(identity);
  if (it == probes_.end()) return;
  registered_bytes_ -= registration_bytes(it->second);
  take_queue(it->second);
  probes_.erase(it);
}

std::size_t ProbeTable::registration_bytes(const Probe& probe) {
  return probe.registration ? probe.registration->input.size() : 0;
}

void ProbeTable::enqueue(Probe& probe, QueuedForProbe message) {
  queued_bytes_ += message.json.size();
  probe.queue.push_back(std::move(message));
}

std::vector<QueuedForProbe> ProbeTable::take_queue(Probe& probe) {
  std::vector<QueuedForProbe> out(std::make_move_iterator(probe.queue.begin()),
                                  std::make_move_iterator(probe.queue.end()));
  probe.queue.clear();
  for (const QueuedForProbe& q : out) queued_bytes_ -= q.json.size();
  return out;
}

void ProbeTable::requeue_front(Probe& probe, std::vector<QueuedForProbe> messages) {
  for (const QueuedForProbe& q : messages) queued_bytes_ += q.json.size();
  probe.queue.insert(probe.queue.begin(), std::make_move_iterator(messages.begin()),
                     std::make_move_iterator(messages.end()));
}

std::string ProbeTable::capabilities_envelope(const Probe& probe) {
  model::Message envelope;
  envelope.kind = model::MessageKind::kEnvelope;
  envelope.verb = "message";
  for (const OfferedCapability& c : probe.capabilities) envelope.contents.push_back(*c.message);
  return json::to_json(envelope, {.pretty = false});
}

}  // namespace mplane::supervisor
