// The supervisor's HTTP(S) faces (engine/supervisor/WIRE.md): routes requests to the Supervisor
// core and writes its answers. One listener serves both faces (their paths differ); a second
// listener may take the component face alone, the first then serving only the client face.
//
// Identity: the peer certificate's (PROTOCOL.md §4.7); without TLS the RI client's
// `Forged-MPlane-Identity` header, else Identity.Unauthenticated.Default. On the component face
// an identity with an RDN value `Clients` (a client certificate) is refused with 401, as the
// architecture fork does.
//
// Loop-thread only, on the Supervisor's loop (the home shard). close() and let the loop run
// before destroying. With several shards the home shard need not listen: FrontServers
// (front_server.h) on the other shards take the connections, run HTTP and TLS there, and hand
// each request to handle() here; its answer goes back through their Sink.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/supervisor/supervisor.h"
#include "transport/http/http_server.h"

namespace mplane::supervisor {

struct FacePaths {
  std::string registration = "/register/capability";
  std::string specification = "/show/specification";
  std::string result = "/register/result";
};

// Sends one answer to the peer that asked. Called on the home shard; a front shard's Sink posts it
// over (and posts Answer::on_written back home).
using Sink = std::function<void(Answer)>;

struct SupervisorServerOptions {
  transport::HttpServerOptions http;          // host, port, TLS, limits: both faces, or clients'
  std::optional<std::string> component_host;  // set: the component face listens apart
  std::uint16_t component_port = 0;
  FacePaths paths;
};

// The listeners of one loop: options.http serving both faces, or the client face and a second
// one the component face. `handler` gets each request with the faces its listener serves.
struct FaceListeners {
  using FaceHandler =
      std::function<void(unsigned faces, transport::HttpMessage&&, transport::Responder)>;
  Status<> listen(uv_loop_t* loop, const SupervisorServerOptions& options, FaceHandler handler);
  std::uint16_t port() const { return main ? main->port() : 0; }
  std::uint16_t component_port() const { return component ? component->port() : port(); }
  void close();

  std::unique_ptr<transport::HttpServer> main;
  std::unique_ptr<transport::HttpServer> component;
};

class SupervisorServer {
 public:
  enum Faces : unsigned { kClientFace = 1, kComponentFace = 2 };

  SupervisorServer(uv_loop_t* loop, Supervisor& supervisor, const model::RegistrySet& registries,
                   SupervisorServerOptions options);
  ~SupervisorServer();
  SupervisorServer(const SupervisorServer&) = delete;
  SupervisorServer& operator=(const SupervisorServer&) = delete;

  // Listens itself (one shard: the home shard takes the connections).
  Status<> listen();
  // Until then every request gets 503 (the store is read back, the links are being set).
  void set_ready() { ready_ = true; }
  // A request, parsed by this server's listeners or a front shard's; `sink` answers it.
  void handle(unsigned faces, transport::HttpMessage&& request, Sink sink);
  // The Sink of a request taken on this loop.
  static Sink local_sink(transport::Responder responder, bool keep_alive);
  std::uint16_t port() const { return listeners_.port(); }  // the client face (or both)
  std::uint16_t component_port() const { return listeners_.component_port(); }
  void close();

 private:
  bool handle_component(transport::HttpMessage& request, const std::string& path,
                        const std::string& query, const std::string& identity, const Sink& sink);
  bool handle_client(transport::HttpMessage& request, const std::string& path,
                     const std::string& identity, const Sink& sink);
  void post_client_message(transport::HttpMessage& request, std::string_view probe, Face face,
                           const std::string& identity, const Sink& sink);
  void post_fork_specification(transport::HttpMessage& request, const std::string& identity,
                               const Sink& sink);
  Result<std::unique_ptr<json::OwnedMessage>> parse(std::string&& body);
  void answer(const Sink& sink, Answer a);
  AnswerFn answer_to(Sink sink);

  uv_loop_t* loop_;
  Supervisor& supervisor_;
  const model::RegistrySet& registries_;
  SupervisorServerOptions options_;
  std::unique_ptr<json::MessageReader> reader_;
  FaceListeners listeners_;
  bool ready_ = false;
};

}  // namespace mplane::supervisor
