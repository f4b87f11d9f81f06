// The actors of the supervisor load generator (supervisor_load.h) on one loop: simulated probes
// and clients, each one asynchronous HTTP client with one request in flight, and the state
// they share on that loop. Internal to supervisor_load.cc.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "engine/client/supervisor_load.h"
#include "engine/client/supervisor_load_messages.h"
#include "engine/loop/timer.h"
#include "transport/http/async_http_client.h"

namespace mplane::client::load {

// A timer's delay from the seconds the load's options and pauses are given in.
inline std::chrono::milliseconds delay_of(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

// What a probe or client needs to reach the supervisor.
struct Endpoint {
  transport::TlsContext* tls = nullptr;
  std::string forged_identity;  // plaintext: the Forged-MPlane-Identity header's value
};

// The state the actors of one loop share.
struct LoopState {
  LoopState(uv_loop_t* l, const SupervisorLoadOptions& o, std::uint32_t nonce)
      : loop(l), options(o), run_nonce(nonce) {}
  uv_loop_t* loop = nullptr;
  const SupervisorLoadOptions& options;
  SupervisorLoadReport report;
  simdjson::dom::parser parser;
  bool measuring = false;  // counters and latencies count only inside the window
  int registered = 0;      // probes that registered at least once
  std::uint32_t run_nonce = 0;
  std::vector<std::string> targets;  // where clients POST (specification_targets)
  void error(const std::string& kind) { ++report.errors[kind]; }

  // At most options.max_registering registrations (connections, TLS handshakes) in flight:
  // a thousand probes connecting at once would time out against any server on two cores.
  void admit_registration(std::function<void()> send);
  void registration_done();
  int registering = 0;
  std::deque<std::function<void()>> registration_queue;
};

// A simulated component-initiated probe.
class Probe {
 public:
  Probe(LoopState& state, const Endpoint& endpoint, int index, bool idle);
  void start(double delay_s);
  void stop();

 private:
  void register_when_admitted();
  void send_registration();
  void on_registered(const Result<transport::HttpMessage>& r);
  void poll();
  void on_poll(const Result<transport::HttpMessage>& r);
  void post_next_result();
  void on_result_posted(const Result<transport::HttpMessage>& r);
  void poll_after(double seconds);
  void retry_after_error(const std::string& kind);

  LoopState& s_;
  transport::AsyncHttpClient http_;
  loop::Timer timer_;
  bool idle_;
  bool ever_registered_ = false;
  std::string token_;
  std::deque<std::string> results_;  // to POST before the next poll
  double next_poll_s_ = 0;
};

// A simulated client: one specification at a time, redeemed until its result.
class Client {
 public:
  Client(LoopState& state, const Endpoint& endpoint, int index);
  void start() { send(); }
  void stop();
  bool waiting() const { return sent_at_ != 0; }

 private:
  void send();
  void redeem();
  void on_reply(const Result<transport::HttpMessage>& r);
  void fail_and_retry(const std::string& kind, double pause_s);

  LoopState& s_;
  transport::AsyncHttpClient http_;
  loop::Timer timer_;
  int index_;
  std::uint64_t sequence_ = 0;
  std::string label_, token_, input_, target_;
  std::uint64_t sent_at_ = 0;  // uv_hrtime of the specification's POST; 0: none waiting
};

// PATH of the face's URL + `rest` ("/" + "register/capability").
std::string face_path(const transport::HttpUrl& face, std::string_view rest);
// Options of an endpoint's client to a face: responses may take `wait_s` (a long poll's hold) and
// some slack; plaintext, the endpoint's forged identity goes in a header.
transport::AsyncHttpClientOptions http_options(const transport::HttpUrl& face,
                                               const Endpoint& endpoint, int wait_s);

// "timeout", "connect", "tls" or "connection": the kind of an AsyncHttpClient error line.
std::string transport_error_kind(const std::string& error);

}  // namespace mplane::client::load
