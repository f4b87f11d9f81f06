// The relay mapping (issue 12, "Relay"): which component measurement stands for which client
// measurement, and the component's latest reply to it, already in the client's terms (the
// client's label and token; results name their probe in the metadata element `source.device`).
//
// A client measurement (client identity + client token) is a group of one relay per probe it
// went to. Its reply: with one probe, that probe's latest reply; with several, the receipt
// until every probe has answered with a result or exception, then an envelope of them in probe
// order. In memory; the supervisor writes every change through to its StateStore. The table
// counts what peers make it hold (reply bytes, measurements per client), which the supervisor
// bounds: replies change only through set_reply(). Loop-thread only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/supervisor/state_store.h"
#include "parsers/mplane/message.h"

namespace mplane::supervisor {

struct Relay {
  RelayEntry entry;
  bool final = false;  // the reply is a result, an exception or an envelope (not a receipt)
};

class RelayTable {
 public:
  static std::string group_key(std::string_view client_identity, std::string_view client_token);

  Relay& add(RelayEntry entry, bool final);
  Relay* find(std::string_view component_token);
  void set_reply(Relay& relay, std::string reply_json, std::int64_t now_us, bool final);
  // The component tokens of a client's measurement (null: no such measurement).
  const std::vector<std::string>* group(std::string_view client_identity,
                                        std::string_view client_token) const;
  void remove_group(std::string_view client_identity, std::string_view client_token);
  // Removes the groups whose relays were all last updated before `before_us`; returns their
  // component tokens (for the store).
  std::vector<std::string> expire(std::int64_t before_us);

  bool group_final(const std::vector<std::string>& tokens) const;
  // The client's reply for a group (see above).
  std::string group_reply(const std::vector<std::string>& tokens) const;
  std::size_t size() const { return relays_.size(); }
  std::size_t pending() const;
  std::size_t reply_bytes() const { return reply_bytes_; }        // of every relay's reply_json
  std::size_t of_client(std::string_view client_identity) const;  // its relays, in all groups

 private:
  void erase(const std::string& component_token);

  std::unordered_map<std::string, Relay> relays_;                     // by component token
  std::unordered_map<std::string, std::vector<std::string>> groups_;  // by group_key
  std::unordered_map<std::string, std::size_t> per_client_;           // relays, by client
  std::size_t reply_bytes_ = 0;
};

// Whether a reply of this kind ends the measurement.
bool is_final(model::MessageKind kind);

// `reply` (a component's receipt, result, exception or envelope of results) in the client's
// terms: label and token replaced by the client's, each result's metadata given `source.device`
// = the probe's identity (when the element is known and the result does not say it already).
// Modifies `reply`; the returned JSON is compact.
std::string in_client_terms(model::Message& reply, const RelayEntry& relay,
                            const model::Element* source_device);

}  // namespace mplane::supervisor
