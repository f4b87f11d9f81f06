// The probes registered with a supervisor (component-initiated components, PROTOCOL.md §4.3):
// each one's capabilities as it registered them and as the client face lists them, and the
// messages queued for its next poll. In memory; the supervisor writes every change through to
// its StateStore. The table counts the bytes it holds for peers (registrations, queued
// messages), which the supervisor bounds: queues change only through enqueue(), take_queue()
// and requeue_front(). Loop-thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/supervisor/registration.h"
#include "parsers/json/message_reader.h"

namespace mplane::supervisor {

// One capability a probe offers, as registered and as listed to clients.
struct OfferedCapability {
  const model::Message* message = nullptr;  // in Probe::registration
  std::string label;
  std::string schema_hash;   // for matching specifications quickly
  std::string own_token;     // the probe's token for it (withdrawals name it)
  std::string listed_token;  // unique across probes: md5(identity, its token)
  std::string listed_json;   // with `link` = the probe's address on the client face
};

struct QueuedForProbe {
  std::int64_t id = 0;  // the store's
  std::string component_token;
  std::string json;
};

struct Probe {
  std::string identity;
  std::unique_ptr<json::OwnedMessage> registration;  // an envelope of its capabilities
  std::vector<OfferedCapability> capabilities;
  bool array_dialect = false;  // registered with the fork's JSON array: polls get arrays
  std::int64_t registered_us = 0;
  std::int64_t last_poll_us = 0;
  std::int64_t last_stored_poll_us = 0;  // what the store has (written at most once a second)
  bool long_polls = false;               // its last poll asked to be held (?wait=)
  std::deque<QueuedForProbe> queue;
  std::uint64_t polls = 0;
  std::uint64_t delivered = 0;  // messages handed over in polls
};

class ProbeTable {
 public:
  // `link_base`: the client face's URL ("https://host:port/"); a probe's capabilities are listed
  // with the link `<link_base>probe/<identity>/`.
  explicit ProbeTable(std::string link_base) : link_base_(std::move(link_base)) {}

  // Registers (or re-registers) `identity` with `registration` (an envelope, read by
  // read_registration into `parsed`): capabilities replace the previous ones; withdrawals remove
  // the capabilities with their token. The probe's queue is kept across re-registration.
  Probe& apply(const std::string& identity, std::unique_ptr<json::OwnedMessage> registration,
               const Registration& parsed, bool array_dialect, std::int64_t now_us);
  Probe* find(std::string_view identity);
  const Probe* find(std::string_view identity) const;
  void remove(std::string_view identity);

  void enqueue(Probe& probe, QueuedForProbe message);
  // Empties the probe's queue and returns what it held, in order.
  std::vector<QueuedForProbe> take_queue(Probe& probe);
  // Puts `messages` (taken, not delivered) back at the front of the probe's queue.
  void requeue_front(Probe& probe, std::vector<QueuedForProbe> messages);
  // The JSON bytes of every probe's current registration, and of every queued message.
  std::size_t registered_bytes() const { return registered_bytes_; }
  std::size_t queued_bytes() const { return queued_bytes_; }
  static std::size_t registration_bytes(const Probe& probe);
  std::map<std::string, Probe, std::less<>>& all() { return probes_; }
  const std::map<std::string, Probe, std::less<>>& all() const { return probes_; }
  std::size_t size() const { return probes_.size(); }

  // The envelope of the probe's current capabilities (what the store keeps).
  static std::string capabilities_envelope(const Probe& probe);
  std::string link_for(std::string_view identity) const;
  void set_link_base(std::string base) { link_base_ = std::move(base); }

 private:
  void list(Probe& probe, const model::Message& capability);
  std::string link_base_;
  std::size_t registered_bytes_ = 0;
  std::size_t queued_bytes_ = 0;
  std::map<std::string, Probe, std::less<>> probes_;  // ordered: listings are stable
};

}  // namespace mplane::supervisor
