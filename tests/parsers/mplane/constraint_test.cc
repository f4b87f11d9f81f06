// Constraints: every kind, canonical text, matching (vector 03's table).
#include <catch2/catch.hpp>

#include "parsers/mplane/constraint.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

using model::Constraint;
using model::Prim;

TEST_CASE("constraint kinds and canonical text", "[parsers][constraint]") {
  auto [prim, text, kind, canonical] =
      GENERATE(table<Prim, std::string, model::ConstraintKind, std::string>({
          {Prim::kNatural, "*", model::ConstraintKind::kAny, "*"},
          {Prim::kNatural, "443", model::ConstraintKind::kSet, "443"},
          {Prim::kNatural, "10,3", model::ConstraintKind::kSet, "10,3"},
          {Prim::kNatural, "99 ... 0", model::ConstraintKind::kRange, "0 ... 99"},
          {Prim::kAddress, "10.0.0.1 ... 10.0.0.254", model::ConstraintKind::kRange,
           "10.0.0.1 ... 10.0.0.254"},
          {Prim::kAddress, "192.0.2.0/24", model::ConstraintKind::kPrefix, "192.0.2.0/24"},
          {Prim::kAddress, "2001:DB8::/32", model::ConstraintKind::kPrefix, "2001:db8::/32"},
          {Prim::kTime, "2014-01-01 ... 2014-02-01", model::ConstraintKind::kRange,
           "2014-01-01 00:00:00.000000 ... 2014-02-01 00:00:00.000000"},
          {Prim::kString, "a, b", model::ConstraintKind::kSet, "a, b"},
          {Prim::kReal, "0.5 ... 1e3", model::ConstraintKind::kRange, "0.5 ... 1000.0"},
      }));
  CAPTURE(text);
  auto c = Constraint::parse(prim, text);
  REQUIRE(c.ok());
  CHECK(c->kind() == kind);
  CHECK(c->canonical() == canonical);
}

TEST_CASE("bad constraints are rejected", "[parsers][constraint]") {
  auto [prim, text, part] = GENERATE(table<Prim, std::string, std::string>({
      {Prim::kAddress, "192.0.2.19, 192.0.3.21", "does not appear to be an IPv4 or IPv6 address"},
      {Prim::kNatural, "1 ... 2 ... 3", "too many"},
      {Prim::kNatural, "1...5", "natural"},
      {Prim::kNatural, "1,*", "'*' in a set"},
      {Prim::kAddress, "10.0.0.1 ... ::1", "not comparable"},
      {Prim::kNatural, "* ... 5", "'*' as a bound"},
      {Prim::kNatural, "192.0.2.0/24", "natural"},
  }));
  CAPTURE(text);
  auto c = Constraint::parse(prim, text);
  REQUIRE(!c.ok());
  CHECK_THAT(c.error(), Catch::Contains(part));
}

TEST_CASE("vector 03: constraint matching table", "[parsers][constraint]") {
  auto cap = test::parse(test::read_file(test::vector_path("03_capability_constraints.json")));
  REQUIRE(cap.ok());
  const model::Message& m = (*cap)->message;
  auto [param, value, accepted] = GENERATE(table<std::string, std::string, bool>({
      {"source.port", "32768", true},
      {"source.port", "65535", true},
      {"source.port", "80", false},
      {"destination.ip4", "10.0.0.254", true},
      {"destination.ip4", "10.0.1.1", false},
      {"source.ip4", "192.0.3.21", true},
      {"source.ip4", "192.0.2.20", false},
      {"source.interface", "eth0", true},
      {"source.interface", "eth1", false},
      {"destination.port", "443", true},
      {"destination.port", "80", false},
      {"destination.url", "anything", true},
      {"destination.url", "*", true},
      {"destination.port", "*", false},
      {"source.port", "*", false},
  }));
  CAPTURE(param, value);
  const model::Parameter* p = m.find_parameter(param);
  REQUIRE(p);
  auto v = model::parse_value(p->element->prim, value);
  REQUIRE(v.ok());
  CHECK(p->constraint.matches(*v) == accepted);
}

TEST_CASE("single values of constraints", "[parsers][constraint]") {
  CHECK(Constraint::parse(Prim::kNatural, "5 ... 5")->single_value().has_value());
  CHECK(!Constraint::parse(Prim::kNatural, "5 ... 6")->single_value().has_value());
  CHECK(!Constraint::parse(Prim::kNatural, "5,6")->single_value().has_value());
  CHECK(!Constraint::any().single_value().has_value());
  CHECK(model::values_equal(*Constraint::parse(Prim::kNatural, "7")->single_value(),
                            model::Value::natural(7)));
}

}  // namespace
}  // namespace mplane
