// Element registries (PROTOCOL.md §2.1).
//
// A RegistrySet holds every registry loaded by the program. Lookup is global by unqualified
// element name, as in the RI: a message's `registry` URI must name a loaded registry, but its
// elements may come from any of them. Registries are loaded at start-up (configuration,
// command line); after that the set is read-only and may be shared by every shard.
// Element pointers stay valid for the life of the set.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "parsers/base/result.h"
#include "parsers/mplane/primitive.h"

namespace mplane::model {

struct Element {
  std::string name;
  Prim prim = Prim::kString;
  std::string desc;
  std::string registry_uri;  // the registry that defined it (includes keep their namespace)
};

// The URI of the core registry, which every build carries (see conf/).
inline constexpr std::string_view kCoreRegistryUri = "http://ict-mplane.eu/registry/core";

class RegistrySet {
 public:
  RegistrySet() = default;
  RegistrySet(RegistrySet&&) = default;  // moving keeps element addresses (deque nodes move)
  RegistrySet& operator=(RegistrySet&&) = default;
  RegistrySet(const RegistrySet&) = delete;  // a copy would point into the original
  RegistrySet& operator=(const RegistrySet&) = delete;

  // Parses a registry document (`source` names it in errors: a file path or "<builtin core>").
  // Its `includes` (or `include`, the 2014 RI's and the architecture fork's spelling) must name
  // registries already loaded or loaded in the same add_documents() call; they are applied
  // first, then this registry's own elements. A name defined again replaces the definition
  // loaded before it, for every message (lookup is global by name, as in the RI).
  Status<> add_document(std::string_view json, std::string_view source);
  // Several documents at once, so that they may include each other in any order.
  struct Document {
    std::string json;
    std::string source;
  };
  Status<> add_documents(const std::vector<Document>& docs);

  // An element name defined again with another primitive by a registry loaded later (the later
  // definition counts: see the README's "Registries"), for warnings.
  struct Redefinition {
    std::string name;
    Prim before = Prim::kString;
    std::string before_uri;
    Prim after = Prim::kString;
    std::string after_uri;
    std::string source;  // the document that redefined it
  };
  const std::vector<Redefinition>& redefinitions() const noexcept { return redefinitions_; }

  // The element with this unqualified name, or nullptr.
  const Element* find(std::string_view name) const noexcept;
  bool has_uri(std::string_view uri) const noexcept;
  std::size_t element_count() const noexcept { return by_name_.size(); }
  std::vector<std::string> uris() const;

 private:
  struct Parsed {
    std::string uri;
    std::string source;
    std::vector<std::string> includes;
    std::vector<Element> elements;
  };
  static Result<Parsed> parse_document(std::string_view json, std::string_view source);
  Status<> apply(const std::vector<Parsed>& batch, std::size_t index, std::vector<int>& state);
  void define(const Element& e, const std::string& source);

  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::deque<Element> storage_;  // deque: pointers stay valid as it grows
  std::unordered_map<std::string, const Element*, Hash, std::equal_to<>> by_name_;
  std::vector<std::string> uris_;
  std::vector<Redefinition> redefinitions_;
};

}  // namespace mplane::model
