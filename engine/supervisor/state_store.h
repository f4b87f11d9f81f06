// What a supervisor must not lose across a crash or a `kill -9` (issue 12, "Durable state"):
// the probes that registered and their capabilities, the specifications queued for each probe,
// the relay mapping between a client's measurement and a component's, and the replies received
// for clients (kept until collected, or until the retention time).
//
// One interface, so that a database shared by several supervisors can replace the embedded one
// later. open_sqlite_store() is the embedded default: one SQLite file in WAL mode; every call is
// one transaction, committed before it returns, so a process killed at any point loses nothing
// it was told was stored (synchronous=NORMAL: a power loss may lose the last transactions).
//
// Messages are stored as their JSON text: the store knows nothing of the mPlane model. Times are
// microseconds since the epoch, given by the caller (injected clocks). Not thread-safe: one
// store per owner (the supervisor's shard). Never throws; every error names the operation.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/base/result.h"

namespace mplane::supervisor {

// A registered probe (a component-initiated component), by the identity of its certificate.
struct ProbeRecord {
  std::string identity;
  std::string capabilities_json;  // the envelope of its capabilities, as registered
  std::int64_t registered_us = 0;
  std::int64_t last_poll_us = 0;
};

// A specification (or interrupt) waiting for its probe's next poll.
struct QueuedMessage {
  std::int64_t id = 0;  // increasing: the order of queueing
  std::string identity;
  std::string json;
  std::int64_t queued_us = 0;
};

// A client's measurement relayed to a component, with the component's latest reply to it.
struct RelayEntry {
  std::string component_token;  // the token the component knows the job by
  std::string client_token;     // the token the client knows it by
  std::string client_identity;
  std::string component_identity;
  std::string client_label;
  std::string reply_json;  // the component's latest receipt, result or exception ("": none yet)
  std::int64_t updated_us = 0;
};

// The supervisor keeps its state in memory and writes every change through to the store before
// it answers the change's sender; at start it reads the store back (probes(), queued(),
// relays()). Reads during operation are not needed.
class StateStore {
 public:
  virtual ~StateStore() = default;

  // Runs `body` as one transaction: the calls it makes commit together, or not at all. Nests
  // (an inner transaction joins the outer one).
  virtual Status<> transaction(const std::function<Status<>()>& body) = 0;

  // Registers (or re-registers: replaces) a probe.
  virtual Status<> put_probe(const ProbeRecord& probe) = 0;
  virtual Status<> touch_probe(std::string_view identity, std::int64_t now_us) = 0;
  // Withdraws a probe; its queued messages go with it.
  virtual Status<> remove_probe(std::string_view identity) = 0;
  virtual Result<std::vector<ProbeRecord>> probes() = 0;

  virtual Result<std::int64_t> enqueue(std::string_view identity, std::string_view json,
                                       std::int64_t now_us) = 0;
  // Removes the probe's queued messages up to `last_id` (they were delivered).
  virtual Status<> drop_queued(std::string_view identity, std::int64_t last_id) = 0;
  // Every queued message, oldest first.
  virtual Result<std::vector<QueuedMessage>> queued() = 0;
  // The probe's queued messages, oldest first, removed in the same transaction.
  virtual Result<std::vector<QueuedMessage>> dequeue_all(std::string_view identity) = 0;

  // Stores (or replaces) a relay entry, reply included.
  virtual Status<> put_relay(const RelayEntry& entry) = 0;
  virtual Status<> set_reply(std::string_view component_token, std::string_view reply_json,
                             std::int64_t now_us) = 0;
  virtual Status<> remove_relay(std::string_view component_token) = 0;
  virtual Result<std::optional<RelayEntry>> relay_for_component_token(std::string_view token) = 0;
  virtual Result<std::vector<RelayEntry>> relays() = 0;
  // Removes relay entries last updated before `before_us`; returns how many.
  virtual Result<std::size_t> expire_relays(std::int64_t before_us) = 0;
};

// Opens (creating if need be) the SQLite store at `path`. Errors name the file and SQLite's
// reason (not a database, no permission, locked by another supervisor).
Result<std::unique_ptr<StateStore>> open_sqlite_store(const std::string& path);

}  // namespace mplane::supervisor
