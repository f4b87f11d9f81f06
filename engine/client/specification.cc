#include "engine/client/specification.h"

#include <algorithm>

#include "engine/client/capability_store.h"
#include "parsers/json/message_writer.h"
#include "parsers/mplane/token.h"

namespace mplane::client {
namespace {

using model::Message;
using model::MessageKind;

constexpr std::int64_t kPollMicros = 500'000;  // redemption polling interval
constexpr std::int64_t kDefaultRepeatedSpan = 5 * model::kMicrosPerSecond;

std::string parameter_names(const Message& spec) {
  std::string names;
  for (const auto& q : spec.parameters) names += (names.empty() ? "" : ", ") + q.element->name;
  return names;
}

// Sets one parameter of `spec` from its text, checked against the capability's constraint.
Status<> set_parameter(Message& spec, const Message& cap, const std::string& name,
                       const std::string& text, model::Arena& arena) {
  model::Parameter* p = nullptr;
  for (auto& candidate : spec.parameters) {
    if (candidate.element->name == name) p = &candidate;
  }
  if (!p) {
    const std::string names = parameter_names(spec);
    return fail("capability '" + label_of(cap) + "' has no parameter " + name +
                (names.empty() ? " (it takes none)" : " (it takes " + names + ")"));
  }
  auto v = model::parse_value(p->element->prim, arena.keep(text));
  if (!v) return fail("parameter " + name + ": " + v.error());
  const model::Parameter* cp = cap.find_parameter(name);
  if (cp && !cp->constraint.matches(*v)) {
    return fail("parameter " + name + "=" + text + " is not allowed by the capability (" +
                cp->constraint.canonical() + ")");
  }
  p->value = *v;
  return Ok{};
}

Status<> check_complete(const Message& spec) {
  std::string missing;
  for (const auto* p : model::sorted_by_name(spec.parameters)) {
    if (p->value.is_none()) missing += (missing.empty() ? "" : ", ") + p->element->name;
  }
  if (!missing.empty()) {
    return fail("missing parameter " + missing +
                " (give --param NAME=VALUE, or `set` in the shell)");
  }
  if (auto st = model::validate(spec); !st) return fail("specification: " + st.error());
  return Ok{};
}

}  // namespace

std::string default_when(const Message& cap) {
  if (cap.when && cap.when->period()) {
    return "now + " + model::format_duration(kDefaultRepeatedSpan) + " / " +
           model::format_duration(*cap.when->period());
  }
  return "now";
}

Result<model::When> specification_scope(const Message& cap, const std::string& when_text,
                                        std::int64_t now_us) {
  const std::string scope = when_text.empty() ? default_when(cap) : when_text;
  auto when = model::When::parse(scope);
  if (!when) return fail("--when: " + when.error());
  if (cap.when && !when->follows(*cap.when, now_us)) {
    return fail("when " + when->canonical() + " is not within the capability's scope " +
                cap.when->canonical());
  }
  return *when;
}

Result<SpecificationText> build_specification(const Message& cap, const model::When& when,
                                              const std::map<std::string, std::string>& params,
                                              const std::string& label) {
  model::Arena arena;
  Message spec = model::specification_from(cap);
  spec.when = when;
  spec.label = arena.keep(label);
  for (const auto& [name, text] : params) {
    if (auto st = set_parameter(spec, cap, name, text, arena); !st) return fail(st.error());
  }
  if (auto st = check_complete(spec); !st) return fail(st.error());
  return SpecificationText{json::to_json(spec, {.pretty = false, .add_default_token = true}),
                           model::effective_token(spec).value_or("")};
}

Result<transport::HttpUrl> specification_url(const Message& cap,
                                             const std::optional<transport::HttpUrl>& default_url) {
  if (cap.link && !cap.link->empty()) {
    auto u = transport::parse_http_url(*cap.link);
    if (!u) return fail("capability link: " + u.error());
    return *u;
  }
  if (default_url) return *default_url;
  return fail("the capability has no link and there is no default URL (seturl)");
}

Result<std::string> redemption_body(const Message& current, const std::string& token,
                                    bool interrupt) {
  if (current.kind != MessageKind::kReceipt && current.kind != MessageKind::kResult) {
    return fail("cannot " + std::string(interrupt ? "interrupt" : "redeem") + " a " +
                std::string(model::kind_key(current.kind)));
  }
  model::Arena arena;
  Message note = model::copy_message(current, arena);
  note.kind = interrupt ? MessageKind::kInterrupt : MessageKind::kRedemption;
  note.columns.clear();  // a result's rows do not belong in an interrupt
  note.row_count = 0;
  for (const auto& c : current.columns) note.columns.push_back({c.element, {}});
  if (!note.token) note.token = arena.keep(token);
  return json::to_json(note, {.pretty = false});
}

Message token_only_receipt(std::string_view token) {
  Message receipt;
  receipt.kind = MessageKind::kReceipt;
  receipt.verb = "measure";  // components look at the token only (§3.4)
  receipt.token = token;
  return receipt;
}

std::int64_t poll_delay(const Message& receipt, bool first, std::int64_t now, std::int64_t until) {
  std::int64_t delay = kPollMicros;
  if (first && receipt.when) {
    const auto end = receipt.when->resolve(now).end;
    if (end && *end > now) delay = std::max(delay, *end - now + 100'000);
  }
  return std::min(delay, until - now);
}

}  // namespace mplane::client
