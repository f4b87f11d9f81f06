// PcapSource on files: classic pcap through the memory map (both byte orders, micro- and
// nanosecond stamps, BPF filter, a truncated last record reported with what came before it
// delivered), pcapng through libpcap, and clear errors for what cannot be read.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "capture/source/pcap_source.h"
#include "tests/test_support.h"

namespace mplane::capture {
namespace {

namespace fs = std::filesystem;

// An Ethernet/IPv4/TCP frame to `dport` (no payload).
std::vector<std::uint8_t> frame(std::uint16_t dport) {
  std::vector<std::uint8_t> f(54, 0);
  f[12] = 0x08;
  f[14] = 0x45;
  f[17] = 40;  // total length
  f[22] = 64;
  f[23] = 6;
  f[26] = 10, f[29] = 1, f[30] = 10, f[33] = 2;
  f[36] = static_cast<std::uint8_t>(dport >> 8);
  f[37] = static_cast<std::uint8_t>(dport);
  f[46] = 0x50;
  f[47] = 0x02;  // SYN
  return f;
}

void put32(std::string& out, std::uint32_t v, bool swapped) {
  if (swapped) v = __builtin_bswap32(v);
  out.append(reinterpret_cast<const char*>(&v), 4);
}

// A classic pcap file of `frames`, stamped 1000.000001, 1001.000002, …
std::string pcap_file(const std::vector<std::vector<std::uint8_t>>& frames, bool swapped,
                      bool nanoseconds) {
  std::string out;
  put32(out, nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, swapped);
  const std::uint16_t version[2] = {2, 4};
  for (std::uint16_t v : version) {
    const std::uint16_t w = swapped ? static_cast<std::uint16_t>(v << 8 | v >> 8) : v;
    out.append(reinterpret_cast<const char*>(&w), 2);
  }
  put32(out, 0, swapped);
  put32(out, 0, swapped);
  put32(out, 65535, swapped);
  put32(out, 1, swapped);  // Ethernet
  for (std::size_t i = 0; i < frames.size(); ++i) {
    put32(out, static_cast<std::uint32_t>(1000 + i), swapped);
    put32(out, static_cast<std::uint32_t>((i + 1) * (nanoseconds ? 1000 : 1)), swapped);
    put32(out, static_cast<std::uint32_t>(frames[i].size()), swapped);
    put32(out, static_cast<std::uint32_t>(frames[i].size()), swapped);
    out.append(reinterpret_cast<const char*>(frames[i].data()), frames[i].size());
  }
  return out;
}

struct Read {
  std::vector<std::int64_t> stamps;
  std::string error;
};

Read read_all(const std::string& path, const std::string& filter = "") {
  SourceOptions o;
  o.file = path;
  o.filter = filter;
  auto src = PcapSource::open(o);
  if (!src) return {{}, src.error()};
  Read r;
  const PcapSource::PacketFn fn = [&](std::int64_t ts, auto, std::uint32_t) {
    r.stamps.push_back(ts);
  };
  while (!(*src)->at_end()) {
    auto n = (*src)->read(2, fn);
    if (!n) {
      r.error = n.error();
      break;
    }
  }
  return r;
}

TEST_CASE("pcap source: classic files in every byte order and stamp precision",
          "[capture][source]") {
  const std::vector<std::vector<std::uint8_t>> frames = {frame(80), frame(81), frame(80)};
  for (bool swapped : {false, true}) {
    for (bool nano : {false, true}) {
      CAPTURE(swapped, nano);
      test::TempFile f(pcap_file(frames, swapped, nano));
      const Read r = read_all(f.path);
      CHECK(r.error.empty());
      CHECK(r.stamps == std::vector<std::int64_t>{1000'000'001, 1001'000'002, 1002'000'003});
    }
  }
}

TEST_CASE("pcap source: BPF filter on a mapped file", "[capture][source]") {
  test::TempFile f(pcap_file({frame(80), frame(81), frame(80)}, false, false));
  CHECK(read_all(f.path, "tcp dst port 81").stamps.size() == 1);
  CHECK(read_all(f.path, "tcp dst port 80").stamps.size() == 2);
  CHECK_THAT(read_all(f.path, "tcp port nonsense").error, Catch::Contains("bad filter"));
}

TEST_CASE("pcap source: a truncated last record is an error after the frames before it",
          "[capture][source]") {
  std::string content = pcap_file({frame(80), frame(81)}, false, false);
  content.resize(content.size() - 10);
  test::TempFile f(content);
  const Read r = read_all(f.path);
  CHECK(r.stamps.size() == 1);
  CHECK_THAT(r.error, Catch::Contains("runs past the end of the file"));
}

TEST_CASE("pcap source: pcapng goes through libpcap, unreadable files are named",
          "[capture][source]") {
  const std::string rtsp = (test::pcaps_dir() / "ndpi__rtsp.pcap").string();
  if (fs::exists(rtsp)) CHECK(read_all(rtsp).stamps.size() == 568);  // pcapng despite its name
  CHECK_THAT(read_all("/nonexistent.pcap").error, Catch::Contains("/nonexistent.pcap"));
  test::TempFile junk("this is not a capture file at all");
  CHECK_FALSE(read_all(junk.path).error.empty());
}

}  // namespace
}  // namespace mplane::capture
