#include "engine/client/mplane_client.h"

#include <chrono>
#include <thread>

#include "engine/client/mplane_reply.h"
#include "engine/client/specification.h"
#include "engine/client/streamed_reply.h"
#include "transport/http/html_links.h"

namespace mplane::client {
namespace {

using json::OwnedMessage;
using model::Message;
using model::MessageKind;
using OwnedPtr = std::unique_ptr<OwnedMessage>;

constexpr std::size_t kHandOverBytes = std::size_t{16} << 20;  // parse_owned_consuming
constexpr int kMaxLinkDepth = 8;

// Sleeps up to `micros`, in slices, returning early once `stop()` says so.
void sleep_unless(std::int64_t micros, const std::function<bool()>& stop) {
  constexpr std::int64_t kSlice = 50'000;
  for (std::int64_t left = micros; left > 0 && !(stop && stop()); left -= kSlice) {
    std::this_thread::sleep_for(std::chrono::microseconds(std::min(left, kSlice)));
  }
}

}  // namespace

std::int64_t wall_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Client::Client(model::RegistrySet registries, HttpExchange& exchange, std::uint64_t timeout_ms)
    : registries_(std::move(registries)),
      reader_(registries_),
      exchange_(exchange),
      timeout_ms_(timeout_ms) {}

Status<> Client::set_url(const std::string& text) {
  auto u = transport::parse_http_url(text);
  if (!u) return fail(u.error());
  default_url_ = *u;
  return Ok{};
}

Result<transport::HttpMessage> Client::http(const transport::HttpUrl& url, std::string_view method,
                                            const std::string& path, std::string_view body) {
  return exchange_.send(url, {.method = method,
                              .target = path,
                              .content_type = body.empty() ? "" : kMplaneJson,
                              .body = body,
                              .timeout_ms = timeout_ms_});
}

Result<OwnedPtr, PostError> Client::post(const transport::HttpUrl& url, const std::string& body,
                                         json::ResultStreamHandler* rows) {
  return rows ? post_streamed(url, body, *rows) : post_whole(url, body);
}

Result<OwnedPtr, PostError> Client::post_streamed(const transport::HttpUrl& url,
                                                  const std::string& body,
                                                  json::ResultStreamHandler& rows) {
  StreamedReply reply(registries_, rows);
  auto r = exchange_.send(url,
                          {.method = "POST",
                           .target = url.path,
                           .content_type = kMplaneJson,
                           .body = body,
                           .timeout_ms = timeout_ms_},
                          reply.sink());
  if (!r) {
    if (reply.refused()) return fail("POST " + url.str() + ": bad reply: " + *reply.refused());
    return fail(PostError(r.error(), true));
  }
  auto m = reply.finish(url, *r);
  if (!m) return fail(m.error());
  return std::move(m.value());
}

Result<OwnedPtr, PostError> Client::post_whole(const transport::HttpUrl& url,
                                               const std::string& body) {
  auto r = http(url, "POST", url.path, body);
  if (!r) return fail(PostError(r.error(), true));
  const bool mplane = is_mplane_reply(*r);
  // A large result is handed over, not copied: the reply text is released before the values
  // are built (an error in it is then described by its byte offset only).
  auto parsed = mplane && r->body.size() > kHandOverBytes
                    ? json::parse_owned_consuming(reader_, std::move(r->body))
                    : json::parse_owned(reader_, r->body);
  if (!parsed) {
    if (!mplane) return fail(not_mplane_error(url, r->status, r->body));
    return fail("POST " + url.str() + ": bad reply: " + parsed.error().describe(r->body));
  }
  return std::move(parsed.value());
}

// --- Discovery -----------------------------------------------------------------------------

Status<> Client::discover(const transport::HttpUrl& base, const std::string& path,
                          std::set<std::string>& visited, bool& found, int depth) {
  if (!visited.insert(path).second || depth > kMaxLinkDepth) return Ok{};
  auto r = http(base, "GET", path);
  if (!r) return fail(r.error());
  if (r->status != 200) {
    return depth == 0
               ? fail("GET " + base.authority() + path + ": HTTP " + std::to_string(r->status))
               : Status<>(Ok{});
  }
  const std::string* type = r->header("Content-Type");
  const std::string content_type = type ? type->substr(0, type->find(';')) : "";
  if (content_type == kMplaneJson) {
    auto parsed = json::parse_owned(reader_, r->body);
    if (!parsed) {
      return fail("GET " + base.authority() + path + ": " + parsed.error().describe(r->body));
    }
    found = true;
    received_ += caps_.add(std::move(parsed.value()));
    return Ok{};
  }
  if (content_type != "text/html") return Ok{};
  for (const std::string& href : transport::html_links(r->body)) {
    const std::string next = transport::link_path(href, path);
    if (next.empty()) continue;
    if (auto st = discover(base, next, visited, found, depth + 1); !st) return st;
  }
  return Ok{};
}

// Our component serves an envelope at /capabilities; the RI does not (404/500). False: try the
// URL's own path.
Result<bool> Client::try_capabilities_envelope(const transport::HttpUrl& url) {
  auto r = http(url, "GET", "/capabilities");
  if (!r) return fail(r.error());
  if (!is_mplane_reply(*r)) return false;
  auto parsed = json::parse_owned(reader_, r->body);
  if (!parsed) return false;
  received_ += caps_.add(std::move(parsed.value()));
  return true;
}

Result<std::size_t> Client::get_capabilities(const std::string& text) {
  transport::HttpUrl url;
  if (text.empty()) {
    if (!last_getcap_ && !default_url_) return fail("no URL: give one (or seturl URL first)");
    url = last_getcap_ ? *last_getcap_ : *default_url_;
  } else {
    auto u = transport::parse_http_url(text);
    if (!u) return fail(u.error());
    url = *u;
  }
  if (!default_url_) default_url_ = url;
  last_getcap_ = url;
  const std::size_t before = received_;
  std::set<std::string> visited;
  bool found = false;
  if (!url.has_path) {
    auto envelope = try_capabilities_envelope(url);
    if (!envelope) return fail(envelope.error());
    found = *envelope;
  }
  if (!found) {
    if (auto st = discover(url, url.path, visited, found, 0); !st) return fail(st.error());
  }
  if (!found) return fail("no capabilities at " + url.str());
  return received_ - before;
}

// --- Measurements --------------------------------------------------------------------------

Result<Measurement*> Client::run(const Message& cap, const std::string& when_text,
                                 const std::map<std::string, std::string>& params,
                                 std::string label, json::ResultStreamHandler* rows) {
  auto when = specification_scope(cap, when_text, wall_now_us());
  if (!when) return fail(when.error());
  if (label.empty()) label = label_of(cap) + "-" + std::to_string(serial_++);
  auto spec = build_specification(cap, *when, params, label);
  if (!spec) return fail(spec.error());
  auto url = specification_url(cap, default_url_);
  if (!url) return fail(url.error());
  auto reply = post(*url, spec->body, rows);
  if (!reply) return fail(reply.error().text);
  auto m = std::make_unique<Measurement>();
  m->label = label;
  m->token = spec->token;
  m->url = *url;
  m->reply = std::move(reply.value());
  if (m->reply->message.token) m->token = std::string(*m->reply->message.token);
  measurements_.push_back(std::move(m));
  return measurements_.back().get();
}

Measurement& Client::adopt(const std::string& token, const transport::HttpUrl& url) {
  auto m = std::make_unique<Measurement>();
  m->label = token;
  m->token = token;
  m->url = url;
  m->reply = std::make_unique<OwnedMessage>();
  m->reply->message = token_only_receipt(m->reply->arena.keep(token));
  measurements_.push_back(std::move(m));
  return *measurements_.back();
}

Status<PostError> Client::redeem(Measurement& m, bool interrupt, json::ResultStreamHandler* rows) {
  const Message& current = m.reply->message;
  if (current.kind != MessageKind::kReceipt && !interrupt) return Ok{};
  auto body = redemption_body(current, m.token, interrupt);
  if (!body) return fail(body.error());
  auto reply = post(m.url, *body, rows);
  if (!reply) return fail(reply.error());
  m.reply = std::move(reply.value());
  return Ok{};
}

Status<PostError> Client::wait_for_result(Measurement& m, const WaitOptions& o) {
  bool first = o.until_scope_end;
  bool interrupted = false;
  const auto asked = [&] { return o.interrupt_requested && o.interrupt_requested(); };
  while (m.reply->message.kind == MessageKind::kReceipt) {
    const std::int64_t now = wall_now_us();
    if (now >= o.until) return Ok{};
    sleep_unless(poll_delay(m.reply->message, first, now, o.until), asked);
    first = false;
    if (!interrupted && asked()) {
      interrupted = true;
      if (o.on_interrupting) o.on_interrupting(m);
      if (auto st = redeem(m, true, o.rows); !st) return st;
      continue;  // the interrupt's reply: the result, or the receipt until it is ready
    }
    if (auto st = redeem(m, false, o.rows); !st) return st;
  }
  return Ok{};
}

Result<Measurement*> Client::find_measurement(std::string_view key) {
  for (auto& m : measurements_) {
    if (m->label == key || m->token == key) return m.get();
  }
  return fail("no measurement '" + std::string(key) + "' (listmeas shows them)");
}

}  // namespace mplane::client
