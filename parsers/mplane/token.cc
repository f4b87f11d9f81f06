#include "parsers/mplane/token.h"

#include <mbedtls/md5.h>

#include <algorithm>

namespace mplane::model {
namespace {

// J(list) with f(item) appended for each item, single spaces between.
template <class T, class F>
void join(std::string& out, const std::vector<const T*>& items, F f) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ' ';
    f(out, *items[i]);
  }
}

void append_name(std::string& out, const auto& item) { out += item.element->name; }

// u(x) of PROTOCOL.md §2.7 as the RI writes it, with its element's primitive's unparse(): the
// canonical text, and for no value `*` -- except for `time`, whose unparse() is str() of the
// value and so gives `None` (a capability's time parameter, an unfilled one of a specification
// derived from it). Values parsed from a specification or result are never none here: the RI
// cannot parse `*` as a time, and validate() requires a value.
void append_hashed(std::string& out, const Element& e, const Value& v) {
  if (v.is_none() && e.prim == Prim::kTime) {
    out += "None";
    return;
  }
  append_value(out, v);
}

void append_param_value(std::string& out, const Parameter& p) {
  append_hashed(out, *p.element, p.value);
}

void append_columns(std::string& out, const Message& m) {
  out += " r ";
  join(out, sorted_by_name(m.columns), append_name<Column>);
}

void append_head(std::string& out, const Message& m) {
  out += m.registry.value_or("");
  out += m.verb;
  out += " w ";
  m.when->append_canonical(out);
}

}  // namespace

Md5Hex md5_hex(std::string_view bytes) {
  unsigned char digest[16];
  mbedtls_md5_ret(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  Md5Hex hex(32, '0');
  for (std::size_t i = 0; i < 16; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 15];
  }
  return hex;
}

std::string schema_hash_input(const Message& m) {
  std::string s(m.registry.value_or(""));
  s += " p ";
  join(s, sorted_by_name(m.parameters), append_name<Parameter>);
  append_columns(s, m);
  return s;
}

std::string pv_hash_input(const Message& m) {
  std::string s;
  append_head(s, m);
  auto params = sorted_by_name(m.parameters);
  s += " pk ";
  join(s, params, append_name<Parameter>);
  s += " pv ";
  join(s, params, append_param_value);
  append_columns(s, m);
  return s;
}

std::string mpcv_hash_input(const Message& m) {
  std::string s;
  append_head(s, m);
  auto params = sorted_by_name(m.parameters);
  const bool constrained = carries_constraints(m.kind);
  s += " pk ";
  join(s, params, append_name<Parameter>);
  s += " pc ";
  join(s, params, [&](std::string& out, const Parameter& p) {
    if (constrained)
      p.constraint.append_canonical(out);
    else
      out += '*';
  });
  s += " pv ";
  join(s, params, [&](std::string& out, const Parameter& p) {
    append_hashed(out, *p.element, constrained ? Value::none() : p.value);  // constraints: no value
  });
  auto meta = sorted_by_name(m.metadata);
  s += " mk ";
  join(s, meta, append_name<Metadatum>);
  s += " mv ";
  join(s, meta,
       [](std::string& out, const Metadatum& md) { append_hashed(out, *md.element, md.value); });
  append_columns(s, m);
  s += " ex ";
  s += m.export_url ? *m.export_url : std::string_view("None");
  return s;
}

Md5Hex schema_hash(const Message& m) { return md5_hex(schema_hash_input(m)); }
Md5Hex pv_hash(const Message& m) { return md5_hex(pv_hash_input(m)); }
Md5Hex mpcv_hash(const Message& m) { return md5_hex(mpcv_hash_input(m)); }

std::optional<Md5Hex> default_token(const Message& m) {
  if (m.kind == MessageKind::kException || m.kind == MessageKind::kEnvelope || !m.when) {
    return std::nullopt;
  }
  return m.kind == MessageKind::kSpecification ? pv_hash(m) : mpcv_hash(m);
}

std::optional<std::string> effective_token(const Message& m) {
  if (m.kind == MessageKind::kException) {
    if (m.exception_token) return std::string(*m.exception_token);
    return std::nullopt;
  }
  if (m.token) return std::string(*m.token);
  return default_token(m);
}

}  // namespace mplane::model
