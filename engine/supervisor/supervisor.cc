#include "engine/supervisor/supervisor.h"

#include <algorithm>

#include "engine/supervisor/poll_reply.h"
#include "parsers/base/log.h"
#include "parsers/json/message_writer.h"
#include "parsers/json/out_buffer.h"
#include "parsers/mplane/fulfills.h"
#include "parsers/mplane/token.h"

namespace mplane::supervisor {
namespace {

constexpr std::string_view kNoPermission = "User has no permission to request this capability";
constexpr std::string_view kUnknownJob = "Unknown job";
constexpr std::int64_t kUsPerMs = 1000;

using json::exception_json;

Answer mplane_answer(int status, std::string body) {
  return {status, std::string(kMplaneJson), std::move(body)};
}

// The client's receipt for its specification: the specification as a receipt, with its token.
std::string receipt_for(const model::Message& spec, const std::string& client_token) {
  model::Message receipt = spec;
  receipt.kind = model::MessageKind::kReceipt;
  receipt.token = client_token;
  receipt.link.reset();
  return json::to_json(receipt, {.pretty = false});
}

// "N, key": a limit as logged (the configuration key names it).
std::string limit_note(std::size_t n, std::string_view key) {
  return std::to_string(n) + ", " + std::string(key);
}

// The token a component's reply names (results, receipts: `token`; exceptions their own).
std::optional<std::string_view> reply_token(const model::Message& m) {
  if (m.kind == model::MessageKind::kException) return m.exception_token;
  return m.token;
}

}  // namespace

Supervisor::Supervisor(uv_loop_t* loop, const model::RegistrySet& registries, StateStore& store,
                       SupervisorOptions options, Clock now_us)
    : loop_(loop),
      registries_(registries),
      store_(store),
      options_(std::move(options)),
      now_us_(std::move(now_us)),
      probes_(options_.capability_link),
      reader_(std::make_unique<json::MessageReader>(registries)),
      source_device_(registries.find("source.device")),
      random_(std::random_device{}()) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) token_prefix_ += kHex[random_() % 16];
}

Supervisor::~Supervisor() = default;

Status<> Supervisor::start() {
  if (auto st = restore(); !st) return st;
  timer_ = new uv_timer_t;  // NOLINT(cppcoreguidelines-owning-memory): freed on close
  uv_timer_init(loop_, timer_);
  timer_->data = this;
  const auto period = static_cast<std::uint64_t>(options_.tick.count());
  uv_timer_start(timer_, &Supervisor::on_tick, period, period);
  check_ = new uv_check_t;  // NOLINT(cppcoreguidelines-owning-memory): freed on close
  uv_check_init(loop_, check_);
  check_->data = this;
  uv_check_start(check_, &Supervisor::on_check);
  uv_unref(reinterpret_cast<uv_handle_t*>(check_));  // does not keep the loop alive by itself
  return Ok{};
}

StateStore& Supervisor::store() {
  if (!batch_open_ && check_) {
    if (auto st = store_.begin_batch(); st) {
      batch_open_ = true;
    } else {
      note_store(st, "begin a batch");  // each call then commits alone
    }
  }
  return store_;
}

void Supervisor::after_commit(std::function<void()> send) {
  if (!batch_open_) return send();
  after_commit_.push_back(std::move(send));
}

void Supervisor::commit() {
  if (batch_open_) {
    batch_open_ = false;
    note_store(store_.commit_batch(), "commit");
  }
  auto sends = std::move(after_commit_);
  after_commit_.clear();
  for (auto& send : sends) send();
}

void Supervisor::on_check(uv_check_t* check) noexcept {
  static_cast<Supervisor*>(check->data)->commit();
}

void Supervisor::close() {
  commit();
  auto held = std::move(held_);
  held_.clear();
  for (auto& [identity, poll] : held) {
    poll.done({503, "text/plain", "the supervisor is stopping"});
  }
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (Waiter& w : waiters) {
    w.done(mplane_answer(503, exception_json(w.token, "the supervisor is stopping")));
  }
  if (timer_) {
    uv_close(reinterpret_cast<uv_handle_t*>(timer_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });  // NOLINT
    timer_ = nullptr;
  }
  commit();  // what answering the held polls and waiters stored
  if (check_) {
    uv_close(reinterpret_cast<uv_handle_t*>(check_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_check_t*>(h); });  // NOLINT
    check_ = nullptr;
  }
}

void Supervisor::on_tick(uv_timer_t* timer) noexcept {
  static_cast<Supervisor*>(timer->data)->tick();
}

bool Supervisor::note_store(const Status<>& st, std::string_view what) {
  if (st) return true;
  ++counters_.store_errors;
  log::error("mplane supervisor: state store: " + std::string(what) + ": " + st.error());
  return false;
}

// ---- restore -------------------------------------------------------------------------------

Status<> Supervisor::restore() {
  auto probes = store().probes();
  if (!probes) return fail(probes.error());
  const std::int64_t now = now_us_();
  for (const ProbeRecord& record : *probes) {
    auto owned = json::parse_owned(*reader_, record.capabilities_json);
    if (!owned) {
      return fail("stored capabilities of " + record.identity + ": " +
                  owned.error().describe(record.capabilities_json));
    }
    auto parsed = read_registration((*owned)->message);
    if (!parsed) return fail("stored capabilities of " + record.identity + ": " + parsed.error());
    const Registration registration = *parsed;
    Probe& p = probes_.apply(record.identity, std::move(owned.value()), registration, false, now);
    p.registered_us = record.registered_us;
    p.last_stored_poll_us = record.last_poll_us;  // `now` in memory: time to come back
  }
  auto queued = store().queued();
  if (!queued) return fail(queued.error());
  for (QueuedMessage& q : *queued) {
    Probe* p = probes_.find(q.identity);
    if (!p) continue;
    auto owned = json::parse_owned(*reader_, q.json);
    std::string token;
    if (owned && (*owned)->message.token) token = std::string(*(*owned)->message.token);
    probes_.enqueue(*p, {q.id, std::move(token), std::move(q.json)});
  }
  auto relays = store().relays();
  if (!relays) return fail(relays.error());
  for (RelayEntry& e : *relays) {
    bool final = false;
    if (auto owned = json::parse_owned(*reader_, e.reply_json)) {
      final = is_final((*owned)->message.kind);
    }
    relays_.add(std::move(e), final);
  }
  if (!probes->empty() || !relays->empty()) {
    log::warn("mplane supervisor: restored " + std::to_string(probes->size()) + " probes, " +
              std::to_string(queued->size()) + " queued messages, " +
              std::to_string(relays->size()) + " relayed measurements");
  }
  return Ok{};
}

// ---- component face ------------------------------------------------------------------------

Answer Supervisor::register_probe(const std::string& identity,
                                  std::unique_ptr<json::OwnedMessage> registration,
                                  bool array_dialect) {
  auto parsed = read_registration(registration->message);
  if (!parsed) {
    ++counters_.refused;
    return mplane_answer(400, exception_json(std::nullopt, parsed.error()));
  }
  const Registration r = *parsed;
  if (auto over = over_registration_limit(identity, *registration, r.capabilities.size())) {
    return refuse("a registration", identity, std::nullopt, *over);
  }
  const std::int64_t now = now_us_();
  Probe& probe = probes_.apply(identity, std::move(registration), r, array_dialect, now);
  const std::string envelope = ProbeTable::capabilities_envelope(probe);
  if (!note_store(store().put_probe({identity, envelope, probe.registered_us, now}),
                  "register " + identity)) {
    return mplane_answer(500, exception_json(std::nullopt, "the supervisor cannot store it"));
  }
  probe.last_stored_poll_us = now;
  ++counters_.registrations;
  log::info("mplane supervisor: " + identity + " registered " +
            std::to_string(probe.capabilities.size()) + " capabilities");
  return mplane_answer(200, r.reply);
}

std::optional<Supervisor::Refusal> Supervisor::over_registration_limit(
    const std::string& identity, const json::OwnedMessage& registration,
    std::size_t capabilities) const {
  const std::size_t bytes = registration.input.size();
  if (bytes > options_.max_registration_bytes) {
    return Refusal{413, "A registration of " + std::to_string(bytes) + " bytes is too large",
                   limit_note(options_.max_registration_bytes, "max-registration-bytes")};
  }
  if (capabilities > options_.max_capabilities_per_probe) {
    return Refusal{
        413, "A registration of " + std::to_string(capabilities) + " capabilities is too large",
        limit_note(options_.max_capabilities_per_probe, "max-capabilities-per-probe")};
  }
  const Probe* known = probes_.find(identity);
  if (!known && probes_.size() >= options_.max_probes) {
    return Refusal{503, "Too many probes registered",
                   limit_note(options_.max_probes, "max-probes")};
  }
  if (capabilities == 0) return std::nullopt;  // withdrawals only: nothing more is kept
  const std::size_t replaced = known ? ProbeTable::registration_bytes(*known) : 0;
  if (probes_.registered_bytes() - replaced + bytes > options_.max_registered_bytes) {
    return Refusal{503, "Too many registered capabilities",
                   limit_note(options_.max_registered_bytes, "max-registered-bytes")};
  }
  return std::nullopt;
}

std::chrono::seconds Supervisor::next_poll(const Probe& probe, bool delivered, bool long_poll) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  if (long_poll) return seconds(0);  // it waits in its held poll: the hold paces it
  if (delivered || !probe.queue.empty()) {
    return std::max(seconds(1), duration_cast<seconds>(options_.poll_busy));
  }
  const auto idle_ms = static_cast<double>(options_.poll_idle.count());
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  const auto ms = static_cast<std::int64_t>(idle_ms * jitter(random_));
  return seconds(std::max<std::int64_t>(1, (ms + 500) / 1000));
}

Answer Supervisor::answer_poll(Probe& probe, bool long_poll) {
  std::vector<QueuedForProbe> handed = probes_.take_queue(probe);
  const bool delivered = !handed.empty();
  std::string body;
  if (probe.array_dialect) {
    body = "[";
    for (std::size_t i = 0; i < handed.size(); ++i) body += (i ? "," : "") + handed[i].json;
    body += "]";
  } else {
    std::vector<std::string> members;
    for (const QueuedForProbe& q : handed) members.push_back(q.json);
    body = poll_reply(members, next_poll(probe, delivered, long_poll));
  }
  Answer answer = mplane_answer(200, std::move(body));
  if (delivered) {
    answer.on_written = [this, identity = probe.identity,
                         handed = std::move(handed)](bool written) mutable {
      handed_over(identity, std::move(handed), written);
    };
  }
  return answer;
}

// Queued messages leave the store once their poll's answer has left for the probe; if it never
// does (the probe's connection broke), they go back to the front of its queue.
void Supervisor::handed_over(const std::string& identity, std::vector<QueuedForProbe> messages,
                             bool delivered) {
  Probe* probe = probes_.find(identity);
  if (delivered) {
    note_store(store().drop_queued(identity, messages.back().id), "deliver to " + identity);
    if (probe) probe->delivered += messages.size();
    return;
  }
  if (!probe) return;  // withdrawn meanwhile: its queue went with it
  log::warn("mplane supervisor: " + std::to_string(messages.size()) + " messages for " + identity +
            " not delivered (connection lost): queued again");
  probes_.requeue_front(*probe, std::move(messages));
}

void Supervisor::poll(const std::string& identity, std::optional<std::chrono::milliseconds> wait,
                      AnswerFn done) {
  Probe* probe = probes_.find(identity);
  if (!probe || probe->capabilities.empty()) {
    return done({428, "text/plain", "not registered"});
  }
  ++counters_.polls;
  ++probe->polls;
  const std::int64_t now = now_us_();
  probe->last_poll_us = now;
  probe->long_polls = wait && wait->count() > 0;
  if (now - probe->last_stored_poll_us >= 1000 * kUsPerMs) {  // at most one write a second
    note_store(store().touch_probe(identity, now), "note a poll of " + identity);
    probe->last_stored_poll_us = now;
  }
  if (auto it = held_.find(identity); it != held_.end()) {  // a new poll replaces a held one
    AnswerFn old = std::move(it->second.done);
    held_.erase(it);
    old(answer_poll(*probe, true));
    probe = probes_.find(identity);
    if (!probe) return done({428, "text/plain", "not registered"});
  }
  const bool long_poll = wait && wait->count() > 0 && !probe->array_dialect;
  if (!probe->queue.empty() || !long_poll) return done(answer_poll(*probe, long_poll));
  // Held for the shorter of its wish and ours, ours with ±20% jitter: idle probes that all
  // came at once spread out over the next holds.
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  const auto ours = std::chrono::milliseconds(
      static_cast<std::int64_t>(static_cast<double>(options_.poll_hold.count()) * jitter(random_)));
  const auto hold = std::min(*wait, ours);
  ++counters_.held_polls;
  held_[identity] = {std::move(done), now + hold.count() * kUsPerMs};
}

void Supervisor::set_pusher(const std::string& identity, std::function<void()> push) {
  if (push) {
    pushers_[identity] = std::move(push);
  } else {
    pushers_.erase(identity);
  }
}

void Supervisor::wake(Probe& probe) {
  if (auto p = pushers_.find(probe.identity); p != pushers_.end()) return p->second();
  auto it = held_.find(probe.identity);
  if (it == held_.end()) return;
  AnswerFn done = std::move(it->second.done);
  held_.erase(it);
  done(answer_poll(probe, true));
}

Answer Supervisor::post_result(const std::string& identity, model::Message& message) {
  if (message.kind == model::MessageKind::kEnvelope && !message.token) {
    Answer last{200, "text/plain", ""};
    for (model::Message& member : message.contents) {
      Answer a = accept_reply(identity, member);
      if (a.status != 200) last = std::move(a);
    }
    return last;
  }
  return accept_reply(identity, message);
}

Answer Supervisor::accept_reply(const std::string& identity, model::Message& reply) {
  const auto token = reply_token(reply);
  Relay* relay = token ? relays_.find(*token) : nullptr;
  if (!relay || relay->entry.component_identity != identity) {
    ++counters_.refused;
    const std::string t(token.value_or("null"));
    log::warn("mplane supervisor: refused a " + std::string(model::kind_key(reply.kind)) +
              " from " + identity + ": unexpected token " + t);
    return mplane_answer(403, exception_json(token, "Unexpected result for token " + t));
  }
  if (relay->final) return {200, "text/plain", ""};  // a duplicate: the first one counts
  if (reply.kind == model::MessageKind::kReceipt && !relay->entry.reply_json.empty()) {
    return {200, "text/plain", ""};  // the client already has our receipt
  }
  const std::string client_json = in_client_terms(reply, relay->entry, source_device_);
  const std::size_t kept = relays_.reply_bytes() - relay->entry.reply_json.size();
  if (kept + client_json.size() > options_.max_reply_bytes) {
    return refuse("a " + std::string(model::kind_key(reply.kind)), identity, token,
                  {503, "The supervisor holds too many uncollected results: send it again later",
                   limit_note(options_.max_reply_bytes, "max-reply-bytes")});
  }
  const std::int64_t now = now_us_();
  if (!note_store(store().set_reply(relay->entry.component_token, client_json, now),
                  "store a reply from " + identity)) {
    return mplane_answer(500, exception_json(token, "the supervisor cannot store it"));
  }
  relays_.set_reply(*relay, client_json, now, is_final(reply.kind));
  ++counters_.relayed_replies;
  if (relay->final) notify(relay->entry.client_identity, relay->entry.client_token);
  return {200, "text/plain", ""};
}

// ---- client face ---------------------------------------------------------------------------

bool Supervisor::allowed(std::string_view client, const OfferedCapability& c,
                         const Probe& p) const {
  return !options_.access || options_.access(client, c.label, p.identity);
}

Answer Supervisor::deny(Face face, const std::string& client, std::string_view token,
                        std::string_view why, int fork_status) {
  ++counters_.denied;
  log::warn("mplane supervisor: denied " + client + ": " + std::string(why));
  return mplane_answer(face == Face::kFork ? fork_status : 200, exception_json(token, why));
}

std::string Supervisor::new_component_token() {
  return "sup-" + token_prefix_ + "-" + std::to_string(++token_counter_);
}

Status<> Supervisor::relay_to(Probe& probe, const model::Message& spec, const std::string& client,
                              const std::string& client_token, const std::string& receipt_json) {
  RelayEntry entry;
  entry.component_token = new_component_token();
  entry.client_token = client_token;
  entry.client_identity = client;
  entry.component_identity = probe.identity;
  entry.client_label = std::string(spec.label.value_or(""));
  entry.reply_json = receipt_json;
  entry.updated_us = now_us_();
  model::Message southbound = spec;
  southbound.token = entry.component_token;
  southbound.link = std::string_view("");  // the RI component posts to its result path then
  std::string json = json::to_json(southbound, {.pretty = false});
  // The entry first, then the queued message, undoing the entry if that fails: no savepoint
  // (one cost as much as either write).
  if (auto st = store().put_relay(entry); !st) return st;
  auto queued = store().enqueue(probe.identity, json, entry.updated_us);
  if (!queued) {
    note_store(store().remove_relay(entry.component_token), "undo a relay entry");
    return fail(queued.error());
  }
  probes_.enqueue(probe, {*queued, entry.component_token, std::move(json)});
  relays_.add(std::move(entry), false);
  return Ok{};
}

void Supervisor::specify(const std::string& client, const model::Message& spec,
                         std::string_view probe_filter, Face face, AnswerFn done) {
  ++counters_.specifications;
  const std::string client_token = model::effective_token(spec).value_or("");
  if (const auto* group = relays_.group(client, client_token)) {
    if (!relays_.group_final(*group)) {  // the same measurement again: its current reply
      return done(mplane_answer(200, relays_.group_reply(*group)));
    }
    for (const std::string& t : *group) note_store(store().remove_relay(t), "forget a result");
    relays_.remove_group(client, client_token);
  }
  const std::string schema = model::schema_hash(spec);
  const std::int64_t now = now_us_();
  std::vector<Probe*> targets;
  bool denied = false;
  auto consider = [&](Probe& probe) {
    for (const OfferedCapability& c : probe.capabilities) {
      if (c.schema_hash != schema || !model::fulfills_same_schema(spec, *c.message, now)) continue;
      if (!allowed(client, c, probe)) {
        denied = true;
        continue;
      }
      targets.push_back(&probe);
      return;
    }
  };
  if (!probe_filter.empty()) {  // one probe addressed: no walk over the others
    if (Probe* p = probes_.find(probe_filter)) consider(*p);
  } else {
    for (auto& [identity, probe] : probes_.all()) consider(probe);
  }
  if (targets.empty() && denied) return done(deny(face, client, client_token, kNoPermission, 403));
  if (targets.empty()) {
    ++counters_.refused;
    const std::string why = probe_filter.empty()
                                ? "No registered probe offers a matching capability"
                                : "Probe " + std::string(probe_filter) +
                                      " is not registered or offers no matching capability";
    log::warn("mplane supervisor: refused a specification from " + client + ": " + why);
    return done(mplane_answer(face == Face::kFork ? 403 : 200, exception_json(client_token, why)));
  }
  const std::string receipt = receipt_for(spec, client_token);
  if (auto over = over_relay_limit(client, targets, receipt.size())) {
    return done(refuse("a specification", client, client_token, *over));
  }
  for (Probe* p : targets) {
    if (!note_store(relay_to(*p, spec, client, client_token, receipt), "queue a specification")) {
      return done(
          mplane_answer(500, exception_json(client_token, "the supervisor cannot store it")));
    }
  }
  for (Probe* p : targets) wake(*p);
  const auto* group = relays_.group(client, client_token);  // just made: the replies come later
  if (relays_.group_final(*group) || options_.immediate_wait.count() <= 0 || face == Face::kFork) {
    return done(group_answer(*group, client, client_token));
  }
  waiters_.push_back(
      {std::move(done), now + options_.immediate_wait.count() * kUsPerMs, client, client_token});
}

// `spec_bytes`: the size of the specification as it is queued (about its receipt's).
std::optional<Supervisor::Refusal> Supervisor::over_relay_limit(const std::string& client,
                                                                const std::vector<Probe*>& targets,
                                                                std::size_t spec_bytes) const {
  if (spec_bytes > options_.max_specification_bytes) {
    return Refusal{413, "A specification of " + std::to_string(spec_bytes) + " bytes is too large",
                   limit_note(options_.max_specification_bytes, "max-specification-bytes")};
  }
  if (relays_.size() + targets.size() > options_.max_relays) {
    return Refusal{503, "Too many measurements pending",
                   limit_note(options_.max_relays, "max-relays")};
  }
  const std::size_t per_client = options_.max_relays_per_client > 0
                                     ? options_.max_relays_per_client
                                     : std::max<std::size_t>(1, options_.max_relays / 4);
  if (relays_.of_client(client) + targets.size() > per_client) {
    return Refusal{503, "Too many measurements pending for " + client,
                   limit_note(per_client, "max-relays-per-client")};
  }
  if (probes_.queued_bytes() + targets.size() * spec_bytes > options_.max_queued_bytes) {
    return Refusal{503, "Too much work queued for probes",
                   limit_note(options_.max_queued_bytes, "max-queued-bytes")};
  }
  for (const Probe* p : targets) {
    if (p->queue.size() >= options_.max_queued_per_probe) {
      return Refusal{503, "Probe " + p->identity + " has too much queued work",
                     limit_note(options_.max_queued_per_probe, "max-queued-per-probe")};
    }
  }
  return std::nullopt;
}

// One refusal over a limit: counted, logged with who and why, answered with an exception.
Answer Supervisor::refuse(std::string_view what, const std::string& who,
                          std::optional<std::string_view> token, const Refusal& refusal) {
  ++counters_.refused;
  log::warn("mplane supervisor: refused " + std::string(what) + " from " + who + ": " +
            refusal.why + " (" + refusal.limit + ")");
  return mplane_answer(refusal.status, exception_json(token, refusal.why));
}

Answer Supervisor::group_answer(const std::vector<std::string>& tokens, const std::string& client,
                                const std::string& token) {
  Answer answer = mplane_answer(200, relays_.group_reply(tokens));
  if (relays_.group_final(tokens)) {  // collected once delivered: forgotten (the RI's rule)
    answer.on_written = [this, client, token](bool written) {
      if (written) forget_collected(client, token);
    };
  }
  return answer;
}

void Supervisor::forget_collected(const std::string& client, const std::string& token) {
  const auto* group = relays_.group(client, token);
  if (!group || !relays_.group_final(*group)) return;
  auto remove_all = [&]() -> Status<> {
    for (const std::string& t : *group) {
      if (auto st = store().remove_relay(t); !st) return st;
    }
    return Ok{};
  };
  // One entry needs no transaction of its own (a savepoint costs as much as the delete).
  note_store(group->size() == 1 ? remove_all() : store().transaction(remove_all),
             "forget a collected result");
  relays_.remove_group(client, token);
  ++counters_.delivered_results;
}

void Supervisor::notify(const std::string& client, const std::string& token) {
  const auto* group = relays_.group(client, token);
  if (!group || !relays_.group_final(*group)) return;
  for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
    if (it->client != client || it->token != token) continue;
    AnswerFn done = std::move(it->done);
    waiters_.erase(it);
    done(group_answer(*group, client, token));
    return;
  }
}

void Supervisor::redeem(const std::string& client, std::string_view token, Face face,
                        AnswerFn done) {
  const auto* group = relays_.group(client, token);
  if (!group) return done(deny(face, client, token, kUnknownJob, 403));
  done(group_answer(*group, client, std::string(token)));
}

Answer Supervisor::interrupt(const std::string& client, std::string_view token, Face face) {
  const auto* group = relays_.group(client, token);
  if (!group) return deny(face, client, token, kUnknownJob, 403);
  for (const std::string& t : *group) {
    Relay* r = relays_.find(t);
    Probe* p = r ? probes_.find(r->entry.component_identity) : nullptr;
    if (!r || r->final || !p) continue;
    const std::string json = R"({"interrupt":"measure","version":1,"token":")" + t + R"("})";
    // Interrupting again adds nothing: one interrupt waits per measurement (a client repeating
    // it cannot fill the probe's queue).
    if (std::any_of(p->queue.begin(), p->queue.end(),
                    [&](const QueuedForProbe& q) { return q.json == json; })) {
      continue;
    }
    auto id = store().enqueue(p->identity, json, now_us_());
    if (!id) {
      note_store(fail(id.error()), "queue an interrupt");
      continue;
    }
    probes_.enqueue(*p, {*id, t, json});
    wake(*p);
  }
  return mplane_answer(200, relays_.group_reply(*group));
}

// ---- time ----------------------------------------------------------------------------------

void Supervisor::tick() {
  const std::int64_t now = now_us_();
  for (auto it = held_.begin(); it != held_.end();) {
    if (it->second.deadline_us > now) {
      ++it;
      continue;
    }
    AnswerFn done = std::move(it->second.done);
    Probe* probe = probes_.find(it->first);
    it = held_.erase(it);
    if (probe) {
      done(answer_poll(*probe, true));
    } else {
      done({428, "text/plain", "not registered"});
    }
  }
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (it->deadline_us > now) {
      ++it;
      continue;
    }
    Waiter w = std::move(*it);
    it = waiters_.erase(it);
    const auto* group = relays_.group(w.client, w.token);
    w.done(group ? group_answer(*group, w.client, w.token)
                 : mplane_answer(200, exception_json(w.token, kUnknownJob)));
  }
  withdraw_silent();
  if (now >= next_expiry_us_) {
    next_expiry_us_ = now + 60 * 1000 * kUsPerMs;
    const std::int64_t before = now - options_.result_retention.count() * kUsPerMs;
    const std::vector<std::string> expired = relays_.expire(before);
    if (!expired.empty()) {
      auto gone = store().expire_relays(before);
      if (!gone) note_store(fail(gone.error()), "expire results");
      counters_.expired += expired.size();
      log::info("mplane supervisor: forgot " + std::to_string(expired.size()) +
                " uncollected replies older than the retention time");
    }
  }
}

void Supervisor::fail_queued(Probe& probe, std::string_view why) {
  const std::int64_t now = now_us_();
  for (const QueuedForProbe& q : probes_.take_queue(probe)) {
    Relay* r = relays_.find(q.component_token);
    if (!r || r->final) continue;
    relays_.set_reply(*r, exception_json(r->entry.client_token, why), now, true);
    note_store(store().set_reply(q.component_token, r->entry.reply_json, now), "store a failure");
    notify(r->entry.client_identity, r->entry.client_token);
  }
}

void Supervisor::withdraw_silent() {
  const std::int64_t limit = now_us_() - options_.withdraw_after.count() * kUsPerMs;
  std::vector<std::string> silent;
  for (const auto& [identity, probe] : probes_.all()) {
    if (probe.last_poll_us < limit && !held_.contains(identity)) silent.push_back(identity);
  }
  for (const std::string& identity : silent) {
    Probe* probe = probes_.find(identity);
    fail_queued(*probe, "Probe " + identity + " stopped polling: its capabilities were withdrawn");
    note_store(store().remove_probe(identity), "withdraw " + identity);
    probes_.remove(identity);
    ++counters_.withdrawn_probes;
    log::warn("mplane supervisor: withdrew the capabilities of " + identity + ": no poll for " +
              std::to_string(options_.withdraw_after.count() / 1000) + " s");
  }
}

// ---- listings ------------------------------------------------------------------------------

std::string Supervisor::capabilities_envelope(const std::string& client) const {
  std::string out = R"({"contents":[)";
  bool first = true;
  for (const auto& [identity, probe] : probes_.all()) {
    for (const OfferedCapability& c : probe.capabilities) {
      if (!allowed(client, c, probe)) continue;
      if (!first) out += ',';
      first = false;
      out += c.listed_json;
    }
  }
  return out + R"(],"envelope":"message","version":1})";
}

std::string Supervisor::capability_links_html(const std::string& client) const {
  std::string out = "<html><head><title>Capabilities</title></head><body>";
  for (const auto& [identity, probe] : probes_.all()) {
    for (const OfferedCapability& c : probe.capabilities) {
      if (!allowed(client, c, probe)) continue;
      out += "<a href='/capability/" + c.listed_token + "'>" + c.listed_token + "</a><br/>";
    }
  }
  return out + "</body></html>";
}

std::optional<std::string> Supervisor::listed_capability(const std::string& client,
                                                         std::string_view token) const {
  for (const auto& [identity, probe] : probes_.all()) {
    for (const OfferedCapability& c : probe.capabilities) {
      if (c.listed_token == token && allowed(client, c, probe)) return c.listed_json;
    }
  }
  return std::nullopt;
}

std::string Supervisor::fork_capabilities(const std::string& client) const {
  std::string out = "{";
  bool first_probe = true;
  for (const auto& [identity, probe] : probes_.all()) {
    std::string list;
    for (const OfferedCapability& c : probe.capabilities) {
      if (!allowed(client, c, probe)) continue;
      list += (list.empty() ? "" : ",") + c.listed_json;
    }
    if (list.empty()) continue;
    if (!first_probe) out += ',';
    first_probe = false;
    json::OutBuffer key;
    json::append_json_string(key, identity);
    out += key.str() + ":[" + list + "]";
  }
  return out + "}";
}

}  // namespace mplane::supervisor
