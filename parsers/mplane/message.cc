#include "parsers/mplane/message.h"

#include <array>

#include "parsers/mplane/token.h"

namespace mplane::model {
namespace {

struct KindName {
  MessageKind kind;
  std::string_view key;
};
constexpr std::array<KindName, 10> kKinds{{
    {MessageKind::kCapability, "capability"},
    {MessageKind::kSpecification, "specification"},
    {MessageKind::kResult, "result"},
    {MessageKind::kReceipt, "receipt"},
    {MessageKind::kRedemption, "redemption"},
    {MessageKind::kWithdrawal, "withdrawal"},
    {MessageKind::kInterrupt, "interrupt"},
    {MessageKind::kIndirection, "indirection"},
    {MessageKind::kException, "exception"},
    {MessageKind::kEnvelope, "envelope"},
}};

std::string name_of(const Element* e) { return e ? e->name : std::string("?"); }

Status<> validate_parameters(const Message& m) {
  for (const Parameter& p : m.parameters) {
    if (!carries_constraints(m.kind) && p.value.is_none()) {
      return fail("parameters." + name_of(p.element) + ": a " + std::string(kind_key(m.kind)) +
                  " needs a value, not '*'");
    }
  }
  return Ok{};
}

Status<> validate_when(const Message& m) {
  if (!m.when) {
    if (m.token_only() && m.token) return Ok{};
    return fail(std::string(kind_key(m.kind)) + " has no \"when\"" +
                (m.token_only() ? " and no \"token\"" : ""));
  }
  if (m.kind == MessageKind::kResult && !m.when->is_definite()) {
    return fail("when: a result needs a definite scope, not '" + m.when->canonical() + "'");
  }
  return Ok{};
}

Status<> validate_statement(const Message& m) {
  if (m.verb.empty()) return fail(std::string(kind_key(m.kind)) + ": the verb is empty");
  if (!m.registry && (!m.parameters.empty() || !m.metadata.empty() || !m.columns.empty())) {
    return fail("\"registry\" is required when a message has parameters, metadata or results");
  }
  if (m.kind != MessageKind::kResult && m.row_count > 0) {
    return fail("resultvalues: only a result carries result values");
  }
  if (auto st = validate_parameters(m); !st) return st;
  return validate_when(m);
}

}  // namespace

std::string_view kind_key(MessageKind k) noexcept {
  return kKinds[static_cast<std::size_t>(k)].key;
}

std::optional<MessageKind> kind_from_key(std::string_view key) noexcept {
  for (const KindName& k : kKinds) {
    if (k.key == key) return k.kind;
  }
  return std::nullopt;
}

bool carries_constraints(MessageKind k) noexcept {
  return k == MessageKind::kCapability || k == MessageKind::kWithdrawal ||
         k == MessageKind::kIndirection;
}

bool is_statement(MessageKind k) noexcept {
  return k == MessageKind::kCapability || k == MessageKind::kSpecification ||
         k == MessageKind::kResult;
}

bool is_notification(MessageKind k) noexcept {
  return !is_statement(k) && k != MessageKind::kEnvelope;
}

const Parameter* Message::find_parameter(std::string_view name) const noexcept {
  for (const Parameter& p : parameters) {
    if (p.element->name == name) return &p;
  }
  return nullptr;
}

const Metadatum* Message::find_metadatum(std::string_view name) const noexcept {
  for (const Metadatum& md : metadata) {
    if (md.element->name == name) return &md;
  }
  return nullptr;
}

bool Message::token_only() const noexcept {
  const bool may_be = kind == MessageKind::kReceipt || kind == MessageKind::kRedemption ||
                      kind == MessageKind::kInterrupt || kind == MessageKind::kWithdrawal;
  return may_be && !when && parameters.empty() && metadata.empty() && columns.empty();
}

Message specification_from(const Message& capability) {
  Message spec;
  spec.kind = MessageKind::kSpecification;
  spec.verb = capability.verb;
  spec.registry = capability.registry;
  spec.label = capability.label;
  spec.when = capability.when;
  spec.metadata = capability.metadata;
  for (const Column& c : capability.columns) spec.columns.push_back({c.element, {}});
  for (const Parameter& p : capability.parameters) {
    Parameter filled;
    filled.element = p.element;
    filled.value = p.constraint.single_value().value_or(Value::none());
    spec.parameters.push_back(filled);
  }
  return spec;
}

Value copy_value(const Value& v, Arena& arena) {
  if (v.kind() != ValueKind::kString) return v;
  return Value::string(arena.keep(std::string(v.as_string())));
}

namespace {

std::optional<std::string_view> keep(const std::optional<std::string_view>& s, Arena& arena) {
  if (!s) return std::nullopt;
  return arena.keep(std::string(*s));
}

Constraint copy_constraint(const Constraint& c, Arena& arena) {
  if (c.kind() == ConstraintKind::kAny) return c;
  bool has_string = false;
  for (const Value& v : c.values()) has_string |= v.kind() == ValueKind::kString;
  if (!has_string) return c;
  // Re-parse the canonical text from the arena: constraint members are views into it.
  std::string_view text = arena.keep(c.canonical());
  auto copy = Constraint::parse(Prim::kString, text);
  return copy ? copy.value() : c;
}

}  // namespace

Message copy_message(const Message& m, Arena& arena) {
  Message out = m;
  out.verb = arena.keep(std::string(m.verb));
  out.registry = keep(m.registry, arena);
  out.label = keep(m.label, arena);
  out.token = keep(m.token, arena);
  out.link = keep(m.link, arena);
  out.export_url = keep(m.export_url, arena);
  out.exception_token = keep(m.exception_token, arena);
  out.exception_text = arena.keep(std::string(m.exception_text));
  for (Parameter& p : out.parameters) {
    p.value = copy_value(p.value, arena);
    p.constraint = copy_constraint(p.constraint, arena);
  }
  for (Metadatum& md : out.metadata) md.value = copy_value(md.value, arena);
  for (Column& c : out.columns) {
    for (Value& v : c.values) v = copy_value(v, arena);
  }
  for (std::size_t i = 0; i < m.contents.size(); ++i) {
    out.contents[i] = copy_message(m.contents[i], arena);
  }
  return out;
}

Status<> validate(const Message& m) {
  if (m.version > 1) return fail("Version mismatch");
  switch (m.kind) {
    case MessageKind::kException:
      return Ok{};
    case MessageKind::kEnvelope:
      for (std::size_t i = 0; i < m.contents.size(); ++i) {
        if (auto st = validate(m.contents[i]); !st) {
          return fail("contents[" + std::to_string(i) + "]: " + st.error());
        }
      }
      return Ok{};
    default:
      return validate_statement(m);
  }
}

namespace {

std::string short_hash(const std::optional<std::string>& h) {
  return h ? h->substr(0, 8) : std::string("None");
}

void append_counts(std::string& s, const Message& m) {
  const auto n = [](std::size_t v) { return std::to_string(v); };
  if (m.kind == MessageKind::kSpecification) {
    std::size_t with_value = 0;
    for (const Parameter& p : m.parameters) with_value += p.value.is_none() ? 0 : 1;
    s += " p(v)/m/r " + n(m.parameters.size()) + "(" + n(with_value) + ")/";
  } else if (m.kind == MessageKind::kResult) {
    s += " p/m/r(r) " + n(m.parameters.size()) + "/";
  } else {
    s += " p/m/r " + n(m.parameters.size()) + "/";
  }
  s += n(m.metadata.size()) + "/" + n(m.columns.size());
  if (m.kind == MessageKind::kResult) s += "(" + n(m.row_count) + ")";
}

}  // namespace

std::string summarize(const Message& m) {
  std::string s = "<" + std::string(kind_key(m.kind)) + ": ";
  if (m.kind == MessageKind::kException) {
    s += short_hash(effective_token(m)) + " " + std::string(m.exception_text) + ">";
    return s;
  }
  s += m.verb;
  if (m.label) s += " (" + std::string(*m.label) + ")";
  if (m.kind == MessageKind::kEnvelope) {
    if (m.when) s += " when " + m.when->canonical();
    if (m.token) s += " token " + short_hash(std::string(*m.token));
    return s + " contents " + std::to_string(m.contents.size()) + ">";
  }
  if (m.when) s += " when " + m.when->canonical();
  s += " token " + short_hash(effective_token(m));
  if (m.token_only()) return s + ">";
  s += " schema " + schema_hash(m).substr(0, 8);
  append_counts(s, m);
  return s + ">";
}

}  // namespace mplane::model
