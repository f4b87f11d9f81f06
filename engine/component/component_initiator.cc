#include "engine/component/component_initiator.h"

#include <utility>

#include "parsers/base/log.h"
#include "parsers/json/message_writer.h"
#include "transport/transport.h"

namespace mplane::component {
namespace {

constexpr std::string_view kMplaneJson = "application/x-mplane+json";
// Other servers named by specifications' links: connections kept at most (then all closed).
constexpr std::size_t kMaxOtherClients = 16;
// The shortest wait before the next poll after a reply without work.
constexpr std::chrono::milliseconds kMinIdlePoll{100};

model::MicrosSinceEpoch wall_now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "result 1eb3b3c0…" for the log lines about a message.
std::string describe(const model::Message& m) {
  std::string out(model::kind_key(m.kind));
  const auto token = m.kind == model::MessageKind::kException ? m.exception_token : m.token;
  if (token) out += " " + std::string(*token);
  return out;
}

// Statuses that retrying cannot cure: the message is dropped (with a log line).
bool refused_for_good(int status) {
  return status >= 400 && status < 500 && status != 408 && status != 425 && status != 428 &&
         status != 429;
}

std::string status_text(const transport::HttpMessage& r) {
  std::string text = "HTTP " + std::to_string(r.status);
  if (!r.body.empty()) text += " " + r.body.substr(0, 200);
  return text;
}

}  // namespace

ComponentInitiator::ComponentInitiator(runtime::Engine& engine,
                                       const model::RegistrySet& registries,
                                       InitiatorOptions options)
    : engine_(engine),
      registries_(registries),
      options_(std::move(options)),
      random_(std::random_device{}()) {}

ComponentInitiator::~ComponentInitiator() = default;

Status<> ComponentInitiator::start() {
  if (!options_.spool_dir.empty()) {
    auto spool = ResultSpool::open(options_.spool_dir, options_.spool_max_bytes);
    if (!spool) return fail(spool.error());
    spool_ = std::move(spool.value());
  }
  if (engine_.shard_count() == 0) return fail(std::string("the engine is not running"));
  options_.shard %= engine_.shard_count();
  return engine_.run_on_each_shard([this](loop::Shard& shard) -> Status<> {
    if (shard.index() == options_.shard) on_shard_start(shard);
    return Ok{};
  });
}

std::string ComponentInitiator::supervisor_text() const {
  return (options_.supervisor.tls ? "https://" : "http://") + options_.supervisor.authority();
}

transport::AsyncHttpClientOptions ComponentInitiator::client_options(
    const transport::HttpUrl& url) const {
  transport::AsyncHttpClientOptions o;
  o.host = url.host;
  o.port = url.port;
  o.tls = url.tls ? options_.tls : nullptr;
  o.connect_timeout_ms = options_.connect_timeout_ms;
  o.response_timeout_ms = options_.response_timeout_ms;
  o.total_timeout_ms = options_.total_timeout_ms;
  return o;
}

void ComponentInitiator::on_shard_start(loop::Shard& shard) {
  shard_ = &shard;
  reader_ = std::make_unique<json::MessageReader>(registries_);
  uv_loop_t* loop = shard.loop();
  poll_timer_.emplace(loop);
  retry_timer_.emplace(loop);
  // The poll client waits for a long poll's answer on top of the usual deadlines.
  auto poll = client_options(options_.supervisor);
  const auto wait_ms = static_cast<std::uint64_t>(options_.long_poll.count()) * 1000;
  poll.response_timeout_ms += wait_ms;
  poll.total_timeout_ms += wait_ms;
  poll_client_ = std::make_unique<transport::AsyncHttpClient>(loop, poll);
  result_client_ =
      std::make_unique<transport::AsyncHttpClient>(loop, client_options(options_.supervisor));
  if (spool_) {
    for (auto& e : spool_->take_loaded()) {
      outbox_.push_back({std::move(e.target), std::move(e.body), e.seq,
                         "spooled message " + std::to_string(e.seq)});
    }
    if (!outbox_.empty()) {
      log::warn("mplane component: " + std::to_string(outbox_.size()) +
                " message(s) left in the spool " + spool_->dir() + " are sent to " +
                supervisor_text() + " first");
    }
  }
  shard.add_shutdown_hook([this] { shut_down(); });
  register_now();
  send_next();
}

// Requests in flight are abandoned (their callbacks never run); what was not delivered goes to
// the spool.
void ComponentInitiator::shut_down() {
  stopped_ = true;
  poll_client_.reset();
  result_client_.reset();
  other_clients_.clear();
  sending_ = false;
  std::size_t lost = 0;
  for (Outgoing& o : outbox_) {
    if (o.spool_seq == 0 && !(spool_ && spool(o))) ++lost;
  }
  if (lost > 0) {
    log::error("mplane component: " + std::to_string(lost) + " message(s) for " +
               supervisor_text() + " lost at shutdown (no room in a spool)");
  }
  outbox_.clear();
  poll_timer_->close();
  retry_timer_->close();
}

// ---- Registration and polling ------------------------------------------------------------

// With access control, the capabilities registered are those the supervisor's identity may use:
// a first exchange (a GET of the registration path, whatever its answer) tells who it is, as the
// RI component's probe connection does. Without, every capability is registered at once.
void ComponentInitiator::register_now() {
  if (stopped_) return;
  if (!engine_.has_access_control()) {
    return send_registration(std::string(transport::kUnauthenticatedIdentity));
  }
  poll_client_->request("GET", options_.registration_path, "", "",
                        [this](const Result<transport::HttpMessage>& res) {
                          if (!res) return failed("cannot reach it: " + res.error());
                          send_registration(res->peer_identity);
                        });
}

void ComponentInitiator::send_registration(const std::string& identity) {
  std::vector<const model::Message*> caps;
  for (const model::Message* cap : engine_.capabilities()) {
    if (engine_.allowed(identity, *cap)) caps.push_back(cap);
  }
  if (caps.empty()) {
    return failed("its identity " + identity +
                  " may use none of this component's capabilities (see [Authorizations])");
  }
  poll_client_->request("POST", options_.registration_path, kMplaneJson,
                        registration_envelope(caps),
                        [this](const Result<transport::HttpMessage>& res) { on_registered(res); });
}

void ComponentInitiator::on_registered(const Result<transport::HttpMessage>& res) {
  if (!res) return failed("registration failed: " + res.error());
  if (res->status != 200) return failed("registration refused: " + status_text(*res));
  counters_.registrations.fetch_add(1, std::memory_order_relaxed);
  auto reply = read_registration_reply(res->body);
  if (!reply) {
    log::warn("mplane component: " + supervisor_text() + ": " + reply.error());
  } else {
    for (const auto& [label, reason] : reply->refused) {
      std::string line = "mplane component: " + supervisor_text();
      line += " refused capability " + label;
      line += ": " + reason;
      log::warn(line);
    }
    std::string labels;
    for (const std::string& label : reply->registered)
      labels += (labels.empty() ? "" : ", ") + label;
    log::info("mplane component: registered " + labels + " with " + supervisor_text());
  }
  poll();
}

void ComponentInitiator::poll() {
  if (stopped_) return;
  std::string target = options_.specification_path;
  if (options_.long_poll.count() > 0)
    target += "?wait=" + std::to_string(options_.long_poll.count());
  poll_client_->request("GET", target, "", "",
                        [this](Result<transport::HttpMessage> res) { on_poll(std::move(res)); });
}

void ComponentInitiator::on_poll(Result<transport::HttpMessage> res) {
  if (!res) return failed("poll failed: " + res.error());
  if (res->status == 428) return failed("not registered (428)");
  if (res->status != 200) return failed("poll refused: " + status_text(*res));
  counters_.polls.fetch_add(1, std::memory_order_relaxed);
  failures_ = 0;
  if (unreachable_) {  // the supervisor is back: deliver what waits, now
    retry_timer_->stop();
    unreachable_ = false;
    send_next();
  }
  std::optional<std::chrono::milliseconds> next;
  if (!res->body.empty()) {
    auto reply = json::parse_owned_consuming(*reader_, std::move(res->body));
    if (!reply) {
      log::warn("mplane component: " + supervisor_text() + ": a poll reply that is no mPlane " +
                "message: " + reply.error().message);
    } else {
      next = handle_members((*reply)->message, res->peer_identity);
    }
  }
  schedule(next.value_or(options_.poll_interval), Next::kPoll);
}

// Every member, whatever its position (§4.3.4): the callback paces, the others run.
std::optional<std::chrono::milliseconds> ComponentInitiator::handle_members(
    const model::Message& reply, const std::string& identity) {
  std::vector<const model::Message*> members;
  poll_members(reply, members);
  std::optional<std::chrono::milliseconds> next;
  bool work = false;
  for (const model::Message* m : members) {
    if (is_callback(*m)) {
      if (auto d = callback_delay(*m, wall_now())) next = d;
    } else if (m->kind == model::MessageKind::kSpecification ||
               m->kind == model::MessageKind::kInterrupt) {
      submit(*m, identity);
      work = true;
    } else {
      log::warn("mplane component: " + supervisor_text() + " sent a " +
                std::string(model::kind_key(m->kind)) + ": only specifications and interrupts " +
                "are run");
    }
  }
  // "Poll again at once" with nothing to do, from a supervisor that does not hold polls, would
  // make both sides spin.
  if (!work && next && *next < kMinIdlePoll) next = kMinIdlePoll;
  return next;
}

// A specification's receipt (if it does not complete at once) and its result or exception go
// to the result target; an interrupt's reply only if it is an exception (the job's own result
// follows its interruption).
void ComponentInitiator::submit(const model::Message& member, const std::string& identity) {
  auto target = result_target(member, options_.supervisor);
  if (!target) {
    log::warn("mplane component: " + supervisor_text() + ": " + target.error() +
              "; its results go to the supervisor's result path");
  }
  const std::string to = target ? *target : std::string();
  auto owned = std::make_unique<json::OwnedMessage>();
  owned->message = model::copy_message(member, owned->arena);
  auto forward = [this, to](const sched::Reply& r) {
    deliver_from_job(to, json::to_json(*r, {.pretty = false}), describe(*r));
  };
  if (member.kind == model::MessageKind::kInterrupt) {
    engine_.submit(std::move(owned), identity, [forward](const sched::Reply& r) {
      if (r->kind == model::MessageKind::kException) forward(r);
    });
    return;
  }
  engine_.submit_until_complete(std::move(owned), identity, forward, forward);
}

void ComponentInitiator::failed(const std::string& what) {
  ++failures_;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const auto delay = backoff_delay(failures_, options_.backoff, unit(random_));
  log::warn("mplane component: supervisor " + supervisor_text() + ": " + what +
            "; registering again in " + std::to_string(delay.count()) + " ms");
  schedule(delay, Next::kRegister);
}

void ComponentInitiator::schedule(std::chrono::milliseconds delay, Next next) {
  if (stopped_) return;
  poll_timer_->start(delay, [this, next] { next == Next::kRegister ? register_now() : poll(); });
}

// ---- Delivery ----------------------------------------------------------------------------

// On the job's shard: the message crosses to the initiator's shard; once that has stopped (a
// job interrupted at shutdown), it goes to the spool from here.
void ComponentInitiator::deliver_from_job(std::string target, std::string body, std::string what) {
  auto message =
      std::make_shared<Outgoing>(Outgoing{std::move(target), std::move(body), 0, std::move(what)});
  if (!stopped_ && shard_->post(loop::make_task([this, message] {
        if (stopped_) return (void)spool(*message);
        enqueue(std::move(*message));
      }))) {
    return;
  }
  if (!spool(*message)) {
    log::error("mplane component: " + message->what + " for " + supervisor_text() +
               " lost: the component is stopping and no spool took it");
  }
}

// In memory while the supervisor takes messages and memory allows; else in the spool first.
void ComponentInitiator::enqueue(Outgoing message) {
  const bool fits = memory_bytes_ + message.body.size() <= options_.spool_max_bytes;
  if (spool_ && (unreachable_ || !fits)) {
    if (!spool(message)) {
      counters_.dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  } else if (!fits) {
    log::error("mplane component: " + message.what + " for " + supervisor_text() +
               " dropped: " + std::to_string(memory_bytes_) + " bytes wait in memory already " +
               "and there is no spool");
    counters_.dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (message.spool_seq == 0) memory_bytes_ += message.body.size();
  outbox_.push_back(std::move(message));
  send_next();
}

// Writes `o` to the spool; false (after a log line) when there is none or it is full.
bool ComponentInitiator::spool(Outgoing& o) {
  if (!spool_) {
    log::error("mplane component: " + o.what + " for " + supervisor_text() +
               " dropped: no spool to keep it in");
    return false;
  }
  auto seq = spool_->append(o.target, o.body);
  if (!seq) {
    log::error("mplane component: " + o.what + " for " + supervisor_text() +
               " dropped: " + seq.error());
    return false;
  }
  o.spool_seq = *seq;
  counters_.spooled.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void ComponentInitiator::send_next() {
  while (!sending_ && !unreachable_ && !stopped_ && !outbox_.empty()) {
    Outgoing& o = outbox_.front();
    std::string path;
    transport::AsyncHttpClient* client = client_for(o.target, path);
    if (!client) {
      log::error("mplane component: " + o.what + " dropped: cannot post to " + o.target +
                 (options_.tls ? "" : " (https needs TLS)"));
      pop_front(false);
      continue;
    }
    sending_ = true;
    client->request("POST", path, kMplaneJson, o.body,
                    [this](const Result<transport::HttpMessage>& res) { on_sent(res); });
  }
}

void ComponentInitiator::pop_front(bool delivered) {
  Outgoing& o = outbox_.front();
  if (o.spool_seq != 0) {
    spool_->remove(o.spool_seq);
  } else {
    memory_bytes_ -= o.body.size();
  }
  (delivered ? counters_.delivered : counters_.dropped).fetch_add(1, std::memory_order_relaxed);
  outbox_.pop_front();
}

void ComponentInitiator::on_sent(const Result<transport::HttpMessage>& res) {
  sending_ = false;
  if (res && res->status >= 200 && res->status < 300) {
    send_failures_ = 0;
    pop_front(true);
    return send_next();
  }
  if (res && refused_for_good(res->status)) {
    log::warn("mplane component: " + supervisor_text() + " refused " + outbox_.front().what + ": " +
              status_text(*res));
    pop_front(false);
    return send_next();
  }
  ++send_failures_;
  unreachable_ = true;
  for (Outgoing& o : outbox_) {
    if (spool_ && o.spool_seq == 0 && spool(o)) memory_bytes_ -= o.body.size();
  }
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const auto delay = backoff_delay(send_failures_, options_.backoff, unit(random_));
  log::warn("mplane component: cannot deliver " + outbox_.front().what + " to " +
            (outbox_.front().target.empty() ? supervisor_text() : outbox_.front().target) + ": " +
            (res ? status_text(*res) : res.error()) + "; " + std::to_string(outbox_.size()) +
            " message(s) wait, next try in " + std::to_string(delay.count()) + " ms");
  // Only ResultSpool's std::mutex::lock throws (system_error) on the retry's path, which a valid
  // mutex locked by its owner thread never does; OOM aborts.
  retry_timer_->start(delay, [this] {
    unreachable_ = false;
    send_next();
  });
}

// The client for a target ("" = the supervisor's result path) and the path to post to; null
// for a target we cannot post to (https without TLS).
transport::AsyncHttpClient* ComponentInitiator::client_for(const std::string& target,
                                                           std::string& path) {
  if (target.empty()) {
    path = options_.result_path;
    return result_client_.get();
  }
  auto url = transport::parse_http_url(target);
  if (!url || (url->tls && !options_.tls)) return nullptr;
  path = url->path;
  const std::string key = url->authority() + (url->tls ? " tls" : "");
  auto it = other_clients_.find(key);
  if (it != other_clients_.end()) return it->second.get();
  if (other_clients_.size() >= kMaxOtherClients) other_clients_.clear();  // none is busy here
  auto& client = other_clients_[key];
  client = std::make_unique<transport::AsyncHttpClient>(shard_->loop(), client_options(*url));
  return client.get();
}

}  // namespace mplane::component
