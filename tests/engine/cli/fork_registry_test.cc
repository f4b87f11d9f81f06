// The architecture fork's registry (PROTOCOL.md §4.5, tests/data/mplane/fork-registry.json):
// loaded with --registry it extends the built-in core (README "Registries": the definition loaded
// last counts, a retyped element is warned about), so that the fork's tStat proxy messages, which
// name the core registry but use the fork's elements, are read and printed.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "conf/builtin.h"
#include "engine/cli/result_printer.h"
#include "parsers/json/message_reader.h"
#include "parsers/json/result_stream_reader.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

using cli::OutputFormat;

const std::string kCoreUri(model::kCoreRegistryUri);
const std::string kForkUri = "http://ict-mplane.eu/registry/core.json";

std::string fork_registry_path() {
  return (test::data_dir() / "mplane" / "fork-registry.json").string();
}

const model::RegistrySet& fork_registries() {
  static const model::RegistrySet regs = [] {
    auto r = conf::load_registries({fork_registry_path()});
    REQUIRE(r.ok());
    return std::move(r.value());
  }();
  return regs;
}

std::string fork_file(const std::string& name) {
  return test::read_file(test::data_dir() / "mplane" / "fork" / name);
}

Result<std::unique_ptr<json::OwnedMessage>, json::ParseError> parse_with(
    const model::RegistrySet& regs, std::string_view text) {
  json::MessageReader reader(regs);
  return json::parse_owned(reader, text);
}

TEST_CASE("fork registry: extends the core registry, the retyped element reported",
          "[engine][cli][registry]") {
  const model::RegistrySet& regs = fork_registries();
  CHECK(regs.has_uri(kCoreUri));
  CHECK(regs.has_uri(kForkUri));
  const model::Element* ttfp = regs.find("initiator.TTFP.ms");  // the fork's only
  REQUIRE(ttfp != nullptr);
  CHECK(ttfp->prim == model::Prim::kTime);
  CHECK(ttfp->registry_uri == kForkUri);
  // Defined by both with the same primitive: the fork's definition, loaded last.
  REQUIRE(regs.find("source.ip4") != nullptr);
  CHECK(regs.find("source.ip4")->registry_uri == kForkUri);
  CHECK(regs.find("delay.twoway.icmp.us.min") != nullptr);  // core only: still there
  // duration.ms: natural in core and in the fork's first line, time in its second.
  REQUIRE(regs.redefinitions().size() == 1);
  const model::RegistrySet::Redefinition& r = regs.redefinitions()[0];
  CHECK(r.name == "duration.ms");
  CHECK(r.before == model::Prim::kNatural);
  CHECK(r.after == model::Prim::kTime);
  CHECK(r.source == fork_registry_path());
  CHECK(regs.find("duration.ms")->prim == model::Prim::kTime);
  CHECK(conf::redefinition_text(r) ==
        fork_registry_path() + " redefines element duration.ms: natural in " + kForkUri +
            ", now time in " + kForkUri + " for every message (the definition loaded last counts)");
  CHECK(test::registries().redefinitions().empty());  // the built-in ones agree
}

TEST_CASE("fork registry: the tStat proxy's capabilities, core URI and fork elements",
          "[engine][cli][registry]") {
  const std::string text = fork_file("tstat_capabilities_envelope.json");
  auto without = parse_with(test::registries(), text);
  REQUIRE_FALSE(without.ok());  // what a peer with only the core registry says
  CHECK(without.error().message == "Key error: subnet.ip4 not present in registries");
  auto m = parse_with(fork_registries(), text);
  REQUIRE(m.ok());
  const model::Message& envelope = m.value()->message;
  REQUIRE(envelope.contents.size() == 5);
  for (const model::Message& cap : envelope.contents) {
    CHECK(cap.registry == kCoreUri);
    CHECK(cap.label.value_or("").starts_with("tstat-log_tcp_complete-"));
  }
  CHECK(envelope.contents[0].columns.size() == 42);
  CHECK(envelope.contents[2].columns.size() == 46);
}

// The tStat result: every primitive of the fork's dummy values, duration.ms as a time.
TEST_CASE("fork registry: a tStat result printed as a table, CSV and JSON",
          "[engine][cli][registry]") {
  const std::string text = fork_file("tstat_result_core.json");
  auto m = parse_with(fork_registries(), text);
  REQUIRE(m.ok());
  std::ostringstream csv;
  cli::print_result(csv, m.value()->message, OutputFormat::kCsv);
  const std::string out = csv.str();
  const std::string header = out.substr(0, out.find('\n'));
  CHECK(header.starts_with("initiator.ip4,initiator.port,packets.forward,"));
  CHECK(header.find(",start,end,duration.ms,initiator.TTFP.ms,") != std::string::npos);
  CHECK(out.find("192.168.3.197,0,0,") != std::string::npos);            // row 0: address, naturals
  CHECK(out.find(",2014-09-10 12:00:01.500000,") != std::string::npos);  // row 1: times
  std::ostringstream table;
  cli::print_result(table, m.value()->message, OutputFormat::kTable);
  CHECK(table.str().find("tstat-log_tcp_complete-core") != std::string::npos);
  CHECK(table.str().find("responder.TTFA.ms") != std::string::npos);
  for (OutputFormat f : {OutputFormat::kTable, OutputFormat::kCsv, OutputFormat::kJson}) {
    INFO("format " << static_cast<int>(f));
    std::ostringstream whole;
    cli::print_result(whole, m.value()->message, f);
    std::ostringstream streamed;
    auto printer = cli::make_result_printer(f, streamed);
    json::ResultStreamReader reader(fork_registries(), *printer);
    REQUIRE(reader.feed(text).ok());
    REQUIRE(reader.finish().ok());
    CHECK(printer->printed());
    CHECK(streamed.str() == whole.str());
  }
}

TEST_CASE("registries: 'include', the 2014 RI's spelling of 'includes'",
          "[engine][cli][registry]") {
  model::RegistrySet regs;
  REQUIRE(regs.add_document(conf::core_registry_json(), "<core>").ok());
  const auto st = regs.add_document(
      R"({"registry-format": "mplane-0", "registry-uri": "urn:x", "registry-revision": 0,
          "include": ["urn:missing"], "elements": []})",
      "x.json");
  REQUIRE_FALSE(st.ok());  // the include is read, so its absence is noticed
  CHECK(st.error() ==
        "x.json: includes unknown registry urn:missing (load its file first with --registry "
        "FILE)");
}

}  // namespace
}  // namespace mplane
