#include "engine/client/http_exchange.h"

namespace mplane::client {

Result<transport::HttpClient*> BlockingHttpExchange::client_for(const transport::HttpUrl& url) {
  const std::string key = url.str().substr(0, url.str().size() - url.path.size());
  auto it = clients_.find(key);
  if (it != clients_.end()) return it->second.get();
  if (url.tls && options_.tls == nullptr) {
    return fail(url.str() + ": an https URL needs --ca, --cert and --key (or [TLS] in --config)");
  }
  if (!url.tls && !options_.insecure && !warned_) {
    if (options_.warn) {
      options_.warn("warning: plain http to " + url.authority() +
                    ": no TLS, no authentication (--insecure silences this)");
    }
    warned_ = true;
  }
  auto c =
      std::make_unique<transport::HttpClient>(url.host, url.port, url.tls ? options_.tls : nullptr);
  transport::HttpLimits limits;
  limits.max_body_bytes = options_.max_body_bytes;
  c->set_limits(limits);
  auto* raw = c.get();
  clients_.emplace(key, std::move(c));
  return raw;
}

Result<transport::HttpMessage> BlockingHttpExchange::send(const transport::HttpUrl& server,
                                                          const HttpRequest& r) {
  auto c = client_for(server);
  if (!c) return fail(c.error());
  return (*c)->request(r.method, r.target, r.content_type, r.body, r.timeout_ms);
}

Result<transport::HttpMessage> BlockingHttpExchange::send(const transport::HttpUrl& server,
                                                          const HttpRequest& r,
                                                          transport::ResponseSink& sink) {
  auto c = client_for(server);
  if (!c) return fail(c.error());
  return (*c)->request(r.method, r.target, r.content_type, r.body, r.timeout_ms, sink);
}

}  // namespace mplane::client
