// mPlane messages (PROTOCOL.md §2.5–2.12, §3): statements, notifications and envelopes.
//
// Lifetime: a Message borrows. Its string_views (verb, label, token, string values …) point
// into the JSON input it was parsed from, or into the Arena that the reader copied escaped
// strings into. Keep both alive, unchanged, as long as the Message. Element pointers point
// into the RegistrySet used to parse it. OwnedMessage (json/message_reader.h) bundles all of
// it for code that wants to keep a message.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/base/result.h"
#include "parsers/mplane/constraint.h"
#include "parsers/mplane/primitive.h"
#include "parsers/mplane/registry.h"
#include "parsers/mplane/when.h"

namespace mplane::model {

enum class MessageKind : std::uint8_t {
  kCapability,
  kSpecification,
  kResult,
  kReceipt,
  kRedemption,
  kWithdrawal,
  kInterrupt,
  kIndirection,
  kException,
  kEnvelope,
};

// The JSON key that names the kind ("capability", …, "envelope").
std::string_view kind_key(MessageKind k) noexcept;
std::optional<MessageKind> kind_from_key(std::string_view key) noexcept;
// Capability-like kinds carry constraints in `parameters`; the others carry values.
bool carries_constraints(MessageKind k) noexcept;
bool is_statement(MessageKind k) noexcept;  // capability, specification, result
bool is_notification(MessageKind k) noexcept;

// Holds copies of strings that could not be borrowed (escaped JSON strings, built text).
// Pointers stay valid until the arena is destroyed.
class Arena {
 public:
  std::string_view keep(std::string s) {
    strings_.push_back(std::move(s));
    return strings_.back();
  }
  void clear() { strings_.clear(); }

 private:
  std::deque<std::string> strings_;
};

struct Parameter {
  const Element* element = nullptr;
  Constraint constraint;  // capability, withdrawal, indirection
  Value value;            // every other kind
};

struct Metadatum {
  const Element* element = nullptr;
  Value value;
};

// One result column: its element and its values, one per row (none where absent).
struct Column {
  const Element* element = nullptr;
  std::vector<Value> values;
};

struct Message {
  MessageKind kind = MessageKind::kCapability;
  std::string_view verb;  // statements/notifications: the verb; envelope: the content type
  std::int64_t version = 1;
  std::optional<std::string_view> registry;
  std::optional<std::string_view> label;
  std::optional<std::string_view> token;
  std::optional<std::string_view> link;
  std::optional<std::string_view> export_url;
  std::optional<When> when;
  std::vector<Parameter> parameters;  // in input order; hashing and writing sort by name
  std::vector<Metadatum> metadata;
  std::vector<Column> columns;  // `results`, in order; values are the `resultvalues`
  std::size_t row_count = 0;

  // exception
  std::optional<std::string_view> exception_token;  // absent = JSON null
  std::string_view exception_text;

  // envelope
  std::vector<Message> contents;

  const Parameter* find_parameter(std::string_view name) const noexcept;
  const Metadatum* find_metadatum(std::string_view name) const noexcept;
  // A token-only notification: no when, parameters, metadata or results (§3.4).
  bool token_only() const noexcept;
};

// Pointers to the items of a section (parameters, metadata, columns) sorted by element name:
// the order of the token hashes and of the RI's JSON. Valid while `items` is unchanged.
template <class T>
std::vector<const T*> sorted_by_name(const std::vector<T>& items) {
  std::vector<const T*> out;
  out.reserve(items.size());
  for (const T& item : items) out.push_back(&item);
  std::sort(out.begin(), out.end(),
            [](const T* a, const T* b) { return a->element->name < b->element->name; });
  return out;
}

// A specification for `capability` as the RI builds one (Specification(capability=…)): same
// verb, registry, label, when, metadata and result columns; each parameter whose constraint
// admits exactly one value is pre-filled with it, the others are left without a value.
// The result borrows the capability's strings.
Message specification_from(const Message& capability);

// A deep copy of `m` whose strings (verb, label, token, string values, constraint members,
// envelope members) live in `arena`: the copy no longer borrows the original input.
Message copy_message(const Message& m, Arena& arena);
// A copy of a value whose string (if any) lives in `arena`.
Value copy_value(const Value& v, Arena& arena);

// Validates a parsed (or built) message as the RI does before serialising it (§2.5), plus the
// structural rules of the spec; envelopes recursively. The error names the section/element.
Status<> validate(const Message& m);

// A one-line summary in the style of the RI's repr:
// `<specification: measure (ping-average-ip4-0) when 2030-01-01 12:00:00.000000 + 1m / 1s
//  token d821d3a1 schema e2ca42e6 p/m/r 2/0/4 rows 0>`.
std::string summarize(const Message& m);

}  // namespace mplane::model
