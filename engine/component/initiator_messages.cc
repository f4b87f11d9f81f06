#include "engine/component/initiator_messages.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <deque>

#include "parsers/json/message_writer.h"
#include "parsers/mplane/registry.h"
#include "parsers/mplane/token.h"
#include "parsers/mplane/when.h"

namespace mplane::component {

std::string registration_envelope(std::span<const model::Message* const> capabilities) {
  model::Message envelope;
  envelope.kind = model::MessageKind::kEnvelope;
  envelope.verb = "message";
  std::deque<std::string> tokens;  // the members borrow these until the envelope is written
  for (const model::Message* cap : capabilities) {
    model::Message c = *cap;
    c.link = "";
    tokens.push_back(c.token ? std::string(*c.token) : model::mpcv_hash(c));
    c.token = tokens.back();
    envelope.contents.push_back(std::move(c));
  }
  model::Message callback;
  callback.kind = model::MessageKind::kCapability;
  callback.verb = "callback";
  callback.label = "callback";
  callback.registry = capabilities.empty() || !capabilities.front()->registry
                          ? model::kCoreRegistryUri
                          : *capabilities.front()->registry;
  callback.when = model::When::parse("now ... future").value();
  tokens.push_back(model::mpcv_hash(callback));
  callback.token = tokens.back();
  envelope.contents.push_back(std::move(callback));
  return json::to_json(envelope, {.pretty = false});
}

Result<RegistrationReply> read_registration_reply(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (auto err = parser.parse(body.data(), body.size()).get(root)) {
    return fail(std::string("the registration reply is not a JSON object: ") +
                simdjson::error_message(err));
  }
  RegistrationReply reply;
  for (auto [key, value] : root) {
    simdjson::dom::object entry;
    std::string_view registered;
    if (value.get(entry) != simdjson::SUCCESS ||
        entry["registered"].get(registered) != simdjson::SUCCESS) {
      return fail("the registration reply's \"" + std::string(key) +
                  "\" is not {\"registered\": …}");
    }
    if (registered == "ok") {
      reply.registered.emplace_back(key);
      continue;
    }
    std::string_view reason;
    if (entry["reason"].get(reason) != simdjson::SUCCESS) reason = "no reason given";
    reply.refused.emplace_back(std::string(key), std::string(reason));
  }
  return reply;
}

void poll_members(const model::Message& reply, std::vector<const model::Message*>& out) {
  if (reply.kind != model::MessageKind::kEnvelope) {
    out.push_back(&reply);
    return;
  }
  for (const model::Message& m : reply.contents) poll_members(m, out);
}

bool is_callback(const model::Message& m) {
  return m.verb == "callback" || (m.label && *m.label == "callback");
}

std::optional<std::chrono::milliseconds> callback_delay(const model::Message& callback,
                                                        model::MicrosSinceEpoch now) {
  if (!callback.when) return std::nullopt;
  const model::TimerDelays d = callback.when->timer_delays(now);
  if (d.expired || !d.end_delay) return std::nullopt;
  return std::chrono::milliseconds(std::max<model::Micros>(0, *d.end_delay) / 1000);
}

Result<std::string> result_target(const model::Message& spec,
                                  const transport::HttpUrl& supervisor) {
  if (!spec.link || spec.link->empty()) return std::string();
  std::string link(*spec.link);
  if (link.starts_with("mplane-https://")) link = "https://" + link.substr(15);
  auto url = transport::parse_http_url(link);
  if (!url) return fail("the specification's link: " + url.error());
  if (url->host == supervisor.host && url->port == supervisor.port) return std::string();
  return url->str();
}

std::chrono::milliseconds backoff_delay(unsigned failures, const BackoffOptions& options,
                                        double u) {
  const unsigned doublings = std::min(failures > 0 ? failures - 1 : 0U, 30U);
  const double base = std::min(
      static_cast<double>(options.initial.count()) * std::ldexp(1.0, static_cast<int>(doublings)),
      static_cast<double>(options.max.count()));
  const double scaled = base * (1.0 + options.jitter * (2.0 * u - 1.0));
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::max(0.0, scaled)));
}

}  // namespace mplane::component
