#include "engine/supervisor/supervisor_server.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>

#include "parsers/base/log.h"
#include "parsers/json/message_writer.h"
#include "parsers/json/out_buffer.h"

namespace mplane::supervisor {
namespace {

constexpr std::string_view kUnauthenticated = "Identity.Unauthenticated.Default";

Answer error(int status, std::string_view text) {
  return {status, std::string(kMplaneJson), json::exception_json(std::nullopt, text), {}};
}

std::string percent_decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    unsigned value = 0;
    if (in[i] == '%' && i + 2 < in.size() &&
        std::from_chars(in.data() + i + 1, in.data() + i + 3, value, 16).ptr == in.data() + i + 3) {
      out += static_cast<char>(value);
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

// Whether a dotted identity has the RDN value `unit` (org.mplane.SSB.Clients.Client-1: Clients).
bool has_unit(std::string_view identity, std::string_view unit) {
  std::size_t start = 0;
  while (start <= identity.size()) {
    const std::size_t dot = identity.find('.', start);
    const std::size_t end = dot == std::string_view::npos ? identity.size() : dot;
    if (identity.substr(start, end - start) == unit) return true;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return false;
}

// `?wait=S` of a poll: the seconds a long poll may be held.
std::optional<std::chrono::milliseconds> wait_of(std::string_view query) {
  constexpr std::string_view kKey = "wait=";
  const std::size_t at = query.find(kKey);
  if (at == std::string_view::npos || (at > 0 && query[at - 1] != '&')) return std::nullopt;
  const char* begin = query.data() + at + kKey.size();
  double seconds = 0;
  auto [ptr, ec] = std::from_chars(begin, query.data() + query.size(), seconds);
  if (ec != std::errc() || seconds < 0) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

bool is_mplane_json(const transport::HttpMessage& request) {
  const std::string* type = request.header("Content-Type");
  return type && *type == kMplaneJson;
}

// The answers to several specifications of one request, sent together when the last is in: one
// answer as it is, several as an envelope (the worst status wins).
class Gather {
 public:
  Gather(std::size_t n, AnswerFn done) : answers_(n), left_(n), done_(std::move(done)) {}
  void put(std::size_t i, Answer a) {
    answers_[i] = std::move(a);
    if (--left_ > 0) return;
    if (answers_.size() == 1) return done_(std::move(answers_[0]));
    std::string body = R"({"contents":[)";
    int status = 200;
    for (std::size_t k = 0; k < answers_.size(); ++k) {
      body += (k ? "," : "") + answers_[k].body;
      status = std::max(status, answers_[k].status);
    }
    done_({status, std::string(kMplaneJson), body + R"(],"envelope":"message","version":1})", {}});
  }

 private:
  std::vector<Answer> answers_;
  std::size_t left_;
  AnswerFn done_;
};

}  // namespace

SupervisorServer::SupervisorServer(uv_loop_t* loop, Supervisor& supervisor,
                                   const model::RegistrySet& registries,
                                   SupervisorServerOptions options)
    : loop_(loop),
      supervisor_(supervisor),
      registries_(registries),
      options_(std::move(options)),
      reader_(std::make_unique<json::MessageReader>(registries)) {}

SupervisorServer::~SupervisorServer() = default;

Status<> FaceListeners::listen(uv_loop_t* loop, const SupervisorServerOptions& options,
                               FaceHandler handler) {
  const unsigned faces = options.component_host
                             ? SupervisorServer::kClientFace
                             : SupervisorServer::kClientFace | SupervisorServer::kComponentFace;
  main = std::make_unique<transport::HttpServer>(
      loop, options.http, [handler, faces](transport::HttpMessage&& r, transport::Responder resp) {
        handler(faces, std::move(r), std::move(resp));
      });
  if (auto st = main->listen(); !st) return st;
  if (!options.component_host) return Ok{};
  transport::HttpServerOptions http = options.http;
  http.host = *options.component_host;
  http.port = options.component_port;
  component = std::make_unique<transport::HttpServer>(
      loop, http, [handler](transport::HttpMessage&& r, transport::Responder resp) {
        handler(SupervisorServer::kComponentFace, std::move(r), std::move(resp));
      });
  return component->listen();
}

void FaceListeners::close() {
  if (main) main->close();
  if (component) component->close();
}

Status<> SupervisorServer::listen() {
  return listeners_.listen(
      loop_, options_,
      [this](unsigned faces, transport::HttpMessage&& r, transport::Responder resp) {
        const bool keep_alive = r.keep_alive;
        handle(faces, std::move(r), local_sink(std::move(resp), keep_alive));
      });
}

// Every answer leaves once what it acknowledges is committed (Supervisor::after_commit).
void SupervisorServer::answer(const Sink& sink, Answer a) {
  supervisor_.after_commit([sink, a = std::move(a)]() mutable { sink(std::move(a)); });
}

AnswerFn SupervisorServer::answer_to(Sink sink) {
  return [this, sink = std::move(sink)](Answer a) { answer(sink, std::move(a)); };
}

Sink SupervisorServer::local_sink(transport::Responder responder, bool keep_alive) {
  return [responder, keep_alive](Answer answer) mutable {
    std::string out;
    transport::append_response(out, answer.status, answer.content_type, answer.body, keep_alive);
    if (!answer.on_written) return responder.send(std::move(out));
    responder.send_part(std::move(out), std::move(answer.on_written));
    responder.send({});
  };
}

void SupervisorServer::close() { listeners_.close(); }

Result<std::unique_ptr<json::OwnedMessage>> SupervisorServer::parse(std::string&& body) {
  auto owned = json::parse_owned_consuming(*reader_, std::move(body));
  if (!owned) return fail(owned.error().describe(""));
  return std::move(owned.value());
}

void SupervisorServer::handle(unsigned faces, transport::HttpMessage&& request, Sink sink) {
  if (!ready_) return sink(error(503, "The supervisor is starting"));
  std::string identity = request.peer_identity;
  if (!options_.http.tls && identity == kUnauthenticated) {
    if (const std::string* forged = request.header("Forged-MPlane-Identity")) identity = *forged;
  }
  const std::size_t q = request.target.find('?');
  std::string path = request.target.substr(0, q);
  const std::string query = q == std::string::npos ? "" : request.target.substr(q + 1);
  if (path.size() > 1 && path.back() == '/' && !path.starts_with("/probe/")) path.pop_back();
  if ((faces & kComponentFace) && handle_component(request, path, query, identity, sink)) {
    return;
  }
  if ((faces & kClientFace) && handle_client(request, path, identity, sink)) return;
  answer(sink, error(request.method == "GET" || request.method == "POST" ? 404 : 405,
                     "No such resource: " + request.method + " " + request.target));
}

bool SupervisorServer::handle_component(transport::HttpMessage& request, const std::string& path,
                                        const std::string& query, const std::string& identity,
                                        const Sink& sink) {
  const FacePaths& p = options_.paths;
  const bool registration = request.method == "POST" && path == p.registration;
  const bool poll = request.method == "GET" && path == p.specification;
  const bool result = request.method == "POST" && path == p.result;
  if (!registration && !poll && !result) return false;
  if (has_unit(identity, "Clients")) {
    log::warn("mplane supervisor: refused " + request.method + " " + path + " from " + identity +
              ": a client certificate on the component face");
    answer(sink, error(401, "A client certificate (" + identity + ") cannot act as a component"));
    return true;
  }
  if (poll) {
    supervisor_.poll(identity, wait_of(query), answer_to(sink));
    return true;
  }
  if (!is_mplane_json(request)) {
    answer(sink, error(415, "Content-Type must be application/x-mplane+json"));
    return true;
  }
  const bool array = request.body.find_first_not_of(" \t\r\n") != std::string::npos &&
                     request.body[request.body.find_first_not_of(" \t\r\n")] == '[';
  if (registration && array) {  // the fork's dialect: an array of capabilities
    request.body = R"({"envelope":"message","version":1,"contents":)" + request.body + "}";
  }
  auto message = parse(std::move(request.body));
  if (!message) {
    answer(sink, error(400, message.error()));
    return true;
  }
  if (registration) {
    answer(sink, supervisor_.register_probe(identity, std::move(message.value()), array));
  } else {
    answer(sink, supervisor_.post_result(identity, (*message)->message));
  }
  return true;
}

bool SupervisorServer::handle_client(transport::HttpMessage& request, const std::string& path,
                                     const std::string& identity, const Sink& sink) {
  auto html = [&](std::string body) { answer(sink, {200, "text/html", std::move(body), {}}); };
  auto mplane = [&](int status, std::string body) {
    answer(sink, {status, std::string(kMplaneJson), std::move(body), {}});
  };
  if (request.method == "GET") {
    if (path == "/") return html(supervisor_.status_page(identity)), true;
    if (path == "/capability") return html(supervisor_.capability_links_html(identity)), true;
    if (path == "/capabilities")
      return mplane(200, supervisor_.capabilities_envelope(identity)), true;
    if (path == "/show/capability")
      return mplane(200, supervisor_.fork_capabilities(identity)), true;
    if (path.starts_with("/capability/")) {
      auto cap = supervisor_.listed_capability(identity, path.substr(12));
      if (cap) return mplane(200, *cap), true;
      return mplane(404, json::exception_json(std::nullopt, "Unknown capability")), true;
    }
    return false;
  }
  if (request.method != "POST") return false;
  if (path == "/" || path == "/specification") {
    post_client_message(request, "", Face::kRi, identity, sink);
    return true;
  }
  if (path.starts_with("/probe/")) {
    std::string rest = path.substr(7);
    const std::size_t slash = rest.find('/');
    const std::string probe = percent_decode(rest.substr(0, slash));
    post_client_message(request, probe, Face::kRi, identity, sink);
    return true;
  }
  if (path == "/register/specification") {
    post_fork_specification(request, identity, sink);
    return true;
  }
  if (path == "/show/result") {
    post_client_message(request, "", Face::kFork, identity, sink);
    return true;
  }
  return false;
}

void SupervisorServer::post_client_message(transport::HttpMessage& request, std::string_view probe,
                                           Face face, const std::string& identity,
                                           const Sink& sink) {
  if (!is_mplane_json(request)) {
    return answer(sink, error(415, "Content-Type must be application/x-mplane+json"));
  }
  auto message = parse(std::move(request.body));
  if (!message) return answer(sink, error(400, message.error()));
  const model::Message& m = (*message)->message;
  if (auto st = model::validate(m); !st) {
    return answer(
        sink, error(400, "invalid " + std::string(model::kind_key(m.kind)) + ": " + st.error()));
  }
  const std::string token(m.token.value_or(""));
  switch (m.kind) {
    case model::MessageKind::kSpecification:
      if (face == Face::kFork) break;
      return supervisor_.specify(identity, m, probe, face, answer_to(sink));
    case model::MessageKind::kRedemption:
      return supervisor_.redeem(identity, token, face, answer_to(sink));
    case model::MessageKind::kInterrupt:
      if (face == Face::kFork) break;
      return answer(sink, supervisor_.interrupt(identity, token, face));
    default:
      break;
  }
  answer(sink, error(face == Face::kFork ? 400 : 200, "Unexpected message type"));
}

// The fork's `POST /register/specification`: `{"<probe identity>": <specification>, ...}`. One
// probe: its answer; several: an envelope of the answers, in the body's order.
void SupervisorServer::post_fork_specification(transport::HttpMessage& request,
                                               const std::string& identity, const Sink& sink) {
  if (!is_mplane_json(request)) {
    return answer(sink, error(415, "Content-Type must be application/x-mplane+json"));
  }
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(request.body).get_object().get(object) != simdjson::SUCCESS) {
    return answer(sink, error(400, "expected {\"<probe identity>\": <specification>, ...}"));
  }
  std::vector<std::pair<std::string, std::unique_ptr<json::OwnedMessage>>> specs;
  for (auto [key, value] : object) {
    auto message = parse(simdjson::minify(value));
    if (!message) return answer(sink, error(400, message.error()));
    if ((*message)->message.kind != model::MessageKind::kSpecification) {
      return answer(sink, error(400, "expected a specification for each probe"));
    }
    specs.emplace_back(std::string(key), std::move(message.value()));
  }
  if (specs.empty()) return answer(sink, error(400, "no probe named"));
  auto gather = std::make_shared<Gather>(specs.size(), answer_to(sink));
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const std::string& probe = specs[i].first;
    if (!supervisor_.probes().all().contains(probe)) {
      gather->put(i, error(503, "Probe " + probe + " is not available"));
      continue;
    }
    supervisor_.specify(identity, specs[i].second->message, probe, Face::kFork,
                        [gather, i](Answer a) { gather->put(i, std::move(a)); });
  }
}

}  // namespace mplane::supervisor
