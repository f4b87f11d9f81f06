// A component-initiated mPlane component's link to one supervisor (PROTOCOL.md §4.3, issue 12,
// engine/supervisor/WIRE.md): on one shard's loop, with the asynchronous HTTP client (TLS with the
// component's own identity), it
//   1. registers: POST registration_path with an envelope of the capabilities the supervisor's
//      identity may use (Engine::allowed; learnt from a first exchange when there is access
//      control) plus the callback capability; refusals in the reply are logged with their reason;
//   2. polls: GET specification_path?wait=S (a long poll; the RI ignores the query), and hands
//      every specification and interrupt of the reply to the engine; a member labelled
//      `callback` (or of verb callback) sets the delay before the next poll (the end of its
//      `when`; at least 100 ms after a reply without work), whatever its position; without one
//      the next poll comes after poll_interval;
//   3. posts every receipt, result and exception to result_path (or to the host and path of a
//      specification's link that names another server, §4.3.4), one at a time, in order;
//   4. after a 428, a failed exchange or a refused registration, registers again after an
//      exponential backoff with jitter (backoff_delay), so a restarted supervisor sees the probe
//      come back; a successful poll resets the backoff;
//   5. keeps what cannot be delivered in a ResultSpool (spool_dir), and sends it in order once
//      the supervisor is reachable again: at the next start too. A refusal that retrying cannot
//      cure (a 4xx other than 408, 425, 428, 429) drops the message with a log line.
//
// Every exchange has a total deadline (connect, response and total timeouts). Never throws.
// Shutdown (the shard's shutdown hook): requests in flight are abandoned, messages not yet
// delivered are written to the spool. Results of jobs interrupted at shutdown that reach the
// initiator after its shard stopped go to the spool directly (ResultSpool is thread-safe).
//
// Lifetime: construct and start() after Engine::start(); destroy after Engine::join().
#pragma once

#include <uv.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "engine/component/initiator_messages.h"
#include "engine/component/result_spool.h"
#include "engine/loop/timer.h"
#include "engine/runtime/engine.h"
#include "transport/http/async_http_client.h"

namespace mplane::component {

struct InitiatorOptions {
  transport::HttpUrl supervisor;  // scheme, host and port (its path is not used)
  std::string registration_path = "/register/capability";
  std::string specification_path = "/show/specification";
  std::string result_path = "/register/result";
  transport::TlsContext* tls = nullptr;  // client role, the component's identity; null: http
  std::string spool_dir;                 // empty: no spool (undeliverable messages are dropped)
  std::uint64_t spool_max_bytes = 256ULL * 1024 * 1024;
  std::size_t shard = 0;                          // the shard whose loop runs the initiator
  std::chrono::seconds long_poll{30};             // ?wait=S; 0: plain polls
  std::chrono::milliseconds poll_interval{5000};  // without callback control
  BackoffOptions backoff;                         // 1 s doubling to 60 s, ±25%
  std::uint64_t connect_timeout_ms = 10'000;      // resolve + connect + TLS handshake
  std::uint64_t response_timeout_ms = 30'000;     // plus the long poll's wait
  std::uint64_t total_timeout_ms = 120'000;       // every exchange, plus the wait
};

// Counters, readable from any thread (tests, logs).
struct InitiatorCounters {
  std::atomic<std::uint64_t> registrations{0};  // accepted (200)
  std::atomic<std::uint64_t> polls{0};          // answered 200
  std::atomic<std::uint64_t> delivered{0};      // messages the supervisor took (2xx)
  std::atomic<std::uint64_t> spooled{0};        // messages written to the spool
  std::atomic<std::uint64_t> dropped{0};        // refused for good, or the spool was full
};

class ComponentInitiator {
 public:
  // `registries` (to read the supervisor's messages) must outlive the initiator.
  ComponentInitiator(runtime::Engine& engine, const model::RegistrySet& registries,
                     InitiatorOptions options);
  ~ComponentInitiator();
  ComponentInitiator(const ComponentInitiator&) = delete;
  ComponentInitiator& operator=(const ComponentInitiator&) = delete;

  // Opens the spool (what a previous run left is sent first) and starts registering, on the
  // shard's loop. Errors: the spool, or the engine is not running.
  Status<> start();
  const InitiatorCounters& counters() const { return counters_; }
  const InitiatorOptions& options() const { return options_; }

 private:
  struct Outgoing {
    std::string target;  // empty: the supervisor's result path
    std::string body;
    std::uint64_t spool_seq = 0;  // 0: not in the spool
    std::string what;             // "result TOKEN", for log lines
  };
  enum class Next : std::uint8_t { kRegister, kPoll };  // what the poll timer starts

  void on_shard_start(loop::Shard& shard);
  void shut_down();
  // Registration and polling (the poll client, the poll timer).
  void register_now();
  void send_registration(const std::string& identity);
  void on_registered(const Result<transport::HttpMessage>& res);
  void poll();
  void on_poll(Result<transport::HttpMessage> res);
  std::optional<std::chrono::milliseconds> handle_members(const model::Message& reply,
                                                          const std::string& identity);
  void submit(const model::Message& member, const std::string& identity);
  void failed(const std::string& what);
  void schedule(std::chrono::milliseconds delay, Next next);
  // Delivery (the result clients, the retry timer), on the initiator's shard.
  void deliver_from_job(std::string target, std::string body, std::string what);
  void enqueue(Outgoing message);
  bool spool(Outgoing& o);
  void send_next();
  void on_sent(const Result<transport::HttpMessage>& res);
  void pop_front(bool delivered);
  transport::AsyncHttpClient* client_for(const std::string& target, std::string& path);

  transport::AsyncHttpClientOptions client_options(const transport::HttpUrl& url) const;
  std::string supervisor_text() const;

  runtime::Engine& engine_;
  const model::RegistrySet& registries_;
  InitiatorOptions options_;
  InitiatorCounters counters_;
  std::unique_ptr<ResultSpool> spool_;
  loop::Shard* shard_ = nullptr;
  std::unique_ptr<json::MessageReader> reader_;
  std::mt19937_64 random_;
  std::atomic<bool> stopped_{false};  // read by jobs' shards

  // Registration and polling.
  std::unique_ptr<transport::AsyncHttpClient> poll_client_;
  std::optional<loop::Timer> poll_timer_;  // from the shard's start to its shutdown
  unsigned failures_ = 0;                  // in a row; a successful poll resets it

  // Delivery, in order: one message in flight at a time.
  std::unique_ptr<transport::AsyncHttpClient> result_client_;
  std::map<std::string, std::unique_ptr<transport::AsyncHttpClient>> other_clients_;
  std::deque<Outgoing> outbox_;
  std::uint64_t memory_bytes_ = 0;  // of the outbox's messages not in the spool
  std::optional<loop::Timer> retry_timer_;
  bool sending_ = false;
  bool unreachable_ = false;  // the last delivery failed: spool, wait for the retry timer
  unsigned send_failures_ = 0;
};

}  // namespace mplane::component
