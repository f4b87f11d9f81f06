// MappedPcapng against libpcap, the reference reader: the shared pcapng captures and built
// files (both byte orders, several sections, nanosecond and binary timestamp resolutions,
// simple and obsolete packet blocks, blocks to skip) give the same frames; a timestamp offset;
// broken files end with an error naming the block; timestamps out of range are refused and
// counted.
#include <catch2/catch.hpp>

#include <pcap/pcap.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "capture/analyzer.h"
#include "capture/source/mapped_pcapng.h"
#include "capture/source/pcap_source.h"
#include "capture/split_analysis.h"
#include "tests/capture/pcapng_builder.h"
#include "tests/test_support.h"

namespace mplane::capture {
namespace {

namespace fs = std::filesystem;

struct Seen {
  std::int64_t ts_us;
  std::vector<std::uint8_t> bytes;
  std::uint32_t wire_len;
  bool operator==(const Seen&) const = default;
};

std::vector<Seen> by_libpcap(const std::string& path) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, err);
  if (!p) FAIL(err);
  std::vector<Seen> out;
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(p, &h, &data) == 1) {
    out.push_back({std::int64_t{h->ts.tv_sec} * 1'000'000 + h->ts.tv_usec,
                   std::vector<std::uint8_t>(data, data + h->caplen), std::max(h->len, h->caplen)});
  }
  pcap_close(p);
  return out;
}

struct Mapped {
  std::vector<Seen> frames;
  std::string error;  // of opening or reading
  int link = -1;
};

Mapped by_map(const std::string& path) {
  Mapped out;
  auto map = FileMap::open(path);
  REQUIRE(map);
  auto file = MappedPcapng::from(*map);
  if (!file) {
    out.error = file.error();
    return out;
  }
  REQUIRE(*file);
  out.link = (*file)->link_type();
  FrameFile::Frame f;
  while ((*file)->next(f)) {
    out.frames.push_back(
        {f.ts_us, std::vector<std::uint8_t>(f.bytes.begin(), f.bytes.end()), f.wire_len});
  }
  out.error = (*file)->error();
  return out;
}

TEST_CASE("pcapng: the shared captures give libpcap's frames", "[capture][pcapng]") {
  for (const char* name : {"ndpi__alexa-app.pcapng", "ndpi__rtsp.pcap"}) {
    CAPTURE(name);
    const std::string path = (test::pcaps_dir() / name).string();
    const Mapped m = by_map(path);
    CHECK(m.error.empty());
    const std::vector<Seen> reference = by_libpcap(path);
    REQUIRE(reference.size() > 100);
    CHECK(m.frames == reference);
  }
}

TEST_CASE("pcapng: built files of either byte order give libpcap's frames", "[capture][pcapng]") {
  for (bool big : {false, true}) {
    CAPTURE(big);
    test::PcapngBuilder b(big);
    b.section()
        .interface(1)     // microseconds
        .interface(1, 9)  // nanoseconds
        .other(5)         // interface statistics: skipped
        .enhanced(0, 1'700'000'000'123'456ULL, "first frame")
        .enhanced(1, 1'700'000'001'987'654'321ULL, "nanosecond frame", 1500)
        .simple("simple block, no time")
        .obsolete(0, 1'700'000'002'000'001ULL, "obsolete packet block")
        .section()                // a new section describes its interfaces anew
        .interface(1, 0x80 | 10)  // 1/1024 s
        .enhanced(0, 1'700'000'003ULL * 1024 + 512, "binary resolution");
    const test::TempFile file(b.bytes(), ".pcapng");
    const Mapped m = by_map(file.path);
    CHECK(m.error == "");
    CHECK(m.link == 1);
    const std::vector<Seen> reference = by_libpcap(file.path);
    REQUIRE(reference.size() == 5);
    REQUIRE(m.frames.size() == 5);
    CHECK(m.frames == reference);
    CHECK(m.frames[1].ts_us == 1'700'000'001'987'654);  // truncated to microseconds
    CHECK(m.frames[1].wire_len == 1500);
    CHECK(m.frames[4].ts_us == 1'700'000'003'500'000);
  }
}

TEST_CASE("pcapng: an interface's timestamp offset is added", "[capture][pcapng]") {
  for (bool big : {false, true}) {
    test::PcapngBuilder b(big);
    b.section().interface(1, -1, 1'000'000'000).enhanced(0, 700'000'000'000'001ULL, "late");
    const test::TempFile file(b.bytes(), ".pcapng");
    const Mapped m = by_map(file.path);
    REQUIRE(m.frames.size() == 1);
    CHECK(m.frames[0].ts_us == 1'700'000'000'000'001);
  }
}

TEST_CASE("pcapng: broken files end with an error naming the block", "[capture][pcapng]") {
  const std::string frame = "0123456789abcdef";
  auto good = [&] {
    return test::PcapngBuilder(false).section().interface(1).enhanced(0, 1, frame);
  };
  struct Case {
    std::string bytes, error;
    std::size_t frames;
  };
  std::string lengths_differ = good().bytes();
  lengths_differ[lengths_differ.size() - 4] ^= 4;  // the trailing copy of the last length
  const Case cases[] = {
      {test::PcapngBuilder(false).section().enhanced(0, 1, frame).bytes(),
       "before any interface description", 0},
      {test::PcapngBuilder(false).section().other(5).bytes(), "no interface description block", 0},
      {lengths_differ, "two lengths differ", 0},
      {good().raw(std::string("\x06\x00\x00\x00\x40\x00\x00\x00\x00\x00\x00\x00", 12)).bytes(),
       "bad length", 1},
      {good().enhanced(3, 2, frame).bytes(), "names interface 3", 1},
      {good().interface(113).enhanced(1, 2, frame).bytes(), "link type 113", 1},
  };
  for (const Case& c : cases) {
    CAPTURE(c.error);
    const test::TempFile file(c.bytes);
    const Mapped m = by_map(file.path);
    CHECK_THAT(m.error, Catch::Contains(c.error) && Catch::Contains(file.path));
    CHECK(m.frames.size() == c.frames);
  }
}

TEST_CASE("pcapng: files that are not pcapng are left to others", "[capture][pcapng]") {
  const test::TempFile file(std::string("\xd4\xc3\xb2\xa1", 4) + std::string(40, '\0'));
  auto map = FileMap::open(file.path);
  REQUIRE(map);
  auto m = MappedPcapng::from(*map);
  REQUIRE(m);
  CHECK_FALSE(*m);
  CHECK(map->bytes().size() == 44);  // untouched
}

// Issue 10, item 20: a pcapng timestamp is any 64-bit count of units (plus a 64-bit offset), and
// seconds x 10^6 overflowed int64 (undefined behaviour, found by capture_file_fuzz).
TEST_CASE("pcapng: timestamps outside the years 1 to 9999 are kBadTimestamp", "[capture][pcapng]") {
  constexpr std::int64_t kLastSecond = 253'402'300'799;   // 9999-12-31 23:59:59
  constexpr std::int64_t kFirstSecond = -62'135'596'800;  // 0001-01-01 00:00:00
  for (bool big : {false, true}) {
    CAPTURE(big);
    test::PcapngBuilder b(big);
    b.section()
        .interface(1)                             // 0: microseconds
        .interface(1, 0)                          // 1: seconds
        .interface(1, 0, INT64_MAX)               // 2: seconds, the largest offset
        .interface(1, 0, kFirstSecond)            // 3: seconds from the year 1
        .interface(1, 0, kFirstSecond - 1)        // 4: from a second before it
        .enhanced(0, UINT64_MAX, "the fuzzer's")  // 1.8e13 s: x 10^6 overflowed
        .enhanced(1, kLastSecond, "the last second")
        .enhanced(1, kLastSecond + 1, "the year 10000")
        .enhanced(2, 1, "offset + seconds overflowed")
        .enhanced(3, 0, "the first second")
        .enhanced(4, 0, "the year 0")
        .enhanced(0, 1'700'000'000'000'000ULL, "after them");
    const test::TempFile file(b.bytes(), ".pcapng");
    const Mapped m = by_map(file.path);
    CHECK(m.error == "");
    std::vector<std::int64_t> stamps;
    for (const Seen& f : m.frames) stamps.push_back(f.ts_us);
    CHECK(stamps == std::vector<std::int64_t>{kBadTimestamp, kMaxTimestamp - 999'999, kBadTimestamp,
                                              kBadTimestamp, kMinTimestamp, kBadTimestamp,
                                              1'700'000'000'000'000});
  }
}

TEST_CASE("checked_timestamp: libpcap's seconds of any size", "[capture][source]") {
  CHECK(checked_timestamp(1'700'000'000, 5) == 1'700'000'000'000'005);
  CHECK(checked_timestamp(INT64_MAX, 0) == kBadTimestamp);
  CHECK(checked_timestamp(INT64_MIN, 0) == kBadTimestamp);
  CHECK(checked_timestamp(9'223'372'036'855, 0) == kBadTimestamp);  // x 10^6 > 2^63
  CHECK(checked_timestamp(253'402'300'799, 999'999) == kMaxTimestamp);
  CHECK(checked_timestamp(253'402'300'799, 1'000'000) == kBadTimestamp);
  CHECK(checked_timestamp(-62'135'596'800, 0) == kMinTimestamp);
  CHECK(checked_timestamp(-62'135'596'800, -1) == kBadTimestamp);
}

// The fuzzer's input, kept as a seed: a frame stamped 2^64-1 microseconds, then a good one.
TEST_CASE("a frame with an out-of-range timestamp is counted as malformed, and nothing more",
          "[capture][pcapng]") {
  const std::string seed =
      test::read_file(test::source_dir() /
                      "tests/fuzz/corpus/capture_file/issue10-pcapng-timestamp-overflow.pcapng");
  REQUIRE(seed.size() == 204);
  const test::TempFile file(seed, ".pcapng");
  std::vector<FlowRecord> flows;
  const auto check = [&](Analyzer& a) {
    a.finish();
    CHECK(a.counters().packets == 2);
    CHECK(a.counters().malformed[static_cast<std::size_t>(Malformed::kBadTimestamp)] == 1);
    CHECK(a.counters().malformed_total() == 1);
    CHECK(a.counters().ip_packets == 1);
    REQUIRE(flows.size() == 1);  // the good frame's, open at its own time: no clock jump
    CHECK(flows[0].first == 1'700'000'000'000'000);
    CHECK(flows[0].last == flows[0].first);
    CHECK(flows[0].c2s.packets == 1);
    CHECK(flows[0].end == EndState::kOpen);
    flows.clear();
  };
  const auto sink = [&](const FlowRecord& r) { flows.push_back(r); };
  SECTION("read in sequence") {
    SourceOptions o;
    o.file = file.path;
    auto src = PcapSource::open(o);
    REQUIRE(src);
    Analyzer a(LinkType::kEthernet, FlowTableOptions{}, sink);
    const PcapSource::PacketFn fn = [&](std::int64_t ts, auto frame, std::uint32_t len) {
      a.packet(ts, frame, len);
    };
    while (!(*src)->at_end()) REQUIRE((*src)->read(16, fn));
    check(a);
  }
  SECTION("split between shards in 64-byte chunks") {
    auto map = FileMap::open(file.path);
    REQUIRE(map);
    auto rf = MappedPcapng::from(*map);
    REQUIRE(rf);
    REQUIRE(*rf);
    Analyzer a(LinkType::kEthernet, FlowTableOptions{}, sink);
    SplitAnalysis split(std::move(rf.value()), nullptr, {&a}, 64);
    const volatile std::sig_atomic_t never = 0;
    REQUIRE(split.run(0, never));
    check(a);
  }
}

}  // namespace
}  // namespace mplane::capture
