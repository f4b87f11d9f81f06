#include "parsers/json/message_reader.h"

#include <cstring>

#include "parsers/json/syntax_error.h"

namespace mplane::json {
namespace {

namespace od = simdjson::ondemand;
using model::Element;
using model::Message;
using model::MessageKind;
using model::Value;

template <class T>
using R = Result<T, ParseError>;

struct Ctx {
  const model::RegistrySet& registries;
  model::Arena& arena;
  const od::parser& parser;
  od::document& doc;
  const char* base;
  std::size_t size;
};

// The section or element at fault, turned into text only when an error is reported (the
// success path must not allocate a path string per parameter or cell).
struct Where {
  std::string_view section;
  std::string_view name;                // element name within the section, if any
  std::size_t row = SIZE_MAX;           // array index, if any
  std::size_t column = SIZE_MAX;        // second index (resultvalues cells)
  Where(const char* s) : section(s) {}  // NOLINT: a bare section name
  // Borrows `s`: use only for an argument, not a stored Where.
  Where(const std::string& s) : section(s) {}  // NOLINT
  Where(std::string_view s, std::string_view n) : section(s), name(n) {}
  Where(std::string_view s, std::size_t r, std::size_t c = SIZE_MAX)
      : section(s), row(r), column(c) {}
  std::string str() const {
    std::string out(section);
    if (!name.empty()) out += "." + std::string(name);
    if (row != SIZE_MAX) out += "[" + std::to_string(row) + "]";
    if (column != SIZE_MAX) out += "[" + std::to_string(column) + "]";
    return out;
  }
};

std::size_t offset_of(const Ctx& c, const char* pos) {
  if (pos < c.base || pos > c.base + c.size) return c.size;
  return static_cast<std::size_t>(pos - c.base);
}

Failure<ParseError> error_at(const Ctx& c, const char* pos, const Where& where, std::string msg) {
  return fail(ParseError{std::move(msg), where.str(), offset_of(c, pos)});
}

// A simdjson error: locate it with the document's current position.
Failure<ParseError> json_error(Ctx& c, simdjson::error_code e, const Where& where) {
  const char* pos = nullptr;
  if (c.doc.current_location().get(pos) != simdjson::SUCCESS) pos = c.base + c.size;
  return error_at(c, pos, where, std::string("invalid JSON: ") + simdjson::error_message(e));
}

// A JSON scalar: text (a JSON string) or an already typed value (number, boolean, null).
struct Scalar {
  bool is_text = true;
  std::string_view text;  // a JSON string's contents, or a JSON number's text
  Value typed;
  const char* pos = nullptr;
};

bool is_json_space(char ch) { return ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t'; }

// The contents of a JSON string token: a view into the input when it has no escapes,
// otherwise unescaped into the arena.
R<std::string_view> read_string(Ctx& c, od::value& v, const Where& where) {
  std::string_view raw = v.raw_json_token();
  std::size_t end = raw.size();
  while (end > 0 && is_json_space(raw[end - 1])) --end;
  if (end < 2 || raw[0] != '"' || raw[end - 1] != '"') {
    return error_at(c, raw.data(), where, "expected a JSON string");
  }
  std::string_view inner = raw.substr(1, end - 2);
  if (std::memchr(inner.data(), '\\', inner.size()) == nullptr) return inner;
  std::string_view unescaped;
  if (auto e = v.get_string().get(unescaped)) return json_error(c, e, where);
  return c.arena.keep(std::string(unescaped));
}

// An object key: a view into the input when it has no escapes (no copy, unlike
// unescaped_key()), otherwise unescaped into the arena.
R<std::string_view> read_key(Ctx& c, simdjson::simdjson_result<od::field>& field,
                             const Where& where) {
  od::raw_json_string key;
  if (auto e = field.key().get(key)) return json_error(c, e, where);
  const char* start = key.raw();
  const auto left = static_cast<std::size_t>(c.base + c.size - start);
  const void* quote = std::memchr(start, '"', left);
  if (quote == nullptr) return error_at(c, start, where, "invalid JSON: unterminated key");
  std::string_view raw(start, static_cast<std::size_t>(static_cast<const char*>(quote) - start));
  if (std::memchr(raw.data(), '\\', raw.size()) == nullptr) return raw;
  std::string buffer(left + simdjson::SIMDJSON_PADDING, '\0');  // rare: escaped keys
  auto* dst = reinterpret_cast<std::uint8_t*>(buffer.data());
  std::string_view unescaped;
  if (auto e = c.parser.unescape(key, dst).get(unescaped)) return json_error(c, e, where);
  return c.arena.keep(std::string(unescaped));
}

// Calls f(key, value) for every field of `obj`, stopping at the first error.
template <class F>
Status<ParseError> for_each_field(Ctx& c, od::object& obj, const Where& where, F f) {
  for (auto field : obj) {
    auto key = read_key(c, field, where);
    if (!key) return fail(std::move(key).error());
    od::value value;
    if (auto e = field.value().get(value)) return json_error(c, e, where);
    if (auto st = f(*key, value); !st) return st;
  }
  return Ok{};
}

// A JSON number: a natural when it is an integer in 0 … 2^64-1, else a real (a float, a
// negative integer, an integer past 2^64-1), which a natural element reads again from its text
// (to_value). A failed get_uint64() leaves the value unread.
R<Value> read_number(Ctx& c, od::value& v, const Where& where) {
  od::number_type type;
  if (auto e = v.get_number_type().get(type)) return json_error(c, e, where);
  std::uint64_t u = 0;
  if (type != od::number_type::floating_point_number &&
      v.get_uint64().get(u) == simdjson::SUCCESS) {
    return Value::natural(u);
  }
  double d = 0;
  if (auto e = v.get_double().get(d)) return json_error(c, e, where);
  return Value::real(d);
}

R<Scalar> read_scalar(Ctx& c, od::value& v, const Where& where) {
  std::string_view raw = v.raw_json_token();
  Scalar s;
  s.pos = raw.data();
  const char first = raw.empty() ? '\0' : raw[0];
  if (first == '"') {
    auto text = read_string(c, v, where);
    if (!text) return fail(std::move(text).error());
    s.text = *text;
    return s;
  }
  s.is_text = false;
  if (first == 't' || first == 'f') {
    bool b = false;
    if (auto e = v.get_bool().get(b)) return json_error(c, e, where);
    s.typed = Value::boolean(b);
    return s;
  }
  if (first == 'n') {
    bool is_null = false;
    if (v.is_null().get(is_null) != simdjson::SUCCESS || !is_null) {
      return error_at(c, s.pos, where, "invalid literal");
    }
    return s;  // null: no value
  }
  if (first == '{' || first == '[')
    return error_at(c, s.pos, where, "expected a value, found a container");
  auto number = read_number(c, v, where);
  if (!number) return fail(std::move(number).error());
  s.typed = *number;
  s.text = raw.substr(0, raw.find_first_of(" \t\n\r"));  // the token has the spaces after it
  return s;
}

// A JSON number that is no natural as it stands (a float, a negative or huge integer) for a
// natural element is read from its text as the RI's int(float(s)) reads text: floats are
// truncated, negative results and results past 2^64-1 refused. (The RI keeps the float and
// re-emits "80.0", which then reads back as 80: we give the stable value at once.)
R<Value> natural_from_number(Ctx& c, const Scalar& s, const Where& where) {
  auto v = model::parse_value(model::Prim::kNatural, s.text);
  if (!v) return error_at(c, s.pos, where, std::move(v).error());
  return *v;
}

// Typed value of an element from a scalar. Native JSON values are kept as given where the
// primitive allows them (the RI stores them as-is), and rejected where they make no sense.
R<Value> to_value(Ctx& c, const Element& e, const Scalar& s, const Where& where) {
  if (s.is_text) {
    auto v = model::parse_value(e.prim, s.text);
    if (!v) return error_at(c, s.pos, where, std::move(v).error());
    return *v;
  }
  const model::ValueKind k = s.typed.kind();
  if (k == model::ValueKind::kNone) return s.typed;
  switch (e.prim) {
    case model::Prim::kNatural:
      if (k == model::ValueKind::kNatural) return s.typed;
      if (k == model::ValueKind::kReal) return natural_from_number(c, s, where);
      break;
    case model::Prim::kReal:
      if (k == model::ValueKind::kReal) return s.typed;
      if (k == model::ValueKind::kNatural)
        return Value::real(static_cast<double>(s.typed.as_natural()));
      break;
    case model::Prim::kBoolean:
      if (k == model::ValueKind::kBool) return s.typed;
      break;
    default:
      break;
  }
  return error_at(c, s.pos, where,
                  "a JSON " + std::string(k == model::ValueKind::kBool ? "boolean" : "number") +
                      " is not a valid " + std::string(model::prim_name(e.prim)));
}

// ---------------------------------------------------------------------------------------
// Sections

struct RawParameter {
  const Element* element;
  Scalar scalar;
};

R<const Element*> lookup(Ctx& c, std::string_view name, const char* pos, const Where& where) {
  const Element* e = c.registries.find(name);
  if (!e) {
    return error_at(c, pos, where,
                    "Key error: " + std::string(name) + " not present in registries");
  }
  return e;
}

Status<ParseError> read_parameters(Ctx& c, od::value& v, std::vector<RawParameter>& out) {
  od::object obj;
  if (auto e = v.get_object().get(obj)) return json_error(c, e, "parameters");
  out.reserve(8);  // typical sections are small: one allocation instead of several
  return for_each_field(
      c, obj, "parameters", [&](std::string_view name, od::value& value) -> Status<ParseError> {
        const Where where("parameters", name);
        auto element = lookup(c, name, value.raw_json_token().data(), where);
        if (!element) return fail(std::move(element).error());
        for (const RawParameter& p : out) {
          if (p.element == *element)
            return error_at(c, value.raw_json_token().data(), where, "duplicate element");
        }
        auto scalar = read_scalar(c, value, where);
        if (!scalar) return fail(std::move(scalar).error());
        out.push_back({*element, *scalar});
        return Ok{};
      });
}

Status<ParseError> read_metadata(Ctx& c, od::value& v, std::vector<model::Metadatum>& out) {
  std::vector<RawParameter> raw;
  if (auto st = read_parameters(c, v, raw); !st) {
    ParseError err = st.error();
    if (err.where.starts_with("parameters")) err.where.replace(0, 10, "metadata");
    return fail(std::move(err));
  }
  out.reserve(raw.size());
  for (RawParameter& r : raw) {
    auto value = to_value(c, *r.element, r.scalar, Where("metadata", r.element->name));
    if (!value) return fail(std::move(value).error());
    out.push_back({r.element, *value});
  }
  return Ok{};
}

Status<ParseError> read_columns(Ctx& c, od::value& v, std::vector<model::Column>& out) {
  od::array arr;
  if (auto e = v.get_array().get(arr)) return json_error(c, e, "results");
  out.reserve(8);
  for (auto item_r : arr) {
    od::value item;
    if (auto e = item_r.get(item)) return json_error(c, e, "results");
    const Where where("results", out.size());
    auto name = read_string(c, item, where);
    if (!name) return fail(std::move(name).error());
    auto element = lookup(c, *name, item.raw_json_token().data(), where);
    if (!element) return fail(std::move(element).error());
    for (const model::Column& col : out) {
      if (col.element == *element)
        return error_at(c, item.raw_json_token().data(), where,
                        "duplicate result column " + std::string(*name));
    }
    out.push_back({*element, {}});
  }
  return Ok{};
}

// Short strings: an inline scan beats a call to memchr.
bool has_backslash(const char* p, std::size_t n) noexcept {
  bool found = false;
  for (std::size_t i = 0; i < n; ++i) found |= p[i] == '\\';
  return found;
}

// One cell in its general form (escapes, native JSON values, errors): the cold path.
Status<ParseError> read_cell_slow(Ctx& c, od::value& v, model::Column& col, std::size_t row,
                                  std::size_t j) {
  const Where where("resultvalues", row, j);
  auto scalar = read_scalar(c, v, where);
  if (!scalar) return fail(std::move(scalar).error());
  auto value = to_value(c, *col.element, *scalar, where);
  if (!value) return fail(std::move(value).error());
  col.values.push_back(*value);
  return Ok{};
}

// Hot path: one cell of resultvalues into its typed column. True when the cell was a plain
// string in a canonical form; otherwise the caller takes read_cell_slow(), which also reports.
bool read_cell_fast(od::value& v, model::Column& col) noexcept {
  const std::string_view raw = v.raw_json_token();
  std::size_t end = raw.size();
  while (end > 0 && is_json_space(raw[end - 1])) --end;
  if (end < 2 || raw[0] != '"' || raw[end - 1] != '"' || has_backslash(raw.data() + 1, end - 2)) {
    return false;
  }
  Value& slot = col.values.emplace_back();  // parse in place: no copy of the value
  if (model::try_parse_value_fast(col.element->prim, raw.substr(1, end - 2), slot)) return true;
  col.values.pop_back();
  return false;
}

Status<ParseError> read_row(Ctx& c, od::value& row_v, Message& m) {
  const std::size_t row = m.row_count;
  od::array cells;
  if (auto e = row_v.get_array().get(cells)) return json_error(c, e, Where("resultvalues", row));
  std::size_t j = 0;
  for (auto cell_r : cells) {
    od::value cell;
    if (auto e = cell_r.get(cell)) return json_error(c, e, Where("resultvalues", row, j));
    if (j >= m.columns.size()) {
      return error_at(
          c, cell.raw_json_token().data(), Where("resultvalues", row, j),
          "row has more values than the " + std::to_string(m.columns.size()) + " result columns");
    }
    if (!read_cell_fast(cell, m.columns[j])) {
      if (auto st = read_cell_slow(c, cell, m.columns[j], row, j); !st) return st;
    }
    ++j;
  }
  for (; j < m.columns.size(); ++j) m.columns[j].values.push_back(Value::none());  // short row
  ++m.row_count;
  return Ok{};
}

// Reserves the columns for the rows that the rest of the input can hold, judged by the size of
// the first row, so that large results do not regrow ten vectors. Bounded by the input size.
void reserve_rows(Ctx& c, Message& m, const char* first_row, const char* second_row) {
  const auto row_bytes = static_cast<std::size_t>(second_row - first_row);
  if (row_bytes == 0 || second_row < first_row) return;
  const std::size_t rest = c.size - offset_of(c, second_row);
  for (model::Column& col : m.columns) col.values.reserve(1 + rest / row_bytes);
}

Status<ParseError> read_rows(Ctx& c, od::value& v, Message& m) {
  od::array rows;
  if (auto e = v.get_array().get(rows)) return json_error(c, e, "resultvalues");
  const char* first_row = nullptr;
  for (auto row_r : rows) {
    od::value row_v;
    if (auto e = row_r.get(row_v)) return json_error(c, e, "resultvalues");
    if (m.row_count == 1) reserve_rows(c, m, first_row, row_v.raw_json_token().data());
    if (m.row_count == 0) first_row = row_v.raw_json_token().data();
    if (auto st = read_row(c, row_v, m); !st) return st;
  }
  return Ok{};
}

}  // namespace

namespace {

R<Message> read_object(Ctx& c, od::object& obj, int depth, const char* obj_pos);

// What pass 1 collected that needs the whole object to be interpreted.
struct Pending {
  std::vector<RawParameter> parameters;
  bool has_kind = false;
  bool has_message = false;
  bool has_contents = false;
  bool rows_deferred = false;  // resultvalues came before results
  unsigned sections_seen = 0;  // bit per section key, see check_section_once()
  std::string_view when_text;
  const char* when_pos = nullptr;
};

Status<ParseError> read_optional_string(Ctx& c, od::value& v, std::string_view key,
                                        std::optional<std::string_view>& out) {
  auto s = read_string(c, v, Where(key, std::string_view()));
  if (!s) return fail(std::move(s).error());
  out = *s;
  return Ok{};
}

Status<ParseError> read_kind(Ctx& c, od::value& v, MessageKind kind, Message& m, Pending& p) {
  const std::string key(model::kind_key(kind));
  if (p.has_kind) {
    return error_at(c, v.raw_json_token().data(), key,
                    "Cannot determine message type: more than one kind key");
  }
  p.has_kind = true;
  m.kind = kind;
  if (kind == MessageKind::kException) {
    bool is_null = false;
    if (v.raw_json_token().starts_with("null") && v.is_null().get(is_null) == simdjson::SUCCESS &&
        is_null) {
      return Ok{};
    }
    return read_optional_string(c, v, key, m.exception_token);
  }
  auto verb = read_string(c, v, key);
  if (!verb) return fail(std::move(verb).error());
  m.verb = *verb;
  return Ok{};
}

Status<ParseError> read_version(Ctx& c, od::value& v, Message& m) {
  auto s = read_scalar(c, v, "version");
  if (!s) return fail(std::move(s).error());
  std::uint64_t version = 0;
  if (s->is_text) {
    auto n = model::parse_value(model::Prim::kNatural, s->text);
    if (!n || n->kind() != model::ValueKind::kNatural)
      return error_at(c, s->pos, "version", "version must be an integer");
    version = n->as_natural();
  } else if (s->typed.kind() == model::ValueKind::kNatural) {
    version = s->typed.as_natural();
  } else {
    return error_at(c, s->pos, "version", "version must be an integer");
  }
  if (version > 1) return error_at(c, s->pos, "version", "Version mismatch");
  m.version = static_cast<std::int64_t>(version);
  return Ok{};
}

Status<ParseError> read_contents(Ctx& c, od::value& v, int depth, Message& m) {
  if (depth >= kMaxEnvelopeDepth) {
    return error_at(c, v.raw_json_token().data(), "contents", "envelopes nested too deeply");
  }
  od::array arr;
  if (auto e = v.get_array().get(arr)) return json_error(c, e, "contents");
  for (auto item_r : arr) {
    od::value item;
    od::object obj;
    const std::string where = "contents[" + std::to_string(m.contents.size()) + "]";
    if (auto e = item_r.get(item)) return json_error(c, e, where);
    const char* pos = item.raw_json_token().data();
    if (item.get_object().get(obj) != simdjson::SUCCESS) {
      return error_at(c, pos, where, "Cannot determine message type: not a JSON object");
    }
    auto member = read_object(c, obj, depth + 1, pos);
    if (!member) {
      ParseError err = std::move(member).error();
      err.where = err.where.empty() ? where : where + "." + err.where;
      return fail(std::move(err));
    }
    m.contents.push_back(std::move(member.value()));
  }
  return Ok{};
}

// Sections may appear once: Python keeps the last of repeated keys, which would silently drop
// data; a repeated section is rejected instead. (Repeated scalars: the last wins, as in Python.)
Status<ParseError> check_section_once(Ctx& c, std::string_view key, od::value& v, Pending& p) {
  static constexpr std::string_view kSections[] = {"parameters", "metadata", "results",
                                                   "resultvalues", "contents"};
  for (std::size_t i = 0; i < std::size(kSections); ++i) {
    if (key != kSections[i]) continue;
    if (p.sections_seen & (1u << i)) {
      return error_at(c, v.raw_json_token().data(), Where(key, std::string_view()),
                      "duplicate key \"" + std::string(key) + "\"");
    }
    p.sections_seen |= 1u << i;
  }
  return Ok{};
}

// Pass 1: one field of the top-level object.
Status<ParseError> read_field(Ctx& c, std::string_view key, od::value& v, int depth, Message& m,
                              Pending& p) {
  if (auto kind = model::kind_from_key(key)) return read_kind(c, v, *kind, m, p);
  if (auto st = check_section_once(c, key, v, p); !st) return st;
  if (key == "version") return read_version(c, v, m);
  if (key == "registry") return read_optional_string(c, v, key, m.registry);
  if (key == "label") return read_optional_string(c, v, key, m.label);
  if (key == "token") return read_optional_string(c, v, key, m.token);
  if (key == "link") return read_optional_string(c, v, key, m.link);
  if (key == "export") return read_optional_string(c, v, key, m.export_url);
  if (key == "when") {
    p.when_pos = v.raw_json_token().data();
    auto s = read_string(c, v, "when");
    if (!s) return fail(std::move(s).error());
    p.when_text = *s;
    return Ok{};
  }
  if (key == "message") {
    p.has_message = true;
    auto s = read_string(c, v, "message");
    if (!s) return fail(std::move(s).error());
    m.exception_text = *s;
    return Ok{};
  }
  if (key == "parameters") return read_parameters(c, v, p.parameters);
  if (key == "metadata") return read_metadata(c, v, m.metadata);
  if (key == "results") return read_columns(c, v, m.columns);
  if (key == "resultvalues") {
    if (m.columns.empty()) {
      p.rows_deferred = true;
      return Ok{};
    }
    return read_rows(c, v, m);
  }
  if (key == "contents") {
    p.has_contents = true;
    return read_contents(c, v, depth, m);
  }
  return Ok{};  // unknown keys are ignored, as the RI does
}

// Pass 2, only when resultvalues preceded results: rewind and read the rows.
Status<ParseError> read_deferred_rows(Ctx& c, od::object& obj, Message& m) {
  bool reset_ok = false;
  if (auto e = obj.reset().get(reset_ok)) return json_error(c, e, "resultvalues");
  // Runs to the end of the object so that the document is fully consumed.
  return for_each_field(c, obj, "",
                        [&](std::string_view key, od::value& value) -> Status<ParseError> {
                          if (key != "resultvalues") return Ok{};
                          return read_rows(c, value, m);
                        });
}

Status<ParseError> finish_parameters(Ctx& c, Pending& p, Message& m) {
  const bool constraints = model::carries_constraints(m.kind);
  m.parameters.reserve(p.parameters.size());
  for (const RawParameter& r : p.parameters) {
    model::Parameter param;
    param.element = r.element;
    if (constraints && r.scalar.is_text) {
      auto cons = model::Constraint::parse(r.element->prim, r.scalar.text);
      if (!cons)
        return error_at(c, r.scalar.pos, Where("parameters", r.element->name),
                        std::move(cons).error());
      param.constraint = std::move(cons.value());
    } else {
      auto value = to_value(c, *r.element, r.scalar, Where("parameters", r.element->name));
      if (!value) return fail(std::move(value).error());
      if (constraints) {
        param.constraint =
            value->is_none() ? model::Constraint::any() : model::Constraint::single(*value);
      } else {
        param.value = *value;
      }
    }
    m.parameters.push_back(std::move(param));
  }
  return Ok{};
}

Status<ParseError> finish(Ctx& c, Pending& p, Message& m, const char* obj_pos) {
  if (!p.has_kind) {
    return error_at(c, obj_pos, "",
                    "Cannot determine message type: no capability, specification, result, "
                    "receipt, redemption, withdrawal, interrupt, indirection, exception or "
                    "envelope key");
  }
  if (m.kind == MessageKind::kException && !p.has_message) {
    return error_at(c, obj_pos, "message", "an exception needs a \"message\"");
  }
  if (m.kind == MessageKind::kEnvelope && !p.has_contents) {
    return error_at(c, obj_pos, "contents", "an envelope needs \"contents\"");
  }
  if (m.registry && !c.registries.has_uri(*m.registry)) {
    return error_at(c, obj_pos, "registry",
                    "Invalid Registry uri: " + std::string(*m.registry) +
                        " (not loaded; add its file with --registry FILE)");
  }
  if (!p.when_text.empty() || p.when_pos) {
    auto when = model::When::parse(p.when_text);
    if (!when) return error_at(c, p.when_pos, "when", std::move(when).error());
    m.when = when.value();
  }
  return finish_parameters(c, p, m);
}

R<Message> read_object(Ctx& c, od::object& obj, int depth, const char* obj_pos) {
  Message m;
  Pending p;
  auto fields = for_each_field(c, obj, "", [&](std::string_view key, od::value& value) {
    return read_field(c, key, value, depth, m, p);
  });
  if (!fields) return fail(std::move(fields).error());
  if (p.rows_deferred && !m.columns.empty()) {
    if (auto st = read_deferred_rows(c, obj, m); !st) return fail(std::move(st).error());
  }
  if (auto st = finish(c, p, m, obj_pos); !st) return fail(std::move(st).error());
  return m;
}

}  // namespace

std::string ParseError::describe(std::string_view input) const {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < input.size(); ++i) {
    if (input[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  std::string s = "line " + std::to_string(line) + " column " + std::to_string(column) + " (byte " +
                  std::to_string(offset) + ")";
  if (!where.empty()) s += ", " + where;
  return s + ": " + message;
}

namespace {

R<Message> read_document(const model::RegistrySet& registries, od::parser& parser,
                         simdjson::padded_string_view input, model::Arena& arena) {
  od::document doc;
  Ctx c{registries, arena, parser, doc, input.data(), input.size()};
  if (auto e = parser.iterate(input).get(doc)) {
    return error_at(c, input.data(), "",
                    std::string("invalid JSON: ") + simdjson::error_message(e));
  }
  od::json_type type;
  if (auto e = doc.type().get(type)) return json_error(c, e, "");
  if (type != od::json_type::object) {
    return error_at(c, input.data(), "",
                    "Cannot determine message type: the message is not a JSON object");
  }
  od::object obj;
  if (auto e = doc.get_object().get(obj)) return json_error(c, e, "");
  auto m = read_object(c, obj, 0, input.data());
  if (!m) return m;
  // After the root object the iterator must be exhausted; a location means trailing content.
  const char* rest = nullptr;
  if (doc.current_location().get(rest) == simdjson::SUCCESS) {
    return error_at(c, rest, "", "invalid JSON: trailing content after the message");
  }
  return m;
}

}  // namespace

// Invalid JSON is reported first, at its first bad byte, whatever else is wrong and wherever
// simdjson noticed it (as the RI, whose json.loads() runs before the model sees anything).
Result<Message, ParseError> MessageReader::parse(simdjson::padded_string_view input,
                                                 model::Arena& arena) & {
  auto m = read_document(registries_, parser_, input, arena);
  if (m) return m;
  auto syntax = find_syntax_error(std::string_view(input.data(), input.size()));
  if (!syntax) return m;
  std::string why = "invalid JSON: " + std::string(syntax->what);
  if (syntax->offset == input.size()) why += " (the text ends)";
  return fail(ParseError{std::move(why), "", syntax->offset});
}

Status<ParseError> MessageReader::parse_rows(simdjson::padded_string_view rows, Message& m,
                                             model::Arena& arena) & {
  od::document doc;
  Ctx c{registries_, arena, parser_, doc, rows.data(), rows.size()};
  if (auto e = parser_.iterate(rows).get(doc)) {
    return error_at(c, rows.data(), "resultvalues",
                    std::string("invalid JSON: ") + simdjson::error_message(e));
  }
  od::value v;
  if (auto e = doc.get_value().get(v)) return json_error(c, e, "resultvalues");
  return read_rows(c, v, m);
}

Result<std::unique_ptr<OwnedMessage>, ParseError> parse_owned(MessageReader& reader,
                                                              std::string_view json) {
  auto owned = std::make_unique<OwnedMessage>();
  owned->input = simdjson::padded_string(json);
  auto m = reader.parse(owned->input, owned->arena);
  if (!m) return fail(std::move(m).error());
  owned->message = std::move(m.value());
  return owned;
}

Result<std::unique_ptr<OwnedMessage>, ParseError> parse_owned_consuming(MessageReader& reader,
                                                                        std::string&& json) {
  auto owned = std::make_unique<OwnedMessage>();
  owned->input = simdjson::padded_string(json);
  std::string().swap(json);  // released before the values are built
  auto m = reader.parse(owned->input, owned->arena);
  if (!m) return fail(std::move(m).error());
  owned->message = std::move(m.value());
  return owned;
}

}  // namespace mplane::json
