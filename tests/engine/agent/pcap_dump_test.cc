// The tunnel's pcap dump: LINKTYPE_RAW records both ways, read back by `mplane capture -r`
// (the shipped binary) and by the engine's own pcap reader.
#include "engine/agent/pcap_dump.h"

#include <catch2/catch.hpp>

#include "tests/engine/agent/ip_packets.h"
#include "tests/process_support.h"
#include "tests/test_support.h"

namespace mplane::agent {
namespace {

using std::chrono::microseconds;

// The request and its reply, addresses swapped and the type changed (checksums do not matter
// to the reader).
std::vector<std::uint8_t> reply4(std::vector<std::uint8_t> p) {
  std::swap_ranges(p.begin() + 12, p.begin() + 16, p.begin() + 16);
  p[20] = 0;
  return p;
}

TEST_CASE("pcap dump: the file header and one record per packet", "[engine][agent]") {
  test::TempDir dir;
  const std::string path = dir.sub("tunnel.pcap");
  auto dump = PcapDump::create(path);
  REQUIRE(dump);
  const auto packet = test::echo_request4("10.2.0.2", "10.2.0.1", 7);
  REQUIRE(dump->write(packet, loop::WallTime(microseconds(1'795'319'734'250'000))));
  CHECK(dump->packets() == 1);
  REQUIRE(dump->close());
  const std::string bytes = test::read_file(path);
  REQUIRE(bytes.size() == 24 + 16 + packet.size());
  std::uint32_t word = 0;
  std::memcpy(&word, bytes.data(), 4);
  CHECK(word == 0xa1b2c3d4);
  std::memcpy(&word, bytes.data() + 20, 4);
  CHECK(word == PcapDump::kLinktypeRaw);
  std::memcpy(&word, bytes.data() + 24, 4);
  CHECK(word == 1'795'319'734U);
  std::memcpy(&word, bytes.data() + 28, 4);
  CHECK(word == 250'000U);
  CHECK(bytes.substr(40) == std::string(packet.begin(), packet.end()));
}

TEST_CASE("pcap dump: `mplane capture -r` reads it", "[engine][agent]") {
  test::TempDir dir;
  const std::string path = dir.sub("tunnel.pcap");
  {
    auto dump = PcapDump::create(path);
    REQUIRE(dump);
    const auto request4 = test::echo_request4("10.2.0.2", "10.2.0.1", 7);
    const auto request6 = test::echo_request6("bbbb::2", "bbbb::1", 7);
    const loop::WallTime t0(microseconds(1'795'319'734'000'000));
    for (int i = 0; i < 3; ++i) {
      const auto t = t0 + microseconds(i * 1000);
      REQUIRE(dump->write(request4, t));
      REQUIRE(dump->write(reply4(request4), t + microseconds(200)));
      REQUIRE(dump->write(request6, t + microseconds(300)));
      REQUIRE(dump->write(test::udp_datagram("10.2.0.2", "10.2.0.1"), t + microseconds(400)));
      REQUIRE(dump->write(test::udp_datagram("bbbb::1", "bbbb::2"), t + microseconds(500)));
    }
  }  // the destructor flushes
  test::Process capture({"capture", "-r", path, "--format", "csv"}, dir.sub("capture"));
  REQUIRE(capture.wait_for(30'000) == 0);
  // ICMP is counted, not analysed; the UDP flows are reported with their addresses and times.
  CHECK_THAT(capture.err(), Catch::Contains("15 packets (15 IP, 0 not IP, 0 non-first fragments, "
                                            "9 other protocols, 0 malformed), 2 flows"));
  CHECK_THAT(capture.out(), Catch::Contains("udp,10.2.0.2,5683,10.2.0.1,5683,1795319734.000400,"
                                            "1795319734.002400,3,132,0,0,"));
  CHECK_THAT(capture.out(), Catch::Contains("udp,bbbb::1,5683,bbbb::2,5683,1795319734.000500,"
                                            "1795319734.002500,3,192,0,0,"));
}

TEST_CASE("pcap dump: errors are values", "[engine][agent]") {
  const auto denied = PcapDump::create("/nonexistent-dir/x.pcap");
  REQUIRE_FALSE(denied);
  CHECK(denied.error() == "pcap dump /nonexistent-dir/x.pcap: No such file or directory (ENOENT)");
  test::TempDir dir;
  auto dump = PcapDump::create(dir.sub("a.pcap"));
  REQUIRE(dump);
  REQUIRE(dump->close());
  CHECK_FALSE(dump->write(std::vector<std::uint8_t>{0x45}, loop::WallTime{}));
}

}  // namespace
}  // namespace mplane::agent
