// A client-initiated component the supervisor uses (issue 12, "Client-initiated components"):
// it fetches the component's capabilities (GET /capabilities, our component's envelope; else the
// RI's HTML list at /capability, followed link by link) and registers them in the Supervisor as
// a probe named by the component's identity (its certificate, §4.7; its URL over plaintext);
// specifications queued for that probe are POSTed to the component as soon as they are queued,
// receipts are redeemed every `redeem_every` until the result comes, and every reply goes to the
// Supervisor as a polling probe's would. Capabilities are fetched again every `refresh`, which is
// also the probe's liveness: a component unreachable for the supervisor's withdraw-after is
// withdrawn, and registered again when it answers.
//
// One AsyncHttpClient (keep-alive, one request at a time, every exchange with a total deadline),
// on the Supervisor's loop. Loop-thread only; close() before the loop ends.
#pragma once

#include <uv.h>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "engine/loop/timer.h"
#include "engine/supervisor/supervisor.h"
#include "transport/http/async_http_client.h"
#include "transport/http/http_url.h"

namespace mplane::supervisor {

struct ComponentLinkOptions {
  std::string url;                            // http(s)://host:port[/path]
  transport::TlsContext* tls = nullptr;       // client role (the supervisor's identity)
  std::chrono::milliseconds refresh{10'000};  // capabilities fetched again
  std::chrono::milliseconds redeem_every{1'000};
  std::uint64_t timeout_ms = 30'000;  // each exchange, in all
};

class ComponentLink {
 public:
  ComponentLink(uv_loop_t* loop, Supervisor& supervisor, const model::RegistrySet& registries,
                ComponentLinkOptions options);
  ~ComponentLink();
  ComponentLink(const ComponentLink&) = delete;
  ComponentLink& operator=(const ComponentLink&) = delete;

  // Errors: the URL does not parse.
  Status<> start();
  void close();
  const std::string& identity() const { return identity_; }

 private:
  struct Request {
    std::string method, path, body;
    std::function<void(Result<transport::HttpMessage>)> done;
  };
  void every_tick();
  void send(std::string method, std::string path, std::string body,
            std::function<void(Result<transport::HttpMessage>)> done);
  void pump();
  void fetch_capabilities();
  void fetch_html_links(const std::string& html);
  void register_envelope(const std::string& members_json);
  void push_work();
  void deliver(const std::string& token, Result<transport::HttpMessage> reply);
  void redeem_pending();

  uv_loop_t* loop_;
  Supervisor& supervisor_;
  std::unique_ptr<json::MessageReader> reader_;
  ComponentLinkOptions options_;
  transport::HttpUrl url_;
  std::unique_ptr<transport::AsyncHttpClient> client_;
  std::deque<Request> requests_;
  std::string identity_;           // known after the first answer
  std::set<std::string> pending_;  // component tokens answered with a receipt
  std::unique_ptr<loop::Timer> timer_;
  std::int64_t last_refresh_ms_ = 0;
  std::int64_t last_redeem_ms_ = 0;
  bool pushing_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mplane::supervisor
