// Writes mPlane messages as JSON in the RI emitter's layout (PROTOCOL.md §3.2): keys sorted at
// every level, every value a JSON string in canonical form, empty sections omitted, non-ASCII
// escaped. `pretty` gives the RI's indent of 2 (the layout of the test vectors); compact output
// has no whitespace at all and is what the RI parses equally well.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "parsers/json/out_buffer.h"
#include "parsers/mplane/message.h"

namespace mplane::json {

struct WriteOptions {
  bool pretty = true;
  // Write the default token (§2.7) when the message has none, as a component does for the
  // capabilities it serves.
  bool add_default_token = false;
};

// Appends `m` (envelopes recursively) to `out`. `level` is the starting indent level.
void write_message(OutBuffer& out, const model::Message& m, const WriteOptions& opts = {},
                   int level = 0);
std::string to_json(const model::Message& m, const WriteOptions& opts = {});
// An exception (`"exception"`: the token, null when absent; `"message"`: the text), the body of
// an error answer on every HTTP face. Compact unless `opts` says otherwise.
std::string exception_json(std::optional<std::string_view> token, std::string_view text,
                           const WriteOptions& opts = {.pretty = false});

// --- Building blocks shared with ResultStreamWriter -------------------------------------
// The top-level keys of a message, in the order they are written (sorted by name).
enum class Field : std::uint8_t {
  kKind,
  kContents,
  kExport,
  kLabel,
  kLink,
  kMessage,
  kMetadata,
  kParameters,
  kRegistry,
  kResults,
  kResultValues,
  kToken,
  kVersion,
  kWhen,
};
struct FieldList {
  Field fields[16];
  int count = 0;
};
FieldList fields_of(const model::Message& m, const WriteOptions& opts);

class FieldWriter {
 public:
  FieldWriter(OutBuffer& out, const model::Message& m, const WriteOptions& opts, int level)
      : out_(out), m_(m), opts_(opts), level_(level) {}
  void open();  // `{`
  void write(Field f);
  void close();  // `}`
  // Row writing, exposed for streaming: the `[`/`]` of the resultvalues array and one row.
  void open_rows();
  void write_row(const model::Value* row, std::size_t n);  // n values, one per column
  void close_rows();
  bool rows_empty() const { return rows_written_ == 0; }

 private:
  void key(std::string_view k);
  void newline(int extra);
  void string_value(std::string_view s) { append_json_string(out_, s); }
  void value(const model::Value& v);
  template <class T, class F>
  void write_section(const std::vector<T>& items, F write_value);
  void write_parameters();
  void write_metadata();
  void write_columns();
  void write_contents();

  OutBuffer& out_;
  const model::Message& m_;
  const WriteOptions& opts_;
  int level_;
  bool first_ = true;
  std::size_t rows_written_ = 0;
};

}  // namespace mplane::json
