// The supervisor's core (issue 12): probes push their capabilities and pull specifications
// (PROTOCOL.md §4.3, engine/supervisor/WIRE.md); clients see the probes' capabilities and send
// specifications, which are relayed to the probes; the probes' replies go back to the clients
// in the clients' terms (relay_table.h).
//
// Decisions are made here, independent of HTTP: each call gets parsed messages and answers with
// an Answer (status, content type, body) that the server writes. State lives in memory
// (ProbeTable, RelayTable) and every change is written through to the StateStore before the
// change's sender is answered, so that a supervisor killed at any point restarts from the store
// (start()) with nothing it acknowledged lost.
//
// Timing (SupervisorOptions): polls are paced by callback specifications; a poll may be held
// (long poll) until work arrives; a client's specification waits up to immediate_wait for the
// result before it gets the receipt; probes silent for withdraw_after lose their capabilities;
// replies nobody collected are forgotten after result_retention. One timer (`tick`) drives the
// deadlines. The clock is injected (now_us).
//
// Loop-thread only: every call and every AnswerFn runs on the loop given at construction.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/supervisor/probe_table.h"
#include "engine/supervisor/relay_table.h"
#include "engine/supervisor/state_store.h"

namespace mplane::supervisor {

inline constexpr std::string_view kMplaneJson = "application/x-mplane+json";

// What to answer an HTTP request. `on_written`, when set, must be called once the answer has left
// for the socket (true) or never will (false: the connection is gone): what it hands over (queued
// specifications, a collected result) is forgotten only when delivered, and kept otherwise.
struct Answer {
  Answer() = default;
  Answer(int s, std::string_view type, std::string b, std::function<void(bool)> written = nullptr)
      : status(s), content_type(type), body(std::move(b)), on_written(std::move(written)) {}
  int status = 200;
  std::string content_type = std::string(kMplaneJson);
  std::string body;
  std::function<void(bool delivered)> on_written;
};
using AnswerFn = std::function<void(Answer)>;

// Whose conventions a client request follows: the RI's (denials and unknown tokens are mPlane
// exceptions with 200) or the architecture fork's (403, 503: PROTOCOL.md §4.5).
enum class Face : std::uint8_t { kRi, kFork };

// Whether `client` may use the capability labelled `label` of the probe `probe` (null: all).
using AccessCheck =
    std::function<bool(std::string_view client, std::string_view label, std::string_view probe)>;

struct SupervisorOptions {
  std::chrono::milliseconds poll_idle{5000};   // callback to an idle probe (±20% jitter)
  std::chrono::milliseconds poll_busy{1000};   // to a probe that does not long-poll, work pending
  std::chrono::milliseconds poll_hold{20000};  // longest hold of a long poll
  std::chrono::milliseconds withdraw_after{30000};
  std::chrono::milliseconds result_retention{3600 * 1000};
  std::chrono::milliseconds immediate_wait{5000};
  std::chrono::milliseconds tick{100};
  std::string capability_link = "http://127.0.0.1:8888/";  // the client face's base URL
  // Bounds on what peers make the supervisor hold (WIRE.md "Limits"); past one, the request is
  // refused (413: too large; 503: full, try later) and a line logged with who and why.
  std::size_t max_probes = 100000;                     // registered identities
  std::size_t max_capabilities_per_probe = 1000;       // in one registration
  std::size_t max_registration_bytes = 1 << 20;        // one registration's JSON
  std::size_t max_registered_bytes = 256 << 20;        // every probe's registration, in all
  std::size_t max_specification_bytes = 1 << 20;       // one client specification's JSON
  std::size_t max_queued_per_probe = 10000;            // messages waiting for one probe's poll
  std::size_t max_queued_bytes = 256 << 20;            // messages waiting for every probe, in all
  std::size_t max_relays = 1000000;                    // pending or uncollected measurements
  std::size_t max_relays_per_client = 0;               // of one client; 0: max_relays / 4
  std::size_t max_reply_bytes = std::size_t{1} << 30;  // replies kept for clients, in all
  AccessCheck access;
};

struct SupervisorCounters {
  std::uint64_t registrations = 0;
  std::uint64_t polls = 0;
  std::uint64_t held_polls = 0;
  std::uint64_t specifications = 0;
  std::uint64_t relayed_replies = 0;
  std::uint64_t delivered_results = 0;
  std::uint64_t denied = 0;
  std::uint64_t refused = 0;  // malformed, unexpected, over a limit
  std::uint64_t withdrawn_probes = 0;
  std::uint64_t expired = 0;
  std::uint64_t store_errors = 0;
};

class Supervisor {
 public:
  using Clock = std::function<std::int64_t()>;  // microseconds since the epoch

  // `registries` and `store` must outlive the supervisor.
  Supervisor(uv_loop_t* loop, const model::RegistrySet& registries, StateStore& store,
             SupervisorOptions options, Clock now_us);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // The client face's base URL, written into the capabilities' links. Before start().
  void set_capability_link(const std::string& base) { probes_.set_link_base(base); }
  // Reads the store back (probes, queues, relays) and starts the timer. Errors name the store's
  // problem or the stored message that does not parse.
  Status<> start();
  // Answers held polls and waiting clients (503) and closes the timer; let the loop run after.
  void close();

  // --- component face -------------------------------------------------------------------------
  Answer register_probe(const std::string& identity,
                        std::unique_ptr<json::OwnedMessage> registration, bool array_dialect);
  void poll(const std::string& identity, std::optional<std::chrono::milliseconds> wait,
            AnswerFn done);
  Answer post_result(const std::string& identity, model::Message& message);

  // A probe that is not polled but pushed to (a client-initiated component, component_link.h):
  // `push` is called whenever work is queued for it; it takes the work with poll(). Null removes.
  void set_pusher(const std::string& identity, std::function<void()> push);

  // --- client face ----------------------------------------------------------------------------
  // A specification from `client`, for the probe `probe` (empty: every probe that offers a
  // matching capability the client may use).
  void specify(const std::string& client, const model::Message& spec, std::string_view probe,
               Face face, AnswerFn done);
  void redeem(const std::string& client, std::string_view token, Face face, AnswerFn done);
  Answer interrupt(const std::string& client, std::string_view token, Face face);

  // Listings: what `client` may see.
  std::string capabilities_envelope(const std::string& client) const;
  std::string capability_links_html(const std::string& client) const;
  std::optional<std::string> listed_capability(const std::string& client,
                                               std::string_view token) const;
  std::string fork_capabilities(const std::string& client) const;  // {"identity":[...],...}
  std::string status_page(const std::string& client) const;        // GET / (status_page.cc)

  // Runs `send` once what the supervisor has stored so far is committed: at once when nothing is
  // pending, else at the end of this loop iteration (group commit: one transaction per
  // iteration, committed before any answer of the iteration leaves). The server sends every
  // answer through it.
  void after_commit(std::function<void()> send);
  // Commits the open batch and runs the sends waiting for it (the loop's check phase; tests).
  void commit();

  // Runs what is due at now_us(): held polls and waiting clients past their deadline, silent
  // probes, expired replies. The timer calls it every `tick`; tests call it after moving their
  // clock.
  void tick();

  const SupervisorCounters& counters() const { return counters_; }
  const ProbeTable& probes() const { return probes_; }
  const RelayTable& relays() const { return relays_; }

 private:
  struct HeldPoll {
    AnswerFn done;
    std::int64_t deadline_us = 0;
  };
  struct Waiter {
    AnswerFn done;
    std::int64_t deadline_us = 0;
    std::string client;
    std::string token;
  };

  static void on_tick(uv_timer_t* timer) noexcept;
  static void on_check(uv_check_t* check) noexcept;
  // The store, with this iteration's batch opened on first use.
  StateStore& store();
  Status<> restore();
  bool allowed(std::string_view client, const OfferedCapability& c, const Probe& p) const;
  Answer answer_poll(Probe& probe, bool long_poll);
  std::chrono::seconds next_poll(const Probe& probe, bool delivered, bool long_poll);
  void wake(Probe& probe);
  void notify(const std::string& client, const std::string& token);
  void withdraw_silent();
  void fail_queued(Probe& probe, std::string_view why);
  Answer group_answer(const std::vector<std::string>& tokens, const std::string& client,
                      const std::string& token);
  void forget_collected(const std::string& client, const std::string& token);
  void handed_over(const std::string& identity, std::vector<QueuedForProbe> messages,
                   bool delivered);
  Answer deny(Face face, const std::string& client, std::string_view token, std::string_view why,
              int fork_status);
  Status<> relay_to(Probe& probe, const model::Message& spec, const std::string& client,
                    const std::string& client_token, const std::string& receipt_json);
  Answer accept_reply(const std::string& identity, model::Message& reply);
  // A request over one of the limits: its status, the reason (the exception's text) and the
  // limit ("N, config-key": logged, not sent).
  struct Refusal {
    int status = 503;
    std::string why;
    std::string limit;
  };
  std::optional<Refusal> over_registration_limit(const std::string& identity,
                                                 const json::OwnedMessage& registration,
                                                 std::size_t capabilities) const;
  std::optional<Refusal> over_relay_limit(const std::string& client,
                                          const std::vector<Probe*>& targets,
                                          std::size_t spec_bytes) const;
  Answer refuse(std::string_view what, const std::string& who,
                std::optional<std::string_view> token, const Refusal& refusal);
  std::string new_component_token();
  bool note_store(const Status<>& st, std::string_view what);

  uv_loop_t* loop_;
  const model::RegistrySet& registries_;
  StateStore& store_;
  SupervisorOptions options_;
  Clock now_us_;
  ProbeTable probes_;
  RelayTable relays_;
  std::unique_ptr<json::MessageReader> reader_;
  const model::Element* source_device_ = nullptr;
  std::unordered_map<std::string, HeldPoll> held_;  // by probe identity
  std::unordered_map<std::string, std::function<void()>> pushers_;
  std::vector<Waiter> waiters_;  // clients waiting for a result
  uv_timer_t* timer_ = nullptr;  // owned; freed in its close callback
  uv_check_t* check_ = nullptr;  // commits each iteration's batch; owned, freed on close
  bool batch_open_ = false;
  std::vector<std::function<void()>> after_commit_;
  std::mt19937_64 random_;
  std::string token_prefix_;
  std::uint64_t token_counter_ = 0;
  std::int64_t next_expiry_us_ = 0;
  SupervisorCounters counters_;
};

}  // namespace mplane::supervisor
