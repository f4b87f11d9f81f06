// The supervisor's HTTP(S) faces (engine/supervisor/WIRE.md): routes requests to the Supervisor
// core and writes its answers. One listener serves both faces (their paths differ); a second
// listener may take the component face alone, the first then serving only the client face.
//
// Identity: the peer certificate's (PROTOCOL.md §4.7); without TLS the RI client's
// `Forged-MPlane-Identity` header, else Identity.Unauthenticated.Default. On the component face
// an identity with an RDN value `Clients` (a client certificate) is refused with 401, as the
// architecture fork does.
//
// Loop-thread only, on the Supervisor's loop. close() and let the loop run before destroying.
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

struct SupervisorServerOptions {
  transport::HttpServerOptions http;          // host, port, TLS, limits: both faces, or clients'
  std::optional<std::string> component_host;  // set: the component face listens apart
  std::uint16_t component_port = 0;
  FacePaths paths;
};

class SupervisorServer {
 public:
  SupervisorServer(uv_loop_t* loop, Supervisor& supervisor, const model::RegistrySet& registries,
                   SupervisorServerOptions options);
  ~SupervisorServer();
  SupervisorServer(const SupervisorServer&) = delete;
  SupervisorServer& operator=(const SupervisorServer&) = delete;

  Status<> listen();
  std::uint16_t port() const;            // the client face (or both)
  std::uint16_t component_port() const;  // the component face
  void close();

 private:
  enum Faces : unsigned { kClientFace = 1, kComponentFace = 2 };
  void handle(unsigned faces, transport::HttpMessage&& request, transport::Responder responder);
  bool handle_component(transport::HttpMessage& request, const std::string& path,
                        const std::string& query, const std::string& identity,
                        transport::Responder& responder);
  bool handle_client(transport::HttpMessage& request, const std::string& path,
                     const std::string& identity, transport::Responder& responder);
  void post_client_message(transport::HttpMessage& request, std::string_view probe, Face face,
                           const std::string& identity, transport::Responder& responder);
  void post_fork_specification(transport::HttpMessage& request, const std::string& identity,
                               transport::Responder& responder);
  Result<std::unique_ptr<json::OwnedMessage>> parse(std::string&& body);

  uv_loop_t* loop_;
  Supervisor& supervisor_;
  const model::RegistrySet& registries_;
  SupervisorServerOptions options_;
  std::unique_ptr<json::MessageReader> reader_;
  std::unique_ptr<transport::HttpServer> server_;
  std::unique_ptr<transport::HttpServer> component_server_;
};

}  // namespace mplane::supervisor
