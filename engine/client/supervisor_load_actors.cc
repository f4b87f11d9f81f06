#include "engine/client/supervisor_load_actors.h"

#include <cstdio>

namespace mplane::client::load {
namespace {

constexpr std::string_view kMplaneJson = "application/x-mplane+json";
constexpr double kErrorPauseS = 0.5;     // before a probe or client tries again
constexpr double kResultDeadlineS = 30;  // a client gives up on a specification after this
// Over a long poll's hold (or a client's wait for its result: the RI's supervisor answers one
// specification at a time, each after up to 5 s), before a request times out.
constexpr std::uint64_t kSlackMs = 10'000;

std::string hex_token(std::uint32_t nonce, std::uint32_t who, std::uint64_t n) {
  char text[40];
  std::snprintf(text, sizeof text, "%08x%08x%016llx", nonce, who,
                static_cast<unsigned long long>(n));
  return text;
}

}  // namespace

std::string face_path(const transport::HttpUrl& face, std::string_view rest) {
  std::string path = face.path.empty() ? "/" : face.path;
  if (path.back() != '/') path += '/';
  return path + std::string(rest);
}

transport::AsyncHttpClientOptions http_options(const transport::HttpUrl& face,
                                               const Endpoint& endpoint, int wait_s) {
  transport::AsyncHttpClientOptions o;
  o.host = face.host;
  o.port = face.port;
  o.tls = endpoint.tls;
  o.response_timeout_ms = static_cast<std::uint64_t>(wait_s) * 1000 + kSlackMs;
  if (!endpoint.forged_identity.empty()) {
    o.extra_headers = "Forged-MPlane-Identity: " + endpoint.forged_identity + "\r\n";
  }
  return o;
}

std::string transport_error_kind(const std::string& error) {
  if (error.find("timed out") != std::string::npos) return "timeout";
  if (error.starts_with("cannot connect") || error.starts_with("cannot resolve")) return "connect";
  if (error.starts_with("TLS")) return "tls";
  return "connection";
}

// ---- LoopState

void LoopState::admit_registration(std::function<void()> send) {
  if (registering >= options.max_registering) {
    registration_queue.push_back(std::move(send));
    return;
  }
  ++registering;
  send();
}

void LoopState::registration_done() {
  --registering;
  if (registration_queue.empty()) return;
  auto next = std::move(registration_queue.front());
  registration_queue.pop_front();
  admit_registration(std::move(next));
}

// ---- Probe

Probe::Probe(LoopState& state, const Endpoint& endpoint, int index, bool idle)
    : s_(state),
      http_(state.loop,
            http_options(state.options.component_face, endpoint, idle ? 0 : state.options.wait_s)),
      timer_(state.loop),
      idle_(idle),
      token_(hex_token(0, 0x80000000u | static_cast<std::uint32_t>(index), 0)) {}

void Probe::start(double delay_s) {
  timer_.start(delay_of(delay_s), [this] { register_when_admitted(); });
}

void Probe::register_when_admitted() {
  s_.admit_registration([this] { send_registration(); });
}

void Probe::stop() {
  timer_.stop();
  http_.close();
}

void Probe::send_registration() {
  http_.request("POST", face_path(s_.options.component_face, "register/capability"), kMplaneJson,
                registration(idle_ ? s_.options.label + "-idle" : s_.options.label, token_),
                [this](const Result<transport::HttpMessage>& r) { on_registered(r); });
}

void Probe::on_registered(const Result<transport::HttpMessage>& r) {
  s_.registration_done();
  if (!r) return retry_after_error("probe registration: " + transport_error_kind(r.error()));
  if (r->status != 200) {
    return retry_after_error("probe registration: status " + std::to_string(r->status));
  }
  ++s_.report.registrations;
  if (!ever_registered_) ++s_.registered;
  ever_registered_ = true;
  poll();
}

void Probe::poll() {
  std::string path = face_path(s_.options.component_face, "show/specification");
  if (!idle_) path += "?wait=" + std::to_string(s_.options.wait_s);
  http_.request("GET", path, {}, {},
                [this](const Result<transport::HttpMessage>& r) { on_poll(r); });
}

void Probe::on_poll(const Result<transport::HttpMessage>& r) {
  if (!r) return retry_after_error("probe poll: " + transport_error_kind(r.error()));
  if (r->status == 428) {  // the supervisor forgot us (withdrawn, or restarted)
    if (s_.measuring) s_.error("probe poll: 428, registered again");
    return register_when_admitted();
  }
  if (r->status != 200) return retry_after_error("probe poll: status " + std::to_string(r->status));
  std::string error;
  auto reply = parse_poll_reply(s_.parser, r->body, error);
  if (!reply) return retry_after_error("probe poll: " + error);
  if (s_.measuring) ++s_.report.polls;
  for (const WorkItem& w : reply->work) results_.push_back(result(w.label, w.token, w.input));
  next_poll_s_ = reply->callback_s.value_or(s_.options.poll_interval_s);
  post_next_result();
}

void Probe::post_next_result() {
  if (results_.empty()) return poll_after(next_poll_s_);
  http_.request("POST", face_path(s_.options.component_face, "register/result"), kMplaneJson,
                results_.front(),
                [this](const Result<transport::HttpMessage>& r) { on_result_posted(r); });
}

void Probe::on_result_posted(const Result<transport::HttpMessage>& r) {
  if (!r) return retry_after_error("probe result: " + transport_error_kind(r.error()));
  results_.pop_front();
  if (r->status == 200) {
    if (s_.measuring) ++s_.report.results_posted;
  } else if (s_.measuring) {
    s_.error("probe result: status " + std::to_string(r->status));
  }
  post_next_result();
}

void Probe::poll_after(double seconds) {
  if (seconds <= 0) return poll();
  if (idle_) http_.close();  // an idle probe holds no connection between polls
  timer_.start(delay_of(seconds), [this] { poll(); });
}

void Probe::retry_after_error(const std::string& kind) {
  if (s_.measuring) s_.error(kind);
  results_.clear();  // the supervisor resends nothing: those round trips are lost, and counted
  timer_.start(delay_of(kErrorPauseS),
               [this] { ever_registered_ ? poll() : register_when_admitted(); });
}

// ---- Client

Client::Client(LoopState& state, const Endpoint& endpoint, int index)
    : s_(state),
      http_(state.loop,
            http_options(state.options.client_face, endpoint, static_cast<int>(kResultDeadlineS))),
      timer_(state.loop),
      index_(index) {}

void Client::stop() {
  timer_.stop();
  http_.close();
  if (waiting()) ++s_.report.in_flight_at_end;
  sent_at_ = 0;
}

void Client::send() {
  ++sequence_;
  const std::string n = std::to_string(sequence_);
  label_ = "bench-c" + std::to_string(index_) + (s_.options.label_suffix ? "-" : "-r") + n;
  token_ = hex_token(s_.run_nonce, static_cast<std::uint32_t>(index_), sequence_);
  input_ = "c" + std::to_string(index_) + "n" + n;
  const auto& targets = s_.targets;
  target_ = targets.empty()
                ? std::string("/")
                : targets[(static_cast<std::size_t>(index_) + sequence_) % targets.size()];
  sent_at_ = uv_hrtime();
  if (s_.measuring) ++s_.report.specifications;
  http_.request("POST", target_, kMplaneJson, specification(label_, token_, input_),
                [this](const Result<transport::HttpMessage>& r) { on_reply(r); });
}

void Client::redeem() {
  if (static_cast<double>(uv_hrtime() - sent_at_) / 1e9 > kResultDeadlineS) {
    return fail_and_retry("client: no result within 30 s", 0);
  }
  if (s_.measuring) ++s_.report.redemptions;
  http_.request("POST", target_, kMplaneJson, redemption(label_, token_, input_),
                [this](const Result<transport::HttpMessage>& r) { on_reply(r); });
}

void Client::on_reply(const Result<transport::HttpMessage>& r) {
  if (!r) return fail_and_retry("client: " + transport_error_kind(r.error()), kErrorPauseS);
  if (r->status != 200) {
    return fail_and_retry("client: status " + std::to_string(r->status), kErrorPauseS);
  }
  const ClientReply reply = parse_client_reply(s_.parser, r->body);
  switch (reply.kind) {
    case ReplyKind::kResult:
      if (s_.measuring) s_.report.latencies_ns.push_back(uv_hrtime() - sent_at_);
      sent_at_ = 0;
      return send();
    case ReplyKind::kReceipt:
      return timer_.start(delay_of(s_.options.redeem_interval_s), [this] { redeem(); });
    case ReplyKind::kException:
      return fail_and_retry("client: exception: " + reply.detail.substr(0, 80), kErrorPauseS);
    case ReplyKind::kOther:
      return fail_and_retry("client: reply " + reply.detail, kErrorPauseS);
  }
}

void Client::fail_and_retry(const std::string& kind, double pause_s) {
  if (s_.measuring) s_.error(kind);
  sent_at_ = 0;
  timer_.start(delay_of(pause_s), [this] { send(); });
}

}  // namespace mplane::client::load
