#include "parsers/json/message_writer.h"

#include <algorithm>

#include "parsers/mplane/token.h"

namespace mplane::json {
namespace {

using model::Message;
using model::MessageKind;

constexpr std::size_t kIndent = 2;

std::string_view field_name(Field f, const Message& m) {
  switch (f) {
    case Field::kKind:
      return model::kind_key(m.kind);
    case Field::kContents:
      return "contents";
    case Field::kExport:
      return "export";
    case Field::kLabel:
      return "label";
    case Field::kLink:
      return "link";
    case Field::kMessage:
      return "message";
    case Field::kMetadata:
      return "metadata";
    case Field::kParameters:
      return "parameters";
    case Field::kRegistry:
      return "registry";
    case Field::kResults:
      return "results";
    case Field::kResultValues:
      return "resultvalues";
    case Field::kToken:
      return "token";
    case Field::kVersion:
      return "version";
    case Field::kWhen:
      return "when";
  }
  return "";
}

}  // namespace

FieldList fields_of(const Message& m, const WriteOptions& opts) {
  FieldList list;
  auto add = [&](Field f) { list.fields[list.count++] = f; };
  add(Field::kKind);
  if (m.kind == MessageKind::kException) {
    add(Field::kMessage);
  } else {
    add(Field::kVersion);
    if (m.kind == MessageKind::kEnvelope) add(Field::kContents);
    if (m.registry) add(Field::kRegistry);
    if (m.label) add(Field::kLabel);
    if (m.link) add(Field::kLink);
    if (m.export_url) add(Field::kExport);
    if (m.when) add(Field::kWhen);
    if (!m.parameters.empty()) add(Field::kParameters);
    if (!m.metadata.empty()) add(Field::kMetadata);
    if (!m.columns.empty()) add(Field::kResults);
    if (m.kind == MessageKind::kResult && m.row_count > 0) add(Field::kResultValues);
    if (m.token || (opts.add_default_token && model::default_token(m))) add(Field::kToken);
  }
  std::sort(list.fields, list.fields + list.count,
            [&](Field a, Field b) { return field_name(a, m) < field_name(b, m); });
  return list;
}

void FieldWriter::newline(int extra) {
  if (!opts_.pretty) return;
  const auto n = static_cast<std::size_t>(level_ + extra) * kIndent;
  char* p = out_.reserve(n + 1);
  *p = '\n';
  std::memset(p + 1, ' ', n);
  out_.commit(n + 1);
}

void FieldWriter::open() {
  out_.put('{');
  first_ = true;
}

void FieldWriter::close() {
  newline(0);
  out_.put('}');
}

void FieldWriter::key(std::string_view k) {
  if (!first_) out_.put(',');
  first_ = false;
  newline(1);
  append_json_string(out_, k);
  out_.append(opts_.pretty ? ": " : ":");
}

void FieldWriter::value(const model::Value& v) {
  if (v.kind() == model::ValueKind::kString) {
    append_json_string(out_, v.as_string());
    return;
  }
  char* p = out_.reserve(model::kMaxScalarChars + 2);
  p[0] = '"';
  const std::size_t n = model::format_scalar(p + 1, v);
  p[n + 1] = '"';
  out_.commit(n + 2);
}

// `{ "name": value, ... }` for a section, names sorted; write_value(item) writes the value.
template <class T, class F>
void FieldWriter::write_section(const std::vector<T>& items, F write_value) {
  out_.put('{');
  bool first = true;
  for (const T* item : model::sorted_by_name(items)) {
    if (!first) out_.put(',');
    first = false;
    newline(2);
    append_json_string(out_, item->element->name);
    out_.append(opts_.pretty ? ": " : ":");
    write_value(*item);
  }
  newline(1);
  out_.put('}');
}

void FieldWriter::write_parameters() {
  const bool constraints = model::carries_constraints(m_.kind);
  write_section(m_.parameters, [&](const model::Parameter& p) {
    if (constraints) {
      append_json_string(out_, p.constraint.canonical());
    } else {
      value(p.value);
    }
  });
}

void FieldWriter::write_metadata() {
  write_section(m_.metadata, [&](const model::Metadatum& md) { value(md.value); });
}

void FieldWriter::write_columns() {
  out_.put('[');
  for (std::size_t j = 0; j < m_.columns.size(); ++j) {
    if (j) out_.put(',');
    newline(2);
    append_json_string(out_, m_.columns[j].element->name);
  }
  newline(1);
  out_.put(']');
}

void FieldWriter::open_rows() {
  key("resultvalues");
  out_.put('[');
  rows_written_ = 0;
}

void FieldWriter::write_row(const model::Value* row, std::size_t n) {
  if (rows_written_++) out_.put(',');
  newline(2);
  out_.put('[');
  for (std::size_t j = 0; j < n; ++j) {
    if (j) out_.put(',');
    newline(3);
    value(row[j]);
  }
  newline(2);
  out_.put(']');
}

void FieldWriter::close_rows() {
  if (rows_written_ > 0) newline(1);
  out_.put(']');
}

void FieldWriter::write_contents() {
  if (m_.contents.empty()) return out_.append("[]");  // as Python writes an empty list
  out_.put('[');
  for (std::size_t i = 0; i < m_.contents.size(); ++i) {
    if (i) out_.put(',');
    newline(2);
    write_message(out_, m_.contents[i], opts_, level_ + 2);
  }
  newline(1);
  out_.put(']');
}

void FieldWriter::write(Field f) {
  if (f == Field::kResultValues) {
    open_rows();
    const std::size_t ncols = m_.columns.size();
    std::vector<model::Value> row(ncols);  // one allocation per message, not per row
    for (std::size_t i = 0; i < m_.row_count; ++i) {
      for (std::size_t j = 0; j < ncols; ++j) row[j] = m_.columns[j].values[i];
      write_row(row.data(), ncols);
    }
    close_rows();
    return;
  }
  key(field_name(f, m_));
  switch (f) {
    case Field::kKind:
      if (m_.kind == MessageKind::kException) {
        if (m_.exception_token)
          string_value(*m_.exception_token);
        else
          out_.append("null");
      } else {
        string_value(m_.verb);
      }
      return;
    case Field::kContents:
      return write_contents();
    case Field::kExport:
      return string_value(*m_.export_url);
    case Field::kLabel:
      return string_value(*m_.label);
    case Field::kLink:
      return string_value(*m_.link);
    case Field::kMessage:
      return string_value(m_.exception_text);
    case Field::kMetadata:
      return write_metadata();
    case Field::kParameters:
      return write_parameters();
    case Field::kRegistry:
      return string_value(*m_.registry);
    case Field::kResults:
      return write_columns();
    case Field::kToken:
      return string_value(m_.token ? std::string(*m_.token) : *model::default_token(m_));
    case Field::kVersion:
      out_.put('1');
      return;
    case Field::kWhen:
      return string_value(m_.when->canonical());
    case Field::kResultValues:
      return;
  }
}

void write_message(OutBuffer& out, const Message& m, const WriteOptions& opts, int level) {
  FieldWriter w(out, m, opts, level);
  const FieldList fields = fields_of(m, opts);
  w.open();
  for (int i = 0; i < fields.count; ++i) w.write(fields.fields[i]);
  w.close();
}

std::string to_json(const Message& m, const WriteOptions& opts) {
  OutBuffer out(1024);
  write_message(out, m, opts);
  return out.str();
}

std::string exception_json(std::optional<std::string_view> token, std::string_view text,
                           const WriteOptions& opts) {
  Message m;
  m.kind = MessageKind::kException;
  m.exception_token = token;
  m.exception_text = text;
  return to_json(m, opts);
}

}  // namespace mplane::json
