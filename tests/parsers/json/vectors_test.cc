// Every vector in shared/mplane/vectors parses, or is rejected, as its README says, with its
// tokens and schema hashes; parse -> write -> parse gives an identical message.
#include <catch2/catch.hpp>

#include "parsers/json/message_writer.h"
#include "parsers/mplane/fulfills.h"
#include "parsers/mplane/token.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

using model::MessageKind;

struct Expected {
  const char* file;
  MessageKind kind;
  const char* token;          // effective token ("" = none)
  const char* default_token;  // "" = not checked
  const char* schema;         // "" = not checked
};

const Expected kVectors[] = {
    {"01_capability_doc_example.json", MessageKind::kCapability, "d7e9df75145e209e144bf9c06e7a9d2f",
     "d7e9df75145e209e144bf9c06e7a9d2f", "5ce99352d17576ad1b7ee5e333091654"},
    {"02_capability_ping_average_ip4.json", MessageKind::kCapability,
     "0b96282ea23909acbabc428d53abd266", "0b96282ea23909acbabc428d53abd266",
     "e2ca42e60e5e998c7b7bc1fc439129b4"},
    {"03_capability_constraints.json", MessageKind::kCapability, "cap-constraint-demo-0001", "",
     "91ac84fbe06398774f0e71c3b1312558"},
    {"04_capability_query_metadata.json", MessageKind::kCapability,
     "881738d8fc56e43b7016167a0efd8edb", "881738d8fc56e43b7016167a0efd8edb",
     "02b5b53873efcdd48d4daebc1c796a68"},
    // The export is honoured (spec), not moved into `link` (RI bug): PROTOCOL.md §2.10.
    {"05_capability_collect_export.json", MessageKind::kCapability,
     "f7b194440b33b02bea96477515657362", "f7b194440b33b02bea96477515657362",
     "e2ca42e60e5e998c7b7bc1fc439129b4"},
    {"06_capability_callback_ri.json", MessageKind::kCapability, "comp-cb0.4217630385315713",
     "c855a414cc7f042999ffcaa2733a4cdc", "a7b45ce66d5abfcb894de36d5d0f0ada"},
    {"07_envelope_capability_registration.json", MessageKind::kEnvelope, "", "", ""},
    {"08_specification_ping_absolute.json", MessageKind::kSpecification,
     "d821d3a1b9ce56c4826ce01aac92a64c", "d821d3a1b9ce56c4826ce01aac92a64c",
     "e2ca42e60e5e998c7b7bc1fc439129b4"},
    {"09_specification_ping_relative_token.json", MessageKind::kSpecification,
     "5a1b6c3f0e9d4b2a8c7f6e5d4c3b2a19", "7df0017342fbcbd726df97c82f789edf",
     "e2ca42e60e5e998c7b7bc1fc439129b4"},
    {"10_specification_repeated_simple.json", MessageKind::kSpecification,
     "304ce313d295dc8cca1f7c1ca897e2a2", "304ce313d295dc8cca1f7c1ca897e2a2", ""},
    {"11_specification_repeated_range.json", MessageKind::kSpecification,
     "e0084663a99565aa2ffaaf025a4fd399", "e0084663a99565aa2ffaaf025a4fd399", ""},
    {"12_specification_repeated_cron.json", MessageKind::kSpecification,
     "530c396947d25c634cbc80d852e85aff", "530c396947d25c634cbc80d852e85aff", ""},
    {"13_specification_repeated_implicit_inner.json", MessageKind::kSpecification,
     "812ee37d9d43b0b43bef9c530ab9b5bb", "812ee37d9d43b0b43bef9c530ab9b5bb", ""},
    {"14_specification_query_range.json", MessageKind::kSpecification,
     "c36878704beb1fd1c963f8c13bfd3475", "c36878704beb1fd1c963f8c13bfd3475", ""},
    {"15_specification_callback_ri.json", MessageKind::kSpecification,
     "fb09900115b891e7136b10ec5e4477a4", "fb09900115b891e7136b10ec5e4477a4",
     "a7b45ce66d5abfcb894de36d5d0f0ada"},
    {"16_result_ping_average.json", MessageKind::kResult, "d821d3a1b9ce56c4826ce01aac92a64c", "",
     "e2ca42e60e5e998c7b7bc1fc439129b4"},
    {"17_result_multirow_types.json", MessageKind::kResult, "tr6-0001", "", ""},
    {"18_receipt_full.json", MessageKind::kReceipt, "d821d3a1b9ce56c4826ce01aac92a64c", "",
     "e2ca42e60e5e998c7b7bc1fc439129b4"},
    {"19_receipt_token_only.json", MessageKind::kReceipt, "d821d3a1b9ce56c4826ce01aac92a64c", "",
     ""},
    {"20_redemption_full.json", MessageKind::kRedemption, "d821d3a1b9ce56c4826ce01aac92a64c", "",
     ""},
    {"21_redemption_token_only.json", MessageKind::kRedemption, "d821d3a1b9ce56c4826ce01aac92a64c",
     "", ""},
    {"22_interrupt_token_only.json", MessageKind::kInterrupt, "d821d3a1b9ce56c4826ce01aac92a64c",
     "", ""},
    {"23_withdrawal_full.json", MessageKind::kWithdrawal, "0b96282ea23909acbabc428d53abd266", "",
     "e2ca42e60e5e998c7b7bc1fc439129b4"},
    {"24_exception_with_token.json", MessageKind::kException, "3f2c1b0a99887766554433221100ffee",
     "", ""},
    {"25_exception_null_token.json", MessageKind::kException, "", "", ""},
    {"26_envelope_multijob_results.json", MessageKind::kEnvelope,
     "304ce313d295dc8cca1f7c1ca897e2a2", "", ""},
    {"27_envelope_specification_poll.json", MessageKind::kEnvelope, "", "", ""},
    // This project follows the protocol where the RI is narrower (vectors README).
    {"28_invalid_prefix_constraint.json", MessageKind::kCapability, "", "", ""},
    {"30_invalid_indirection.json", MessageKind::kIndirection, "", "", ""},
};

std::string canonical(const model::Message& m) { return json::to_json(m) + "\n"; }

TEST_CASE("every accepted vector parses with its tokens and schema", "[parsers][vectors]") {
  for (const Expected& e : kVectors) {
    CAPTURE(e.file);
    const std::string text = test::read_file(test::vector_path(e.file));
    REQUIRE(!text.empty());
    auto parsed = test::parse(text);
    if (!parsed) FAIL(parsed.error().describe(text));
    const model::Message& m = (*parsed)->message;
    CHECK(m.kind == e.kind);
    CHECK(model::validate(m).ok());
    if (*e.token) CHECK(model::effective_token(m).value_or("") == e.token);
    if (*e.default_token) CHECK(model::default_token(m).value_or("") == e.default_token);
    if (*e.schema) CHECK(model::schema_hash(m) == e.schema);
  }
}

TEST_CASE("parse -> write -> parse gives an identical message", "[parsers][vectors]") {
  for (const Expected& e : kVectors) {
    CAPTURE(e.file);
    const std::string text = test::read_file(test::vector_path(e.file));
    auto first = test::parse(text);
    REQUIRE(first.ok());
    const std::string once = canonical((*first)->message);
    auto second = test::parse(once);
    if (!second) FAIL(second.error().describe(once));
    CHECK(canonical((*second)->message) == once);
    CHECK(model::summarize((*second)->message) == model::summarize((*first)->message));
    CHECK(model::effective_token((*second)->message) == model::effective_token((*first)->message));
  }
}

TEST_CASE("RI-emitted vectors re-serialise byte for byte", "[parsers][vectors]") {
  const char* kIdentical[] = {
      "01_capability_doc_example.json",
      "02_capability_ping_average_ip4.json",
      "04_capability_query_metadata.json",
      "06_capability_callback_ri.json",
      "07_envelope_capability_registration.json",
      "08_specification_ping_absolute.json",
      "09_specification_ping_relative_token.json",
      "10_specification_repeated_simple.json",
      "11_specification_repeated_range.json",
      "13_specification_repeated_implicit_inner.json",
      "14_specification_query_range.json",
      "15_specification_callback_ri.json",
      "16_result_ping_average.json",
      "18_receipt_full.json",
      "19_receipt_token_only.json",
      "20_redemption_full.json",
      "21_redemption_token_only.json",
      "22_interrupt_token_only.json",
      "23_withdrawal_full.json",
      "24_exception_with_token.json",
      "25_exception_null_token.json",
      "26_envelope_multijob_results.json",
      "27_envelope_specification_poll.json",
  };
  for (const char* file : kIdentical) {
    CAPTURE(file);
    const std::string text = test::read_file(test::vector_path(file));
    auto parsed = test::parse(text);
    REQUIRE(parsed.ok());
    CHECK(canonical((*parsed)->message) == text);
  }
}

TEST_CASE("vector 17: typed values and the RI's re-serialisation", "[parsers][vectors]") {
  const std::string text = test::read_file(test::vector_path("17_result_multirow_types.json"));
  auto parsed = test::parse(text);
  REQUIRE(parsed.ok());
  const model::Message& m = (*parsed)->message;
  REQUIRE(m.row_count == 3);
  REQUIRE(m.columns.size() == 7);
  CHECK(m.columns[2].values[0].kind() == model::ValueKind::kNatural);  // hops.ip: JSON number 1
  CHECK(m.columns[4].values[0].as_bool());                             // JSON literal true
  CHECK(!m.columns[4].values[1].as_bool());                            // "False"
  CHECK(m.columns[4].values[2].as_bool());                             // "1"
  CHECK(m.columns[5].values[1].as_real() == 1000.0);                   // "1e3"
  CHECK(m.columns[1].values[2].is_none());
  CHECK(m.when->canonical() == "2030-01-01 12:00:00.019000 ... 2030-01-01 12:00:01.500000");
  const std::string out = json::to_json(m, {.pretty = false});
  CHECK(out.find(
            R"(["2030-01-01 12:00:00.019000","2001:db8:1::1","1","162","True","12.5","eth0"])") !=
        std::string::npos);
  CHECK(
      out.find(
          R"(["2030-01-01 12:00:00.220000","2001:db8:2::1","2","15074","False","1000.0","eth0"])") !=
      std::string::npos);
  CHECK(out.find(R"(["2030-01-01 12:00:00.000000","*","3","*","True","-0.5","*"])") !=
        std::string::npos);
  CHECK(out.find(R"("location.altitude":"408.0")") != std::string::npos);
  CHECK(out.find(R"("destination.ip6":"2001:db8::2")") != std::string::npos);
}

TEST_CASE("vector 29: an unknown element is rejected naming it", "[parsers][vectors]") {
  const std::string text = test::read_file(test::vector_path("29_invalid_unknown_element.json"));
  auto parsed = test::parse(text);
  REQUIRE(!parsed.ok());
  CHECK(parsed.error().message == "Key error: destination.ipv4 not present in registries");
  CHECK(parsed.error().where == "parameters.destination.ipv4");
  CHECK(text.substr(parsed.error().offset, 1) == "\"");
}

TEST_CASE("vector 28: a prefix constraint matches addresses inside it", "[parsers][vectors]") {
  const std::string text = test::read_file(test::vector_path("28_invalid_prefix_constraint.json"));
  auto parsed = test::parse(text);
  REQUIRE(parsed.ok());
  const model::Parameter* p = (*parsed)->message.find_parameter("destination.ip4");
  REQUIRE(p);
  CHECK(p->constraint.kind() == model::ConstraintKind::kPrefix);
  CHECK(p->constraint.canonical() == "198.51.100.0/24");
  CHECK(p->constraint.matches(model::Value::address(*model::parse_address("198.51.100.77"))));
  CHECK(!p->constraint.matches(model::Value::address(*model::parse_address("198.51.101.1"))));
}

TEST_CASE("fulfils relations stated by the vectors README", "[parsers][vectors][fulfills]") {
  const model::MicrosSinceEpoch now = model::make_time(2029, 6, 1, 0, 0, 0, 0);
  auto load = [](const char* f) {
    auto m = test::parse(test::read_file(test::vector_path(f)));
    REQUIRE(m.ok());
    return std::move(m.value());
  };
  auto cap02 = load("02_capability_ping_average_ip4.json");
  auto cap04 = load("04_capability_query_metadata.json");
  auto cap06 = load("06_capability_callback_ri.json");
  for (const char* f :
       {"08_specification_ping_absolute.json", "09_specification_ping_relative_token.json",
        "10_specification_repeated_simple.json", "11_specification_repeated_range.json",
        "12_specification_repeated_cron.json"}) {
    CAPTURE(f);
    CHECK(model::fulfills(load(f)->message, cap02->message, now));
  }
  auto m13 = model::fulfills(load("13_specification_repeated_implicit_inner.json")->message,
                             cap02->message, now);
  CHECK(m13.mismatch == model::Mismatch::kWhen);
  CHECK(model::fulfills(load("14_specification_query_range.json")->message, cap04->message, now));
  CHECK(model::fulfills(load("15_specification_callback_ri.json")->message, cap06->message, now));
  auto poll = load("27_envelope_specification_poll.json");
  REQUIRE(poll->message.contents.size() == 2);
  CHECK(model::fulfills(poll->message.contents[0], cap02->message, now));
  CHECK(model::effective_token(poll->message.contents[1]) == "fb09900115b891e7136b10ec5e4477a4");
}

TEST_CASE("vector 26: sub-result tokens", "[parsers][vectors]") {
  auto env = test::parse(test::read_file(test::vector_path("26_envelope_multijob_results.json")));
  REQUIRE(env.ok());
  const auto& contents = (*env)->message.contents;
  REQUIRE(contents.size() == 2);
  CHECK(*contents[0].token == "5344716760ad20cdb6a539c3cd1cbad4");
  CHECK(*contents[1].token == "78d29f3e9f799c5bb0958f9c72bb3b39");
  CHECK((*env)->message.when->canonical() == "2030-01-01 12:00:00.000000 / 1h");
}

}  // namespace
}  // namespace mplane
