// A client-initiated mPlane component over HTTP (PROTOCOL.md §4.1, §4.2): every shard listens on
// the same port (SO_REUSEPORT) and serves the capabilities and the specification, redemption
// and interrupt POSTs of the engine's scheduler.
//
// Routes, as the RI: GET /capability (HTML list of links), GET /capability/<token> (the
// capability), GET / (HTML page), plus GET /capabilities (an envelope of every capability, as
// the spec asks); POST / and POST /specification take one mPlane message with Content-Type
// exactly application/x-mplane+json. Replies are 200 with the mPlane message (exceptions
// included, as the RI); malformed messages get 400 and an exception with a null token.
// Deliberate differences from the RI (it answers these with 500): unknown token 404, other
// Content-Type 415, other methods 405 — each with an mPlane exception body.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/runtime/engine.h"
#include "transport/http/http_server.h"

namespace mplane::component {

struct ComponentOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 1228;
  std::string capability_link;  // URL written into each capability's `link` (empty: derived)
  std::string scheme = "http";  // for the derived link: "https" with TLS
  // Client-side TLS for indirect export (our certificate, the domain CA); null: plaintext
  // export only (http:// URLs).
  transport::TlsContext* export_tls = nullptr;
  transport::HttpServerOptions http;
};

class ComponentServer {
 public:
  ComponentServer(runtime::Engine& engine, const model::RegistrySet& registries,
                  ComponentOptions options);
  ~ComponentServer();
  ComponentServer(const ComponentServer&) = delete;
  ComponentServer& operator=(const ComponentServer&) = delete;

  // Starts one listener per shard. Errors name the address.
  Status<> start();
  std::uint16_t port() const { return port_; }

 private:
  struct Published;
  void handle(loop::Shard& shard, transport::HttpMessage&& request, transport::Responder responder);
  void handle_post(loop::Shard& shard, transport::HttpMessage&& request,
                   transport::Responder responder);
  void start_export(std::unique_ptr<json::OwnedMessage> spec, const std::string& identity,
                    transport::Responder responder, bool keep_alive);
  std::shared_ptr<const Published> publish(std::string_view identity, bool filtered) const;
  const Published& published_for(loop::Shard& shard, const std::string& identity);
  static std::string get(const Published& published, const std::string& target, int& status,
                         std::string& content_type);

  runtime::Engine& engine_;
  const model::RegistrySet& registries_;
  ComponentOptions options_;
  std::string link_;                            // written into each capability
  std::shared_ptr<const Published> published_;  // every capability (no access control)
  // Per shard: identity -> what it may see (with access control).
  std::vector<std::unordered_map<std::string, std::shared_ptr<const Published>>> caches_;
  std::vector<std::unique_ptr<transport::HttpServer>> servers_;  // one per shard
  // One reader per shard, reused for every request (its parser keeps its buffers).
  std::vector<std::unique_ptr<json::MessageReader>> readers_;
  std::uint16_t port_ = 0;
};

}  // namespace mplane::component
