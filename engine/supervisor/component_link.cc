#include "engine/supervisor/component_link.h"

#include "parsers/base/log.h"
#include "parsers/json/message_writer.h"
#include "transport/http/html_links.h"

namespace mplane::supervisor {
namespace {

std::int64_t now_ms(uv_loop_t* loop) { return static_cast<std::int64_t>(uv_now(loop)); }

}  // namespace

ComponentLink::ComponentLink(uv_loop_t* loop, Supervisor& supervisor,
                             const model::RegistrySet& registries, ComponentLinkOptions options)
    : loop_(loop),
      supervisor_(supervisor),
      reader_(std::make_unique<json::MessageReader>(registries)),
      options_(std::move(options)) {}

ComponentLink::~ComponentLink() { close(); }

Status<> ComponentLink::start() {
  auto url = transport::parse_http_url(options_.url);
  if (!url) return fail(url.error());
  url_ = *url;
  if (url_.tls && !options_.tls) return fail(options_.url + ": an https component needs TLS");
  transport::AsyncHttpClientOptions o;
  o.host = url_.host;
  o.port = url_.port;
  o.tls = url_.tls ? options_.tls : nullptr;
  o.connect_timeout_ms = options_.timeout_ms;
  o.response_timeout_ms = options_.timeout_ms;
  o.total_timeout_ms = options_.timeout_ms;
  client_ = std::make_unique<transport::AsyncHttpClient>(loop_, o);
  timer_ = std::make_unique<loop::Timer>(loop_);
  timer_->start_repeating(std::chrono::milliseconds(100), [this] { every_tick(); });
  fetch_capabilities();
  return Ok{};
}

void ComponentLink::close() {
  *alive_ = false;
  if (!identity_.empty()) supervisor_.set_pusher(identity_, nullptr);
  requests_.clear();
  if (client_) client_->close();
  timer_.reset();
}

void ComponentLink::every_tick() {
  const std::int64_t now = now_ms(loop_);
  if (now - last_refresh_ms_ >= options_.refresh.count()) fetch_capabilities();
  if (now - last_redeem_ms_ >= options_.redeem_every.count()) redeem_pending();
}

void ComponentLink::send(std::string method, std::string path, std::string body,
                         std::function<void(Result<transport::HttpMessage>)> done) {
  requests_.push_back({std::move(method), std::move(path), std::move(body), std::move(done)});
  pump();
}

// One request at a time on the keep-alive connection, in order.
void ComponentLink::pump() {
  if (!client_ || client_->busy() || requests_.empty()) return;
  Request r = std::move(requests_.front());
  requests_.pop_front();
  const std::string type = r.body.empty() ? "" : std::string(kMplaneJson);
  client_->request(
      r.method, r.path, type, r.body,
      [this, alive = alive_, done = std::move(r.done)](Result<transport::HttpMessage> response) {
        if (!*alive) return;
        done(std::move(response));
        if (*alive) pump();
      });
}

void ComponentLink::fetch_capabilities() {
  last_refresh_ms_ = now_ms(loop_);
  send("GET", "/capabilities", "", [this](Result<transport::HttpMessage> r) {
    if (!r) {
      return log::warn("mplane supervisor: component " + options_.url + ": " + r.error());
    }
    identity_ = client_->peer_identity().empty() ? options_.url : client_->peer_identity();
    if (r->status == 200) return register_envelope(r->body);
    send("GET", "/capability", "", [this](Result<transport::HttpMessage> page) {
      if (page && page->status == 200) return fetch_html_links(page->body);
      log::warn("mplane supervisor: component " + options_.url + " lists no capabilities");
    });
  });
}

// The RI's list: each link fetched, the capabilities registered together once all are in.
void ComponentLink::fetch_html_links(const std::string& html) {
  std::vector<std::string> paths;
  for (const std::string& href : transport::html_links(html)) {
    std::string path = transport::link_path(href, "/capability");
    if (!path.empty()) paths.push_back(std::move(path));
  }
  auto members = std::make_shared<std::vector<std::string>>();
  auto left = std::make_shared<std::size_t>(paths.size());
  for (const std::string& path : paths) {
    send("GET", path, "", [this, members, left](Result<transport::HttpMessage> r) {
      if (r && r->status == 200) members->push_back(r->body);
      if (--*left > 0) return;
      std::string joined;
      for (const std::string& m : *members) joined += (joined.empty() ? "" : ",") + m;
      register_envelope(R"({"envelope":"message","version":1,"contents":[)" + joined + "]}");
    });
  }
}

void ComponentLink::register_envelope(const std::string& envelope) {
  auto owned = json::parse_owned(*reader_, envelope);
  if (!owned) {
    return log::warn("mplane supervisor: component " + options_.url +
                     ": capabilities do not parse: " + owned.error().describe(envelope));
  }
  Answer a = supervisor_.register_probe(identity_, std::move(owned.value()), false);
  if (a.status != 200) {
    return log::warn("mplane supervisor: component " + options_.url + ": " + a.body);
  }
  supervisor_.set_pusher(identity_, [this] { push_work(); });
  push_work();  // work queued while it was away
}

// Takes the probe's queued messages (as its poll would) and POSTs them one by one.
void ComponentLink::push_work() {
  if (pushing_) return;
  pushing_ = true;
  supervisor_.poll(identity_, std::nullopt, [this](Answer a) {
    pushing_ = false;
    if (a.status != 200) return;
    auto owned = json::parse_owned(*reader_, a.body);
    if (!owned) return;
    auto written = std::make_shared<std::function<void(bool)>>(std::move(a.on_written));
    auto left = std::make_shared<std::size_t>(0);
    auto all_ok = std::make_shared<bool>(true);
    std::vector<std::pair<std::string, std::string>> posts;  // token, JSON
    for (const model::Message& m : (*owned)->message.contents) {
      if (m.label && *m.label == "callback") continue;
      posts.emplace_back(std::string(m.token.value_or("")), json::to_json(m, {.pretty = false}));
    }
    *left = posts.size();
    for (auto& [token, body] : posts) {
      send("POST", url_.path, body,
           [this, token = token, written, left, all_ok](Result<transport::HttpMessage> r) {
             if (!r) *all_ok = false;
             deliver(token, std::move(r));
             if (--*left == 0 && *written) (*written)(*all_ok);
           });
    }
  });
}

// A component's reply to a specification or redemption, handed to the supervisor as a polling
// probe's POST /register/result would be.
void ComponentLink::deliver(const std::string& token, Result<transport::HttpMessage> reply) {
  if (!reply) {
    return log::warn("mplane supervisor: component " + options_.url + ": " + reply.error());
  }
  auto owned = json::parse_owned(*reader_, reply->body);
  if (!owned) {
    return log::warn("mplane supervisor: component " + options_.url + ": its reply for " + token +
                     " does not parse: " + owned.error().describe(reply->body));
  }
  model::Message& m = (*owned)->message;
  if (m.kind == model::MessageKind::kException && !m.exception_token) {
    m.exception_token = token;  // a 4xx with `"exception": null`: still this measurement's
  }
  if (m.kind == model::MessageKind::kReceipt) {
    pending_.insert(token);
  } else {
    pending_.erase(token);
  }
  supervisor_.post_result(identity_, m);
}

void ComponentLink::redeem_pending() {
  last_redeem_ms_ = now_ms(loop_);
  for (const std::string& token : pending_) {
    const std::string redemption =
        R"({"redemption":"measure","version":1,"token":")" + token + R"("})";
    send("POST", url_.path, redemption,
         [this, token](Result<transport::HttpMessage> r) { deliver(token, std::move(r)); });
  }
}

}  // namespace mplane::supervisor
