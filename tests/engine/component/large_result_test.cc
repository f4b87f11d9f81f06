// A 1,000,000-row result over real TLS from `mplane component` (the shipped binary, in its own
// process): received intact, streamed as one chunked response, while the component's peak
// memory stays far below the size of the result. A later redemption says where the rows went.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "capture/output/flow_columns.h"
#include "capture/output/flow_elements.h"
#include "parsers/json/message_reader.h"
#include "tests/capture/udp_flows_pcap.h"
#include "tests/engine/component/tls_domain.h"
#include "tests/net_support.h"
#include "tests/process_support.h"
#include "tests/test_support.h"
#include "transport/http/http_client.h"

namespace mplane {
namespace {

std::string counter_spec(std::size_t rows, const std::string& input) {
  return R"({"specification": "measure", "version": 1, "when": "now",
    "registry": "http://mplane-engine.org/registry/engine",
    "parameters": {"test.count": ")" +
         std::to_string(rows) + R"(", "test.input": ")" + input +
         R"("}, "results": ["test.sequence", "test.output"]})";
}

TEST_CASE("component: a million-row result streams intact over TLS in bounded memory",
          "[engine][component][tls][net][stream]") {
  test::TlsDomain domain("Large");
  const std::uint16_t port = test::free_loopback_port();
  test::Process component({"component", "--listen", "127.0.0.1:" + std::to_string(port), "--ca",
                           domain.ca(), "--cert", domain.component.cert_path, "--key",
                           domain.component.key_path, "--service", "counter", "--shards", "2"});
  for (int i = 0; i < 200 && !test::accepts(port); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  REQUIRE(test::accepts(port));
  const std::size_t baseline = component.peak_rss_kib();

  auto tls = test::tls_context(transport::TlsRole::kClient, domain.ca(), &domain.client);
  transport::HttpClient client("127.0.0.1", port, tls.get());
  transport::HttpLimits limits;
  limits.max_body_bytes = std::size_t{1} << 30;
  client.set_limits(limits);
  const std::size_t rows = 1'000'000;
  const std::string input(64, 'x');  // ~78 bytes a row: a result of ~75 MiB
  auto r =
      client.request("POST", "/", "application/x-mplane+json", counter_spec(rows, input), 60'000);
  REQUIRE(r.ok());
  REQUIRE(r->status == 200);
  const std::string* coding = r->header("Transfer-Encoding");
  REQUIRE(coding);
  CHECK(*coding == "chunked");
  const std::size_t result_kib = r->body.size() / 1024;
  CHECK(result_kib > 70 * 1024);

  auto parsed = test::parse(r->body);
  if (!parsed) FAIL(parsed.error().describe(r->body.substr(0, 200)));
  const model::Message& result = (*parsed)->message;
  REQUIRE(result.kind == model::MessageKind::kResult);
  REQUIRE(result.row_count == rows);
  REQUIRE(result.columns.size() == 2);
  std::size_t out_of_place = 0;
  for (std::size_t i = 0; i < rows; ++i) {
    if (result.columns[0].values[i].as_natural() != i ||
        result.columns[1].values[i].as_string() != input) {
      ++out_of_place;
    }
  }
  CHECK(out_of_place == 0);
  REQUIRE(result.when.has_value());
  CHECK(result.when->is_definite());

  // Bounded: the component never held the result (~75 MiB). Measured growth of its peak RSS:
  // ~5 MiB (release), ~25 MiB under AddressSanitizer; holding the result would take over 75.
  const std::size_t peak = component.peak_rss_kib();
  INFO("component peak RSS " << baseline << " KiB at start, " << peak << " KiB after a result of "
                             << result_kib << " KiB");
  CHECK(baseline > 0);
  CHECK(peak - baseline < result_kib / 2);

  // The rows were not kept: redeeming the token says so.
  const std::string redemption = R"({"redemption": "measure", "version": 1, "token": ")" +
                                 std::string(*result.token) + R"(",
    "registry": "http://mplane-engine.org/registry/engine", "when": "now",
    "parameters": {"test.count": "1000000", "test.input": ")" +
                                 input + R"("}, "results": ["test.sequence", "test.output"]})";
  auto later = client.request("POST", "/", "application/x-mplane+json", redemption, 10'000);
  REQUIRE(later.ok());
  CHECK_THAT(later->body, Catch::Contains("streamed to the client"));
  CHECK(component.stop() == 0);
}

// A capture file's result streamed to the client: the capture's quality, known only when the
// file is done, still arrives (after the rows) with the whole file's counts.
TEST_CASE("component: a streamed capture result carries the final capture quality",
          "[engine][component][net][stream][capture]") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("mplane_stream_capture_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  constexpr std::uint32_t kFrames = 200'000, kFlows = 1000;
  std::ofstream(dir / "flows.pcap", std::ios::binary) << test::udp_flows_pcap(kFrames, kFlows);
  const std::string config = (dir / "component.conf").string();
  std::ofstream(config) << "[engine]\nstream-after-rows = 100\n[service_capture]\nfiles = "
                        << dir.string() << "\n";
  const std::uint16_t port = test::free_loopback_port();
  test::Process component({"component", "--config", config, "--listen",
                           "127.0.0.1:" + std::to_string(port), "--insecure"});
  for (int i = 0; i < 200 && !test::accepts(port); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  REQUIRE(test::accepts(port));
  std::string spec = R"({"specification": "measure", "version": 1, "when": "now",
    "registry": "http://mplane-engine.org/registry/engine",
    "parameters": {"flow.capture.file": "flows.pcap"}, "results": [)";
  for (const capture::FlowColumn& c : capture::flow_columns()) {
    spec += (spec.back() == '[' ? "\"" : ",\"") + capture::flow_element(c.name).name + "\"";
  }
  spec += "]}";
  transport::HttpClient client("127.0.0.1", port);
  auto r = client.request("POST", "/", "application/x-mplane+json", spec, 30'000);
  std::filesystem::remove_all(dir);
  REQUIRE(r.ok());
  REQUIRE(r->status == 200);
  const std::string* coding = r->header("Transfer-Encoding");
  REQUIRE(coding);
  CHECK(*coding == "chunked");
  auto parsed = test::parse(r->body);
  if (!parsed) FAIL(parsed.error().describe(r->body.substr(0, 200)));
  const model::Message& result = (*parsed)->message;
  REQUIRE(result.kind == model::MessageKind::kResult);
  CHECK(result.row_count == kFlows);
  bool packets = false;
  for (const model::Metadatum& m : result.metadata) {
    if (m.element->name != "flow.capture.packets") continue;
    packets = true;
    CHECK(model::format_value(m.value) == std::to_string(kFrames));
  }
  CHECK(packets);
  CHECK(component.stop() == 0);
}

}  // namespace
}  // namespace mplane
