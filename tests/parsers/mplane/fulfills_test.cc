// fulfills(): schema, temporal scope and constraints (PROTOCOL.md §2.13).
#include <catch2/catch.hpp>

#include "parsers/mplane/fulfills.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

std::string capability(std::string_view when, std::string_view params) {
  return std::string(
             R"({"capability": "measure", "registry": "http://ict-mplane.eu/registry/core", "when": ")") +
         std::string(when) + R"(", "parameters": {)" + std::string(params) +
         R"(}, "results": ["delay.twoway.icmp.us"]})";
}
std::string specification(std::string_view when, std::string_view params,
                          std::string_view results = R"(["delay.twoway.icmp.us"])") {
  return std::string(
             R"({"specification": "query", "registry": "http://ict-mplane.eu/registry/core", "when": ")") +
         std::string(when) + R"(", "parameters": {)" + std::string(params) + R"(}, "results": )" +
         std::string(results) + "}";
}

TEST_CASE("fulfills: schema, when and constraints", "[parsers][fulfills]") {
  const model::MicrosSinceEpoch now = model::make_time(2030, 1, 1, 12, 0, 0, 0);
  using model::Mismatch;
  auto [cap_when, cap_params, spec_when, spec_params, spec_results, expected] =
      GENERATE(table<std::string, std::string, std::string, std::string, std::string, Mismatch>({
          {"now ... future / 1s", R"("destination.ip4": "*")", "now + 30s / 1s",
           R"("destination.ip4": "192.0.2.1")", R"(["delay.twoway.icmp.us"])", Mismatch::kFulfills},
          // a periodic capability needs a period at least as long
          {"now ... future / 1s", R"("destination.ip4": "*")", "now + 30s",
           R"("destination.ip4": "192.0.2.1")", R"(["delay.twoway.icmp.us"])", Mismatch::kWhen},
          {"now ... future / 5s", R"("destination.ip4": "*")", "now + 30s / 1s",
           R"("destination.ip4": "192.0.2.1")", R"(["delay.twoway.icmp.us"])", Mismatch::kWhen},
          // the start must lie in the capability's scope
          {"past ... now", R"("destination.ip4": "*")", "2029-01-01 ... 2029-01-02",
           R"("destination.ip4": "192.0.2.1")", R"(["delay.twoway.icmp.us"])", Mismatch::kFulfills},
          {"past ... now", R"("destination.ip4": "*")", "2031-01-01 ... 2031-01-02",
           R"("destination.ip4": "192.0.2.1")", R"(["delay.twoway.icmp.us"])", Mismatch::kWhen},
          {"2030-01-01 ... 2030-02-01", R"("destination.ip4": "*")", "past ... now",
           R"("destination.ip4": "192.0.2.1")", R"(["delay.twoway.icmp.us"])", Mismatch::kWhen},
          // schema: other names or columns
          {"now ... future", R"("destination.ip4": "*")", "now", R"("destination.ip6": "::1")",
           R"(["delay.twoway.icmp.us"])", Mismatch::kSchema},
          {"now ... future", R"("destination.ip4": "*")", "now",
           R"("destination.ip4": "192.0.2.1")", R"(["delay.twoway.icmp.us", "time"])",
           Mismatch::kSchema},
          // constraints
          {"now ... future", R"("destination.ip4": "192.0.2.0/24")", "now",
           R"("destination.ip4": "192.0.2.9")", R"(["delay.twoway.icmp.us"])", Mismatch::kFulfills},
          {"now ... future", R"("destination.ip4": "192.0.2.0/24")", "now",
           R"("destination.ip4": "192.0.3.9")", R"(["delay.twoway.icmp.us"])",
           Mismatch::kConstraint},
          {"now ... future", R"("destination.ip4": "10.0.0.1 ... 10.0.0.9")", "now",
           R"("destination.ip4": "*")", R"(["delay.twoway.icmp.us"])", Mismatch::kConstraint},
          // the verb is not compared (RI): the spec above says "query"
      }));
  CAPTURE(cap_when, spec_when, spec_params);
  auto cap = test::parse(capability(cap_when, cap_params));
  REQUIRE(cap.ok());
  auto spec = test::parse(specification(spec_when, spec_params, spec_results));
  REQUIRE(spec.ok());
  const model::MatchResult r = model::fulfills((*spec)->message, (*cap)->message, now);
  CHECK(r.mismatch == expected);
  if (expected != Mismatch::kFulfills) CHECK(!r.detail.empty());
}

}  // namespace
}  // namespace mplane
