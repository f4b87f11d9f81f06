#include "parsers/json/result_stream_reader.h"

#include <simdjson.h>

#include <cstdint>
#include <vector>

#include "parsers/json/message_reader.h"

// How it works: a small scanner follows the JSON structure byte by byte (strings, brackets,
// keys) without building anything. Every byte goes to the "head" text except the rows of a
// result's `resultvalues`, which are cut out (the head keeps `[]`) and collected into a batch
// (`[row,row,…]`). A batch is typed by MessageReader::parse_rows() and handed over row by row
// at the end of every feed() (or when it grows past kBatchBytes), once the result's columns are
// known. When the top-level object closes, the head is parsed as a whole by MessageReader: the
// message the handler gets in on_message() is exactly what the whole-message reader would
// return, rows left out. JSON errors in the head are found there; in rows, by parse_rows().
namespace mplane::json {
namespace {

constexpr std::size_t kBatchBytes = std::size_t{256} * 1024;

// A message object is the top-level object or a member of a message object's `contents`.
enum class Role : std::uint8_t { kOther, kMessage, kContents, kColumns, kRows };
enum class Kind : std::uint8_t { kUnknown, kResult, kOther };

struct Frame {
  bool is_object = false;
  bool expect_key = false;  // objects: the next string is a key
  Role role = Role::kOther;
  std::size_t message = 0;      // index into State::messages of the message it belongs to
  std::size_t value_start = 0;  // kColumns: offset of its '[' in the head
  std::string last_key;         // kMessage: the key whose value comes next
};

struct MessageState {
  Kind kind = Kind::kUnknown;
  bool columns_known = false;
  bool announced = false;  // on_columns() called
  std::vector<const model::Element*> columns;
  std::size_t rows = 0;  // handed over
};

// Where a scan is inside a JSON string: `inside` until the closing quote, escapes skipped.
struct StringScan {
  bool inside = false;
  bool escaped = false;
  // One byte inside a string; false when it was the closing quote.
  bool still_inside(char ch) {
    if (escaped) {
      escaped = false;
    } else if (ch == '\\') {
      escaped = true;
    } else if (ch == '"') {
      inside = false;
    }
    return inside;
  }
};

bool is_space(char ch) { return ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t'; }

bool names_other_kind(std::string_view key) {
  auto kind = model::kind_from_key(key);
  return kind && *kind != model::MessageKind::kResult;
}

}  // namespace

struct ResultStreamReader::State {
  State(const model::RegistrySet& r, ResultStreamHandler& h, ResultStreamLimits l)
      : registries(r), handler(h), limits(l), reader(r) {}

  const model::RegistrySet& registries;
  ResultStreamHandler& handler;
  ResultStreamLimits limits;
  MessageReader reader;

  std::string head;
  std::vector<Frame> stack;
  std::vector<MessageState> messages;
  bool started = false;
  bool done = false;
  std::string error;       // sticky
  std::size_t offset = 0;  // bytes fed so far (for error positions)
  std::size_t total_rows = 0;

  // Scanner state outside rows.
  StringScan string;
  bool string_is_key = false;
  std::size_t key_start = 0;

  // The row being cut out, and the batch of complete rows of the current result.
  bool in_row = false;
  StringScan row_string;
  int row_depth = 0;
  std::size_t row_start = 0;  // offset of the row in `batch`
  std::size_t batch_owner = SIZE_MAX;
  std::string batch = "[";
  std::size_t batch_rows = 0;
  model::Message scratch;  // typed rows of a batch
  model::Arena arena;
  std::vector<model::Value> row_values;

  // The parsed head, kept alive while on_message() runs.
  simdjson::padded_string head_text;
  model::Arena head_arena;

  Status<> fail_at(std::string why) {
    error = "byte " + std::to_string(offset) + ": " + std::move(why);
    return mplane::fail(error);
  }
  Status<> fail_plain(std::string why) {
    error = std::move(why);
    return mplane::fail(error);
  }

  Status<> feed(std::string_view bytes);
  Status<> step(char ch);
  Status<> string_byte(char ch);
  Result<std::size_t> scan_row(std::string_view bytes, std::size_t i);
  Status<> rows_frame_byte(char ch);
  Status<> open(char ch);
  Status<> close(char ch);
  void key_done(std::string_view key);
  Status<> columns_done(const Frame& f);
  Status<> message_done(const Frame& f);
  Status<> announce(std::size_t message);
  Status<> append_head(char ch);
  Status<> flush_batch();
  Status<> hand_over(std::size_t count);
  Status<> row_error(const ParseError& e);
  Status<> head_done();
  void assign_row_counts(model::Message& m, std::size_t& index) const;
};

Status<> ResultStreamReader::State::feed(std::string_view bytes) {
  if (!error.empty()) return mplane::fail(error);
  for (std::size_t i = 0; i < bytes.size();) {
    if (in_row) {
      auto next = scan_row(bytes, i);
      if (!next) return mplane::fail(std::move(next).error());
      i = *next;
      continue;
    }
    if (auto st = step(bytes[i]); !st) return st;
    ++offset;
    ++i;
  }
  return flush_batch();
}

// The hot path: a run of row bytes, up to the row's end or the input's, appended at once.
Result<std::size_t> ResultStreamReader::State::scan_row(std::string_view bytes, std::size_t i) {
  const std::size_t start = i;
  for (; i < bytes.size(); ++i) {
    const char ch = bytes[i];
    if (row_string.inside) {
      row_string.still_inside(ch);
    } else if (ch == '"') {
      row_string.inside = true;
    } else if (ch == '[' || ch == '{') {
      ++row_depth;
    } else if ((ch == ']' || ch == '}') && --row_depth == 0) {
      in_row = false;
      ++i;
      break;
    }
  }
  batch.append(bytes.substr(start, i - start));
  offset += i - start;
  if (batch.size() - row_start > limits.max_row_bytes) {
    in_row = true;  // complete or not, it is not handed over: the rows before it first
    if (auto st = flush_batch(); !st) return mplane::fail(error);
    const std::size_t number = messages[batch_owner].rows + batch_rows + 1;
    (void)fail_at("row " + std::to_string(number) + ": larger than " +
                  std::to_string(limits.max_row_bytes) + " bytes");
    return mplane::fail(error);
  }
  if (!in_row) {
    ++batch_rows;
    if (batch.size() >= kBatchBytes) {
      if (auto st = flush_batch(); !st) return mplane::fail(error);
    }
  }
  return i;
}

Status<> ResultStreamReader::State::step(char ch) {
  if (done) {
    if (is_space(ch)) return Ok{};
    return fail_at("bytes after the message");
  }
  if (string.inside) return string_byte(ch);
  if (!stack.empty() && stack.back().role == Role::kRows) return rows_frame_byte(ch);
  if (!started) {
    if (is_space(ch)) return Ok{};
    if (ch != '{')
      return fail_at("Cannot determine message type: the message is not a JSON object");
    started = true;
  }
  switch (ch) {
    case '"':
      string.inside = true;
      string_is_key = !stack.empty() && stack.back().is_object && stack.back().expect_key;
      key_start = head.size() + 1;
      break;
    case '{':
    case '[':
      return open(ch);
    case '}':
    case ']':
      return close(ch);
    case ':':
      if (!stack.empty()) stack.back().expect_key = false;
      break;
    case ',':
      if (!stack.empty() && stack.back().is_object) stack.back().expect_key = true;
      break;
    default:
      break;
  }
  return append_head(ch);
}

Status<> ResultStreamReader::State::string_byte(char ch) {
  if (!string.still_inside(ch) && string_is_key) {
    key_done(std::string_view(head).substr(key_start));
  }
  return append_head(ch);
}

void ResultStreamReader::State::key_done(std::string_view key) {
  Frame& f = stack.back();
  if (f.role != Role::kMessage) return;
  f.last_key.assign(key);
  MessageState& m = messages[f.message];
  if (key == "result") m.kind = Kind::kResult;
  if (names_other_kind(key)) m.kind = Kind::kOther;
}

Status<> ResultStreamReader::State::open(char ch) {
  Frame f;
  f.is_object = ch == '{';
  f.expect_key = f.is_object;
  const Frame* parent = stack.empty() ? nullptr : &stack.back();
  if (f.is_object && (!parent || parent->role == Role::kContents)) {
    f.role = Role::kMessage;
    f.message = messages.size();
    messages.emplace_back();
  } else if (!f.is_object && parent && parent->role == Role::kMessage) {
    f.message = parent->message;
    if (parent->last_key == "contents") f.role = Role::kContents;
    if (parent->last_key == "results") f.role = Role::kColumns;
    if (parent->last_key == "resultvalues") f.role = Role::kRows;
    f.value_start = head.size();
  }
  if (stack.size() >= 4 * static_cast<std::size_t>(kMaxEnvelopeDepth) + 64) {
    return fail_at("invalid JSON: nested too deeply");
  }
  if (f.role == Role::kRows && messages[f.message].kind == Kind::kUnknown) {
    messages[f.message].kind = Kind::kResult;  // only results carry rows
  }
  stack.push_back(std::move(f));
  return append_head(ch);
}

Status<> ResultStreamReader::State::close(char ch) {
  if (stack.empty() || stack.back().is_object != (ch == '}')) {
    return fail_at(std::string("invalid JSON: unexpected '") + ch + "'");
  }
  if (auto st = append_head(ch); !st) return st;
  Frame f = std::move(stack.back());
  stack.pop_back();
  if (f.role == Role::kColumns) return columns_done(f);
  if (f.role == Role::kRows) return flush_batch();
  if (f.role == Role::kMessage) return message_done(f);
  return Ok{};
}

// `results` is complete: look its names up (the head parse checks the rest).
Status<> ResultStreamReader::State::columns_done(const Frame& f) {
  simdjson::padded_string text(std::string_view(head).substr(f.value_start));
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::array names;
  if (parser.iterate(text).get(doc) || doc.get_array().get(names)) {
    return fail_at("invalid JSON in \"results\"");
  }
  MessageState& m = messages[f.message];
  m.columns.clear();
  for (auto item : names) {
    std::string_view name;
    if (item.get_string().get(name)) return fail_at("\"results\" must be a list of element names");
    const model::Element* e = registries.find(name);
    if (!e) return fail_at("Key error: " + std::string(name) + " not present in registries");
    m.columns.push_back(e);
  }
  m.columns_known = true;
  if (m.kind == Kind::kResult) return announce(f.message);
  return Ok{};
}

Status<> ResultStreamReader::State::announce(std::size_t message) {
  MessageState& m = messages[message];
  if (m.announced) return Ok{};
  m.announced = true;
  return handler.on_columns(m.columns);
}

Status<> ResultStreamReader::State::message_done(const Frame& f) {
  if (batch_owner == f.message) {
    if (auto st = flush_batch(); !st) return st;
    if (batch_rows > 0) return fail_at("rows of a result without \"results\"");
  }
  const MessageState& m = messages[f.message];
  if (m.kind == Kind::kResult && m.columns_known) {
    if (auto st = announce(f.message); !st) return st;
  }
  if (stack.empty()) return head_done();
  return Ok{};
}

Status<> ResultStreamReader::State::append_head(char ch) {
  if (head.size() >= limits.max_head_bytes) {
    return fail_at("the message without its rows is larger than " +
                   std::to_string(limits.max_head_bytes) + " bytes");
  }
  head.push_back(ch);
  return Ok{};
}

// Inside `resultvalues`: separators are dropped from the head, each row is cut out.
Status<> ResultStreamReader::State::rows_frame_byte(char ch) {
  if (is_space(ch) || ch == ',') return Ok{};
  if (ch == ']') return close(ch);
  const std::size_t owner = stack.back().message;
  const std::size_t number = messages[owner].rows + batch_rows + 1;
  if (ch != '[') return fail_at("row " + std::to_string(number) + ": not a JSON array");
  batch_owner = owner;
  if (batch_rows > 0) batch.push_back(',');
  row_start = batch.size();
  batch.push_back('[');
  in_row = true;
  row_depth = 1;
  return Ok{};
}

// Types and hands over the complete rows of the batch, once their columns are known. Rows of a
// result whose columns are still unknown wait (bounded with the head).
Status<> ResultStreamReader::State::flush_batch() {
  if (batch_rows == 0) return Ok{};
  MessageState& m = messages[batch_owner];
  if (!m.columns_known) {
    if (batch.size() > limits.max_head_bytes) {
      return fail_at("rows before their result's \"results\" exceed " +
                     std::to_string(limits.max_head_bytes) + " bytes");
    }
    return Ok{};
  }
  if (auto st = announce(batch_owner); !st) return st;
  const std::string pending = in_row ? batch.substr(row_start) : std::string();
  batch.resize(in_row ? row_start - (batch_rows > 0 ? 1 : 0) : batch.size());
  batch.push_back(']');
  batch.reserve(batch.size() + simdjson::SIMDJSON_PADDING);
  scratch.columns.clear();
  for (const model::Element* e : m.columns) scratch.columns.push_back({e, {}});
  scratch.row_count = 0;
  auto parsed = reader.parse_rows(
      simdjson::padded_string_view(batch.data(), batch.size(), batch.capacity()), scratch, arena);
  const std::size_t complete = batch_rows;
  batch_rows = 0;
  batch.assign("[");
  if (auto st = hand_over(scratch.row_count); !st) return st;
  arena.clear();
  if (!parsed) return row_error(parsed.error());
  if (scratch.row_count != complete) return fail_at("row count mismatch in a batch");
  row_start = batch.size();
  batch += pending;
  return Ok{};
}

Status<> ResultStreamReader::State::hand_over(std::size_t count) {
  MessageState& m = messages[batch_owner];
  for (std::size_t i = 0; i < count; ++i) {
    row_values.clear();
    for (const model::Column& c : scratch.columns) row_values.push_back(c.values[i]);
    ++m.rows;
    ++total_rows;
    if (auto st = handler.on_row(m.rows, row_values); !st) return fail_plain(st.error());
  }
  return Ok{};
}

// "row N[, column NAME]: why", N counting within the result.
Status<> ResultStreamReader::State::row_error(const ParseError& e) {
  const MessageState& m = messages[batch_owner];
  std::string where = "row " + std::to_string(m.rows + 1);
  const std::size_t open_bracket = e.where.rfind('[');
  const std::size_t first_bracket = e.where.find('[');
  if (open_bracket != std::string::npos && open_bracket != first_bracket) {
    const std::size_t j = std::strtoul(e.where.c_str() + open_bracket + 1, nullptr, 10);
    if (j < m.columns.size()) where += ", column " + std::string(m.columns[j]->name);
  }
  return fail_plain(where + ": " + e.message);
}

Status<> ResultStreamReader::State::head_done() {
  done = true;
  head_text = simdjson::padded_string(head);
  std::string().swap(head);
  auto parsed = reader.parse(head_text, head_arena);
  if (!parsed) {
    const ParseError& e = parsed.error();
    return fail_plain(e.where.empty() ? e.message : e.where + ": " + e.message);
  }
  std::size_t index = 0;
  assign_row_counts(parsed.value(), index);
  if (auto st = handler.on_message(parsed.value()); !st) return fail_plain(st.error());
  return Ok{};
}

// Message objects were numbered in the order they began, which is the pre-order of the tree.
void ResultStreamReader::State::assign_row_counts(model::Message& m, std::size_t& index) const {
  if (index < messages.size()) m.row_count = messages[index].rows;
  ++index;
  for (model::Message& member : m.contents) assign_row_counts(member, index);
}

ResultStreamReader::ResultStreamReader(const model::RegistrySet& registries,
                                       ResultStreamHandler& handler, ResultStreamLimits limits)
    : state_(std::make_unique<State>(registries, handler, limits)) {}

ResultStreamReader::~ResultStreamReader() = default;

Status<> ResultStreamReader::feed(std::string_view bytes) { return state_->feed(bytes); }

Status<> ResultStreamReader::finish() {
  State& s = *state_;
  if (!s.error.empty()) return fail(s.error);
  if (s.done) return Ok{};
  if (!s.started) return s.fail_plain("no message (the input is empty)");
  return s.fail_at("the message is incomplete (the input ends inside it)");
}

std::size_t ResultStreamReader::rows() const noexcept { return state_->total_rows; }

}  // namespace mplane::json
