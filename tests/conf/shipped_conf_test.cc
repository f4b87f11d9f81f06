// Every file shipped in conf/ loads: registries, and the example messages of the main job.
#include <catch2/catch.hpp>

#include <filesystem>

#include "conf/component_config.h"
#include "conf/supervisor_config.h"
#include "parsers/mplane/message.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

namespace fs = std::filesystem;

TEST_CASE("shipped registries load", "[conf]") {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(test::source_dir() / "conf/registry")) {
    files.push_back(e.path().string());
  }
  CHECK(files.size() == 3);  // core, loopback, engine: update when adding one
  auto regs = conf::load_registries(files);
  if (!regs) FAIL(regs.error());
  CHECK(regs->find("test.output"));
  CHECK(regs->find("test.sequence"));
}

TEST_CASE("shipped example messages are valid", "[conf]") {
  std::size_t count = 0;
  for (const auto& e : fs::recursive_directory_iterator(test::source_dir() / "conf/examples")) {
    if (e.path().extension() != ".json") continue;
    CAPTURE(e.path().string());
    const std::string text = test::read_file(e.path());
    auto m = test::parse(text);
    if (!m) FAIL(m.error().describe(text));
    // `mplane run` inputs may leave single-valued parameters as `*` (filled in when run).
    if (e.path().parent_path().filename() != "run") CHECK(model::validate((*m)->message).ok());
    ++count;
  }
  CHECK(count == 10);  // 8 messages + 2 specifications for `mplane run` (conf/examples/run)
}

TEST_CASE("every shipped configuration file loads", "[conf]") {
  std::size_t count = 0;
  for (const auto& e : fs::directory_iterator(test::source_dir() / "conf")) {
    if (e.path().extension() != ".conf") continue;
    CAPTURE(e.path().string());
    ++count;
    if (e.path().filename().string().starts_with("supervisor")) {  // supervisor_config_test too
      auto cfg = conf::load_supervisor_config(e.path().string());
      if (!cfg) FAIL(cfg.error());
      continue;
    }
    auto cfg = conf::load_component_config(e.path().string());
    if (!cfg) FAIL(cfg.error());
    CHECK(!cfg->services.empty());
  }
  // component.conf, component-ri-style.conf, supervisor.conf: update when adding one
  CHECK(count == 3);
}

TEST_CASE("the component-initiated example configuration loads", "[conf]") {
  auto cfg = conf::load_component_config(
      (test::source_dir() / "conf/examples/component-initiated.conf").string());
  if (!cfg) FAIL(cfg.error());
  CHECK(cfg->workflow == conf::Workflow::kComponentInitiated);
  CHECK(cfg->client_host == "127.0.0.1");
  CHECK(cfg->client_port == 8889);
  CHECK(cfg->registration_path == "/register/capability");
  CHECK(cfg->specification_path == "/show/specification");
  CHECK(cfg->result_path == "/register/result");
  CHECK(cfg->spool.empty());  // the default directory
  CHECK(cfg->spool_max_bytes == 64 * 1024 * 1024);
  CHECK(cfg->poll_interval == 5 * model::kMicrosPerSecond);
  CHECK(!cfg->tls);
  REQUIRE(cfg->services.size() == 1);
  CHECK(cfg->services[0].name == "loopback");
}

TEST_CASE("every built-in capability parses and is valid", "[conf]") {
  std::size_t count = 0;
  for (const auto& e : fs::directory_iterator(test::source_dir() / "conf/capabilities")) {
    CAPTURE(e.path().string());
    const std::string text = test::read_file(e.path());
    auto m = test::parse(text);
    if (!m) FAIL(m.error().describe(text));
    CHECK((*m)->message.kind == model::MessageKind::kCapability);
    CHECK(model::validate((*m)->message).ok());
    CHECK((*m)->message.label.has_value());  // RI peers need labels (PROTOCOL.md §2.8)
    CHECK(!conf::builtin_file("capabilities/" + e.path().filename().string()).empty());
    ++count;
  }
  CHECK(count == 7);
}

}  // namespace
}  // namespace mplane
