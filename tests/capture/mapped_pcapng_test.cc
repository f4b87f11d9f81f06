// MappedPcapng against libpcap, the reference reader: the shared pcapng captures and built
// files (both byte orders, several sections, nanosecond and binary timestamp resolutions,
// simple and obsolete packet blocks, blocks to skip) give the same frames; a timestamp offset;
// broken files end with an error naming the block.
#include <catch2/catch.hpp>

#include <pcap/pcap.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "capture/source/mapped_pcapng.h"
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

}  // namespace
}  // namespace mplane::capture
