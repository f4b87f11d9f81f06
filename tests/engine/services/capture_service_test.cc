// The capture capabilities on a scheduler: a capture file named by a client gives one row per
// connection with the capture's quality as metadata; names that leave the directory are
// refused; a live capture on lo (root only) sees a connection made during its scope, and the
// query capability finds it afterwards.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/sched/scheduler.h"
#include "engine/services/capture_service.h"
#include "tests/capture/udp_flows_pcap.h"
#include "tests/net_support.h"
#include "tests/skip_support.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

using model::MessageKind;

std::vector<sched::ServicePtr> capture_services(
    const std::string& interface, const std::string& files = test::pcaps_dir().string()) {
  services::CaptureConfig cfg;
  cfg.files = files;
  cfg.interface = interface;
  auto s = services::make_capture_services(cfg, test::registries());
  if (!s) FAIL(s.error());
  return std::move(s.value());
}

// The capability's specification with these parameters and `when`.
std::unique_ptr<json::OwnedMessage> spec_for(const sched::Scheduler& s, std::string_view label,
                                             const std::string& when,
                                             const std::string& parameters) {
  for (const auto& svc : s.services()) {
    const model::Message& cap = svc->capability();
    if (cap.label != label) continue;
    std::string j = R"({"specification": ")" + std::string(cap.verb) +
                    R"(", "version": 1, "registry": "http://mplane-engine.org/registry/engine",
      "when": ")" + when +
                    R"(", "parameters": {)" + parameters + R"(}, "results": [)";
    for (std::size_t i = 0; i < cap.columns.size(); ++i) {
      j += (i ? ",\"" : "\"") + cap.columns[i].element->name + "\"";
    }
    auto m = test::parse(j + "]}");
    if (!m) FAIL(m.error().describe(j));
    return std::move(m.value());
  }
  FAIL("no capability " << label);
  return nullptr;
}

model::MicrosSinceEpoch wall_now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const model::Column* column(const model::Message& m, std::string_view name) {
  for (const model::Column& c : m.columns) {
    if (c.element->name == name) return &c;
  }
  return nullptr;
}

std::string metadata(const model::Message& m, std::string_view name) {
  for (const model::Metadatum& d : m.metadata) {
    if (d.element->name == name) {
      return d.value.kind() == model::ValueKind::kString ? std::string(d.value.as_string())
                                                         : std::to_string(d.value.as_natural());
    }
  }
  return "";
}

sched::Reply run_to_end(sched::Scheduler& s, const sched::Reply& first) {
  const std::string token(first->token.value_or(""));
  if (first->kind != MessageKind::kReceipt) return first;
  for (int i = 0; i < 10000 && !s.ready(token); ++i) s.advance(wall_now());
  return s.redeem(token, wall_now());
}

TEST_CASE("capture file capability: one row per connection, quality as metadata",
          "[engine][services][capture]") {
  sched::Scheduler s(capture_services(""), {}, nullptr);
  auto spec =
      spec_for(s, "capture-flows-file", "now", R"("flow.capture.file": "zeek__methods.pcap")");
  const sched::Reply r = run_to_end(s, s.submit(spec->message, "", wall_now()));
  REQUIRE(r->kind == MessageKind::kResult);
  CHECK(r->row_count == 49);
  const model::Column* state = column(*r, "flow.end.state");
  const model::Column* port = column(*r, "destination.port");
  REQUIRE(state);
  REQUIRE(port);
  for (std::size_t i = 0; i < r->row_count; ++i) {
    CHECK(state->values[i].as_string() == "complete");
    CHECK(port->values[i].as_natural() == 80);
  }
  CHECK(metadata(*r, "flow.capture.packets") == "655");
  CHECK(metadata(*r, "flow.capture.malformed") == "0");
  CHECK(metadata(*r, "flow.capture.source") == "zeek__methods.pcap");
  REQUIRE(r->when.has_value());
  CHECK(r->when->canonical().starts_with("2012-12-01"));  // the trace's own time span
}

// A file of more frames than one loop turn reads (several turns): the singleton scope `now`
// asks for one whole analysis; its end, which comes at once, must not cut the file short.
TEST_CASE("capture file capability: a singleton scope reads the whole file",
          "[engine][services][capture]") {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("mplane_capture_dir_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  constexpr std::uint32_t kFrames = 200'000, kFlows = 1000;
  std::ofstream(dir / "big.pcap", std::ios::binary) << test::udp_flows_pcap(kFrames, kFlows);
  sched::Scheduler s(capture_services("", dir.string()), {}, nullptr);
  auto spec = spec_for(s, "capture-flows-file", "now", R"("flow.capture.file": "big.pcap")");
  const sched::Reply r = run_to_end(s, s.submit(spec->message, "", wall_now()));
  std::filesystem::remove_all(dir);
  REQUIRE(r->kind == MessageKind::kResult);
  CHECK(metadata(*r, "flow.capture.packets") == std::to_string(kFrames));
  CHECK(r->row_count == kFlows);
}

TEST_CASE("capture file capability refuses names outside its directory",
          "[engine][services][capture]") {
  sched::Scheduler s(capture_services(""), {}, nullptr);
  for (const char* name : {"../etc/passwd", "/etc/passwd", ".hidden", "missing.pcap"}) {
    CAPTURE(name);
    auto spec = spec_for(s, "capture-flows-file", "now",
                         std::string(R"("flow.capture.file": ")") + name + "\"");
    const sched::Reply r = run_to_end(s, s.submit(spec->message, "", wall_now()));
    CHECK(r->kind == MessageKind::kException);
  }
}

std::uint16_t connect_once() {
  std::uint16_t port = 0;
  const int l = test::loopback_socket(port, 1);
  const int c = test::connect_loopback(port);
  const int s = accept(l, nullptr, nullptr);
  REQUIRE(::send(c, "hello", 5, MSG_NOSIGNAL) == 5);
  char buf[5];
  REQUIRE(::recv(s, buf, 5, MSG_WAITALL) == 5);
  ::close(c);
  ::close(s);
  ::close(l);
  return port;
}

TEST_CASE("live capture capability on lo, then the query capability",
          "[engine][services][capture][live][root]") {
  MPLANE_REQUIRE_ROOT("live capture opens a raw socket (CAP_NET_RAW)");
  sched::Scheduler s(capture_services("lo"), {}, nullptr);
  const model::MicrosSinceEpoch t0 = wall_now();
  auto live = spec_for(s, "capture-flows-lo", "now ... future", "");
  const sched::Reply receipt = s.submit(live->message, "", t0);
  REQUIRE(receipt->kind == MessageKind::kReceipt);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::uint16_t port = connect_once();
  for (int i = 0; i < 10; ++i) {  // the capture polls on scheduler timers
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    s.advance(wall_now());
  }
  (void)s.interrupt(*receipt->token, wall_now());  // flushes the open flows
  const sched::Reply r = s.redeem(*receipt->token, wall_now());
  REQUIRE(r->kind == MessageKind::kResult);
  const model::Column* server = column(*r, "destination.port");
  const model::Column* payload = column(*r, "flow.c2s.payload.bytes");
  const model::Column* unique = column(*r, "flow.c2s.unique.bytes");
  REQUIRE(server);
  REQUIRE(payload);
  REQUIRE(unique);
  bool found = false;
  for (std::size_t i = 0; i < r->row_count; ++i) {
    if (server->values[i].as_natural() != port) continue;
    found = true;
    // Exact under load: a retransmission on a busy loopback adds payload, not unique bytes.
    CHECK(unique->values[i].as_natural() == 5);
    CHECK(payload->values[i].as_natural() >= 5);
  }
  CHECK(found);

  auto query = spec_for(
      s, "capture-flows-query", model::format_time(model::TimePoint::absolute(t0)) + " ... now",
      R"("flow.query.host": "127.0.0.1", "flow.query.port": ")" + std::to_string(port) + "\"");
  const sched::Reply q = run_to_end(s, s.submit(query->message, "", wall_now()));
  REQUIRE(q->kind == MessageKind::kResult);
  CHECK(q->row_count == 1);
  // The capability's own scope, `past ... now`, as the specification's: every stored flow.
  auto everything =
      spec_for(s, "capture-flows-query", "past ... now",
               R"("flow.query.host": "any", "flow.query.port": ")" + std::to_string(port) + "\"");
  const sched::Reply all = run_to_end(s, s.submit(everything->message, "", wall_now()));
  REQUIRE(all->kind == MessageKind::kResult);
  CHECK(all->row_count == 1);
}

}  // namespace
}  // namespace mplane
