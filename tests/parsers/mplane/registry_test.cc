// RegistrySet: the core registry, includes, overrides, and clear errors.
#include <catch2/catch.hpp>

#include "tests/test_support.h"

namespace mplane {
namespace {

TEST_CASE("the built-in core registry has the 113 RI elements", "[parsers][registry]") {
  auto regs = conf::load_registries({});
  REQUIRE(regs.ok());
  // 113 core elements + the 2 loopback test elements + the engine registry's 2 test and 57
  // flow elements
  CHECK(regs->element_count() == 174);
  CHECK(regs->has_uri(model::kCoreRegistryUri));
  const model::Element* e = regs->find("connectivity.ip");
  REQUIRE(e);
  CHECK(e->prim == model::Prim::kBoolean);
  CHECK(regs->find("intermedate.as"));  // the RI's misspelling is kept
  CHECK(regs->find("System_ID"));       // names are case-sensitive
  CHECK(!regs->find("system_id"));
}

TEST_CASE("a registry that includes the core adds its elements", "[parsers][registry]") {
  const model::RegistrySet& regs = test::registries();
  CHECK(regs.has_uri("http://mplane.corvid.ch/registry/loopback"));
  const model::Element* in = regs.find("test.input");
  REQUIRE(in);
  CHECK(in->registry_uri == "http://mplane.corvid.ch/registry/loopback");
  CHECK(regs.find("source.ip4")->registry_uri == model::kCoreRegistryUri);
}

const char* const kReg = R"({"registry-format": "mplane-0", "registry-uri": "urn:a",
  "registry-revision": 1, "includes": ["urn:b"],
  "elements": ["COMMENT: tolerated", {"name": "x.a", "prim": "natural"}, {"name": "shared", "prim": "real"}]})";
const char* const kRegB = R"({"registry-format": "mplane-0", "registry-uri": "urn:b",
  "elements": [{"name": "x.b", "prim": "url"}, {"name": "shared", "prim": "string"}]})";

TEST_CASE("includes load first and the including registry overrides", "[parsers][registry]") {
  model::RegistrySet regs;
  REQUIRE(regs.add_documents({{kReg, "a.json"}, {kRegB, "b.json"}}).ok());
  CHECK(regs.find("x.a")->prim == model::Prim::kNatural);
  CHECK(regs.find("x.b")->prim == model::Prim::kUrl);
  CHECK(regs.find("shared")->prim == model::Prim::kReal);
  CHECK(regs.find("shared")->registry_uri == "urn:a");
}

TEST_CASE("bad registries give errors naming the file and reason", "[parsers][registry]") {
  auto [doc, part] = GENERATE(table<std::string, std::string>({
      {R"({"registry-format": "mplane-1", "registry-uri": "u", "elements": []})",
       "registry-format"},
      {R"({"registry-format": "mplane-0", "elements": []})", "registry-uri"},
      {R"({"registry-format": "mplane-0", "registry-uri": "u", "elements": [{"name": "a", "prim": "bool"}]})",
       "unknown prim 'bool'"},
      {R"({"registry-format": "mplane-0", "registry-uri": "u", "elements": [{"prim": "string"}]})",
       "elements[0] has no string \"name\""},
      {R"({"registry-format": "mplane-0", "registry-uri": "u", "includes": ["urn:missing"], "elements": []})",
       "includes unknown registry urn:missing"},
      {R"({"registry-format": "mplane-0", "registry-uri": "u", "includes": ["u"], "elements": []})",
       "include cycle"},
      {"{not json", "not valid JSON"},
  }));
  model::RegistrySet regs;
  auto st = regs.add_document(doc, "my.json");
  REQUIRE(!st.ok());
  CHECK_THAT(st.error(), Catch::StartsWith("my.json: "));
  CHECK_THAT(st.error(), Catch::Contains(part));
}

TEST_CASE("a missing registry file is named", "[parsers][registry]") {
  auto regs = conf::load_registries({"/nonexistent/reg.json"});
  REQUIRE(!regs.ok());
  CHECK(regs.error() == "/nonexistent/reg.json: cannot open registry file");
}

}  // namespace
}  // namespace mplane
