#include "engine/component/component_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <unordered_set>
#include <utility>

#include "engine/component/streamed_result.h"
#include "parsers/json/message_writer.h"
#include "parsers/json/out_buffer.h"
#include "parsers/mplane/token.h"
#include "transport/http/async_http_client.h"
#include "transport/http/http_url.h"

namespace mplane::component {
namespace {

constexpr std::string_view kMplaneJson = "application/x-mplane+json";

// The component answers errors in the RI's indented layout.
std::string exception_json(std::optional<std::string_view> token, std::string_view text) {
  return json::exception_json(token, text, {.pretty = true});
}

// `host` as an IPv4 or IPv6 socket address with `port`.
Result<socklen_t> socket_address(const std::string& host, std::uint16_t port,
                                 sockaddr_storage& addr) {
  addr = {};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return static_cast<socklen_t>(sizeof *v4);
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return static_cast<socklen_t>(sizeof *v6);
  }
  return fail("'" + host + "' is not an IP address to listen on");
}

// Binds `host:port` without SO_REUSEPORT: 0 picks a free port. Fails when another socket
// listens there, whoever owns it (another component: SO_REUSEPORT would let our shards join
// its group and split its connections with it). SO_REUSEADDR keeps a port whose last
// connections are in TIME_WAIT usable (a restart).
Result<std::uint16_t> claim_port(const std::string& host, std::uint16_t port) {
  sockaddr_storage addr;
  auto len = socket_address(host, port, addr);
  if (!len) return fail(len.error());
  const int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(std::string("socket: ") + std::strerror(errno));
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  socklen_t bound_len = sizeof addr;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), *len) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &bound_len) == 0;
  const int err = errno;
  ::close(fd);
  const std::string where = host.find(':') != std::string::npos
                                ? "[" + host + "]:" + std::to_string(port)
                                : host + ":" + std::to_string(port);
  if (!ok && err == EADDRINUSE) {
    return fail("cannot listen on " + where +
                ": the port is in use by another process (is another component running?)");
  }
  if (!ok) return fail("cannot listen on " + where + ": " + std::strerror(err));
  return ntohs(addr.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&addr)->sin_port
                                         : reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
}

// scheme://host:port/ with an IPv6 host in brackets.
std::string base_url(const std::string& scheme, const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + "/";
}

// A 200 response carrying `m` in compact JSON, written once into the buffer that becomes the
// response (no whole-body string between them: a large reply exists at most twice, briefly).
std::string reply_bytes(const model::Message& m, bool keep_alive) {
  json::OutBuffer body;
  json::write_message(body, m, {.pretty = false});
  std::string out;
  out.reserve(body.size() + 160);
  transport::append_response(out, 200, kMplaneJson, body.view(), keep_alive);
  return out;
}

// Parses a request body, which it releases once copied into the parser's padded input (a large
// body never exists twice); the error names where the input is wrong. A reader that grew past
// kKeptReaderBytes for a large body is replaced, so that one large request does not keep its
// memory for the life of the shard.
Result<std::unique_ptr<json::OwnedMessage>> parse_request(
    std::unique_ptr<json::MessageReader>& reader, std::string&& body) {
  constexpr std::size_t kKeptReaderBytes = 1 << 20;
  const bool large = body.size() > kKeptReaderBytes;
  auto owned = std::make_unique<json::OwnedMessage>();
  owned->input = simdjson::padded_string(body);
  std::string().swap(body);
  auto m = reader->parse(owned->input, owned->arena);
  if (large) reader = std::make_unique<json::MessageReader>(reader->registries());
  if (!m) return fail(m.error().describe(std::string_view(owned->input)));
  owned->message = std::move(m.value());
  return owned;
}

}  // namespace

// What GET serves: built once at start from the capabilities (read-only afterwards, shared by
// every shard).
struct ComponentServer::Published {
  std::vector<std::pair<std::string, std::string>> capabilities;  // token, JSON
  std::string envelope_json;
  std::string links_html;
  std::string index_html;
};

ComponentServer::ComponentServer(runtime::Engine& engine, const model::RegistrySet& registries,
                                 ComponentOptions options)
    : engine_(engine), registries_(registries), options_(std::move(options)) {}

ComponentServer::~ComponentServer() = default;

Status<> ComponentServer::start() {
  auto port = claim_port(options_.host, options_.port);
  if (!port) return fail(port.error());
  options_.port = *port;
  port_ = options_.port;
  link_ = options_.capability_link.empty() ? base_url(options_.scheme, options_.host, port_)
                                           : options_.capability_link;
  published_ = publish("", /*filtered=*/false);
  caches_.resize(engine_.shard_count());

  servers_.resize(engine_.shard_count());
  readers_.resize(engine_.shard_count());
  for (auto& r : readers_) r = std::make_unique<json::MessageReader>(registries_);
  return engine_.run_on_each_shard([&](loop::Shard& shard) {
    transport::HttpServerOptions http = options_.http;
    http.host = options_.host;
    http.port = options_.port;
    auto server = std::make_unique<transport::HttpServer>(
        shard.loop(), http, [this, &shard](transport::HttpMessage&& r, transport::Responder resp) {
          handle(shard, std::move(r), std::move(resp));
        });
    auto st = server->listen();
    transport::HttpServer* raw = server.get();
    shard.add_shutdown_hook([raw] { raw->close(); });
    servers_[shard.index()] = std::move(server);  // each shard its own slot
    return st;
  });
}

// The listings an identity sees: only the capabilities its roles allow (every one when not
// `filtered`).
std::shared_ptr<const ComponentServer::Published> ComponentServer::publish(
    std::string_view identity, bool filtered) const {
  auto published = std::make_shared<Published>();
  model::Message envelope;
  envelope.kind = model::MessageKind::kEnvelope;
  envelope.verb = "message";
  published->links_html = "<html><head><title>Capabilities</title></head><body>";
  published->index_html =
      "<html><head><title>mplane-engine</title></head><body>This is a client-initiated mPlane "
      "component. POST mPlane messages to this URL to use.<br/><a href='/capability'>"
      "Capabilities</a> provided by this server:<br/><br/>";
  std::deque<std::string> tokens;  // the envelope's members borrow these until it is written
  for (const model::Message* cap : engine_.capabilities()) {
    if (filtered && !engine_.allowed(identity, *cap)) continue;
    model::Message c = *cap;
    c.link = link_;
    tokens.push_back(c.token ? std::string(*c.token) : model::mpcv_hash(c));
    c.token = tokens.back();
    const std::string text = json::to_json(c);
    published->capabilities.emplace_back(tokens.back(), text);
    published->links_html +=
        "<a href='/capability/" + tokens.back() + "'>" + tokens.back() + "</a><br/>";
    published->index_html += "<pre>" + text + "</pre>";
    envelope.contents.push_back(c);
  }
  published->envelope_json = json::to_json(envelope);
  published->links_html += "</body></html>";
  published->index_html += "</body></html>";
  return published;
}

// With access control, each identity's listings are built on first use and kept per shard
// (identities are certificates of the domain: few; the cache is emptied past kMaxCached).
const ComponentServer::Published& ComponentServer::published_for(loop::Shard& shard,
                                                                 const std::string& identity) {
  if (!engine_.has_access_control()) return *published_;
  auto& cache = caches_[shard.index()];
  if (auto it = cache.find(identity); it != cache.end()) return *it->second;
  constexpr std::size_t kMaxCached = 1024;
  if (cache.size() >= kMaxCached) cache.clear();
  return *cache.emplace(identity, publish(identity, true)).first->second;
}

std::string ComponentServer::get(const Published& published, const std::string& target, int& status,
                                 std::string& content_type) {
  status = 200;
  content_type = "text/html";
  if (target == "/") return published.index_html;
  if (target == "/capability") return published.links_html;
  content_type = std::string(kMplaneJson);
  if (target == "/capabilities") return published.envelope_json;
  const std::string prefix = "/capability/";
  if (target.starts_with(prefix)) {
    const std::string token = target.substr(prefix.size());
    for (const auto& [t, text] : published.capabilities) {
      if (t == token) return text;
    }
    status = 404;
    return exception_json(std::string_view(token), "Unknown capability");
  }
  status = 404;
  return exception_json(std::nullopt, "No such resource: " + target);
}

void ComponentServer::handle(loop::Shard& shard, transport::HttpMessage&& request,
                             transport::Responder responder) {
  if (request.method == "GET") {
    int status = 200;
    std::string type;
    std::string body =
        get(published_for(shard, request.peer_identity), request.target, status, type);
    std::string out;
    transport::append_response(out, status, type, body, request.keep_alive);
    return responder.send(std::move(out));
  }
  if (request.method == "POST" && (request.target == "/" || request.target == "/specification")) {
    return handle_post(shard, std::move(request), std::move(responder));
  }
  std::string out;
  transport::append_response(
      out, 405, kMplaneJson,
      exception_json(std::nullopt, "Method not allowed: " + request.method + " " + request.target),
      request.keep_alive);
  responder.send(std::move(out));
}

void ComponentServer::handle_post(loop::Shard& shard, transport::HttpMessage&& request,
                                  transport::Responder responder) {
  const bool keep_alive = request.keep_alive;
  auto reply_now = [&](int status, const std::string& body) {
    std::string out;
    transport::append_response(out, status, kMplaneJson, body, keep_alive);
    responder.send(std::move(out));
  };
  const std::string* type = request.header("Content-Type");
  if (!type || *type != kMplaneJson) {
    return reply_now(
        415, exception_json(std::nullopt, "Content-Type must be " + std::string(kMplaneJson)));
  }
  auto message = parse_request(readers_[shard.index()], std::move(request.body));
  if (!message) return reply_now(400, exception_json(std::nullopt, message.error()));
  const model::Message& m = (*message)->message;
  // Every message is checked as `mplane msg check` does before anything runs it (a `*`
  // value, a missing `when` or registry).
  if (auto st = model::validate(m); !st) {
    return reply_now(
        400, exception_json(std::nullopt,
                            "invalid " + std::string(model::kind_key(m.kind)) + ": " + st.error()));
  }
  if (m.kind == model::MessageKind::kSpecification && m.export_url) {
    return start_export(std::move(message.value()), request.peer_identity, std::move(responder),
                        keep_alive);
  }
  // The job's shard answers; the response goes back to this connection's shard.
  const bool accepted = engine_.submit(
      std::move(message.value()), request.peer_identity,
      [&shard, responder, keep_alive](const sched::Reply& r) mutable {
        // Compact: the RI parses it as well, and it is a third of the bytes of its layout.
        std::string out = reply_bytes(*r, keep_alive);
        if (loop::Shard::current() == &shard) return responder.send(std::move(out));
        shard.post(loop::make_task(
            [responder, out = std::move(out)]() mutable { responder.send(std::move(out)); }));
      },
      [&shard, responder, keep_alive](runtime::Engine::StreamControl control) {
        return std::make_shared<StreamedResult>(shard, responder, keep_alive, std::move(control));
      });
  if (!accepted) reply_now(503, exception_json(std::nullopt, "Shutting down"));
}

namespace {

// `mplane-https://host:port/path` (the protocol's scheme) as the https URL it stands for; plain
// http:// and https:// are taken as they are.
Result<transport::HttpUrl> export_target(std::string_view url) {
  std::string u(url);
  if (u.starts_with("mplane-https://")) u = "https://" + u.substr(15);
  if (!u.starts_with("https://") && !u.starts_with("http://")) {
    return fail("unsupported export URL '" + std::string(url) +
                "' (mplane-https://, https:// or http://)");
  }
  return transport::parse_http_url(u);
}

// One result on its way to an export URL, on the shard's loop (the asynchronous client: no
// thread, no blocking). Deletes itself when the POST is answered or has failed; a failure is
// reported on stderr with the token. Exports still in flight when the shard stops are
// abandoned (and reported) by a shutdown hook, so that their connections close with the loop.
class ExportJob {
 public:
  static void start(uv_loop_t* loop, const transport::HttpUrl& target, transport::TlsContext* tls,
                    const std::string& body, std::string token) {
    // NOLINTNEXTLINE(bugprone-unhandled-exception-at-new): OOM aborts
    auto* job = new ExportJob(loop, target, tls, std::move(token));
    track(job);
    job->client_.request("POST", target.path, kMplaneJson, body,
                         [job](const Result<transport::HttpMessage>& res) {
                           job->report(res);
                           in_flight().erase(job);
                           delete job;  // the client's last step: nothing touches it after
                         });
  }

 private:
  ExportJob(uv_loop_t* loop, const transport::HttpUrl& target, transport::TlsContext* tls,
            std::string token)
      : target_(target), token_(std::move(token)), client_(loop, options(target, tls)) {}

  // This shard's exports in flight (one set per shard thread).
  static std::unordered_set<ExportJob*>& in_flight() {
    thread_local std::unordered_set<ExportJob*> jobs;
    return jobs;
  }
  static void track(ExportJob* job) {
    thread_local bool hooked = false;
    if (!std::exchange(hooked, true)) loop::Shard::current()->add_shutdown_hook(&abandon_all);
    in_flight().insert(job);
  }
  static void abandon_all() {
    auto jobs = std::move(in_flight());
    in_flight().clear();
    for (ExportJob* job : jobs) {
      job->report(fail(std::string("abandoned: the component is stopping")));
      delete job;  // closes its connection (the loop runs once more to finish closing)
    }
  }

  static transport::AsyncHttpClientOptions options(const transport::HttpUrl& target,
                                                   transport::TlsContext* tls) {
    transport::AsyncHttpClientOptions o;
    o.host = target.host;
    o.port = target.port;
    o.tls = tls;
    o.connect_timeout_ms = 30000;
    o.response_timeout_ms = 30000;
    o.total_timeout_ms = 120000;  // a collector that trickles its answer cannot hold the export
    return o;
  }

  void report(const Result<transport::HttpMessage>& res) const {
    std::string error;
    if (!res) {
      error = res.error();
    } else if (res->status != 200) {
      error = "HTTP " + std::to_string(res->status);
    }
    if (error.empty()) return;
    std::fprintf(stderr, "mplane component: export of %s to %s failed: %s\n", token_.c_str(),
                 target_.str().c_str(), error.c_str());
  }

  transport::HttpUrl target_;
  std::string token_;
  transport::AsyncHttpClient client_;
};

}  // namespace

// Indirect export (PROTOCOL.md §1.2, §2.10): the client gets a receipt at once; when the job
// completes, its result is POSTed to the export URL by the asynchronous client on the shard's
// loop. A failed export is reported on stderr with the token.
void ComponentServer::start_export(std::unique_ptr<json::OwnedMessage> spec,
                                   const std::string& identity, transport::Responder responder,
                                   bool keep_alive) {
  const model::Message& m = spec->message;
  auto target = export_target(*m.export_url);
  std::string out;
  if (!target || (target->tls && !options_.export_tls)) {
    const std::string why =
        target ? "an https export needs the component to run with TLS" : target.error();
    transport::append_response(out, 400, kMplaneJson, exception_json(m.token, why), keep_alive);
    return responder.send(std::move(out));
  }
  const std::string token = model::effective_token(m).value_or("");
  model::Message receipt = m;
  receipt.kind = model::MessageKind::kReceipt;
  receipt.token = token;
  receipt.link.reset();
  transport::append_response(out, 200, kMplaneJson, json::to_json(receipt, {.pretty = false}),
                             keep_alive);
  responder.send(std::move(out));
  transport::TlsContext* tls = target->tls ? options_.export_tls : nullptr;
  engine_.submit_until_complete(
      std::move(spec), identity, [target = *target, tls, token](const sched::Reply& r) {
        ExportJob::start(loop::Shard::current()->loop(), target, tls,
                         json::to_json(*r, {.pretty = false}),  // here: `r` borrows the job
                         token);
      });
}

}  // namespace mplane::component
