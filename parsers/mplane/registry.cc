#include "parsers/mplane/registry.h"

#include <simdjson.h>

#include <algorithm>

namespace mplane::model {
namespace {

namespace dom = simdjson::dom;

std::string where(std::string_view source, std::string_view what) {
  return std::string(source) + ": " + std::string(what);
}

Result<Element> parse_element(dom::element entry, std::string_view uri, std::string_view source,
                              std::size_t index) {
  const std::string at = "elements[" + std::to_string(index) + "]";
  dom::object obj;
  if (entry.get(obj) != simdjson::SUCCESS) return fail(where(source, at + " is not an object"));
  std::string_view name;
  std::string_view prim_text;
  if (obj["name"].get(name) != simdjson::SUCCESS || name.empty()) {
    return fail(where(source, at + " has no string \"name\""));
  }
  if (obj["prim"].get(prim_text) != simdjson::SUCCESS) {
    return fail(where(source, at + " (" + std::string(name) + ") has no string \"prim\""));
  }
  auto prim = prim_from_name(prim_text);
  if (!prim) {
    return fail(where(source, at + " (" + std::string(name) + ") has unknown prim '" +
                                  std::string(prim_text) + "'"));
  }
  std::string_view desc;
  if (obj["desc"].get(desc) != simdjson::SUCCESS) desc = {};
  return Element{std::string(name), *prim, std::string(desc), std::string(uri)};
}

}  // namespace

Result<RegistrySet::Parsed> RegistrySet::parse_document(std::string_view json,
                                                        std::string_view source) {
  dom::parser parser;
  dom::element root;
  if (auto err = parser.parse(json.data(), json.size()).get(root)) {
    return fail(where(source, std::string("not valid JSON: ") + simdjson::error_message(err)));
  }
  std::string_view format;
  if (root["registry-format"].get(format) != simdjson::SUCCESS || format != "mplane-0") {
    return fail(where(source, "\"registry-format\" must be \"mplane-0\""));
  }
  Parsed out;
  out.source = std::string(source);
  std::string_view uri;
  if (root["registry-uri"].get(uri) != simdjson::SUCCESS || uri.empty()) {
    return fail(where(source, "missing string \"registry-uri\""));
  }
  out.uri = std::string(uri);
  for (const char* key : {"includes", "include"}) {  // "include": the 2014 RI's, the fork's
    dom::array includes;
    if (root[key].get(includes) != simdjson::SUCCESS) continue;
    for (dom::element inc : includes) {
      std::string_view s;
      if (inc.get(s) != simdjson::SUCCESS) {
        return fail(where(source, "\"" + std::string(key) + "\" must list strings"));
      }
      out.includes.emplace_back(s);
    }
  }
  dom::array elements;
  if (root["elements"].get(elements) != simdjson::SUCCESS) {
    return fail(where(source, "missing array \"elements\""));
  }
  std::size_t index = 0;
  for (dom::element entry : elements) {
    std::string_view comment;
    if (entry.get(comment) == simdjson::SUCCESS && comment.starts_with("COMMENT:")) {
      ++index;
      continue;  // the RI tolerates comment strings
    }
    auto e = parse_element(entry, out.uri, source, index++);
    if (!e) return fail(e.error());
    out.elements.push_back(std::move(e.value()));
  }
  return out;
}

void RegistrySet::define(const Element& e, const std::string& source) {
  if (const Element* before = find(e.name); before != nullptr && before->prim != e.prim) {
    redefinitions_.push_back(
        {e.name, before->prim, before->registry_uri, e.prim, e.registry_uri, source});
  }
  storage_.push_back(e);
  by_name_.insert_or_assign(e.name, &storage_.back());
}

// Applies batch[index] after its includes (depth first). state: 0 new, 1 in progress, 2 done.
Status<> RegistrySet::apply(const std::vector<Parsed>& batch, std::size_t index,
                            std::vector<int>& state) {
  const Parsed& reg = batch[index];
  if (state[index] == 2) return Ok{};
  if (state[index] == 1) return fail(where(reg.source, "include cycle through " + reg.uri));
  state[index] = 1;
  for (const std::string& inc : reg.includes) {
    auto it =
        std::find_if(batch.begin(), batch.end(), [&](const Parsed& p) { return p.uri == inc; });
    if (it != batch.end()) {
      if (auto st = apply(batch, static_cast<std::size_t>(it - batch.begin()), state); !st)
        return st;
    } else if (!has_uri(inc)) {
      return fail(where(reg.source, "includes unknown registry " + inc +
                                        " (load its file first with --registry FILE)"));
    }
  }
  for (const Element& e : reg.elements) define(e, reg.source);
  if (!has_uri(reg.uri)) uris_.push_back(reg.uri);
  state[index] = 2;
  return Ok{};
}

Status<> RegistrySet::add_documents(const std::vector<Document>& docs) {
  std::vector<Parsed> batch;
  for (const Document& d : docs) {
    auto parsed = parse_document(d.json, d.source);
    if (!parsed) return fail(parsed.error());
    batch.push_back(std::move(parsed.value()));
  }
  std::vector<int> state(batch.size(), 0);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (auto st = apply(batch, i, state); !st) return st;
  }
  return Ok{};
}

Status<> RegistrySet::add_document(std::string_view json, std::string_view source) {
  return add_documents({Document{std::string(json), std::string(source)}});
}

const Element* RegistrySet::find(std::string_view name) const noexcept {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

bool RegistrySet::has_uri(std::string_view uri) const noexcept {
  return std::find(uris_.begin(), uris_.end(), uri) != uris_.end();
}

std::vector<std::string> RegistrySet::uris() const { return uris_; }

}  // namespace mplane::model
