// SplitAnalysis: N shards sharing one file give exactly the records and counters of one
// analyser reading it alone: over every shared capture (pcap and pcapng), with chunks from 64 bytes
// (a chunk boundary inside nearly every record) to 1 MiB, and with a BPF filter; a chunk whose
// first record is guessed wrong (a payload made of pcap records) is walked again, not lost; a
// broken last record ends every shard with the file's error after the frames before it.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "capture/output/flow_columns.h"
#include "capture/source/pcap_source.h"
#include "capture/split_analysis.h"
#include "tests/capture/pcapng_builder.h"
#include "tests/test_support.h"

namespace mplane::capture {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  std::vector<std::string> rows;  // CSV rows, sorted
  CaptureCounters counters;
  std::uint64_t reused = 0, walked = 0;
  std::string error;
};

void add_row(std::vector<std::string>& rows, const FlowRecord& r) {
  std::string line;
  append_csv_row(line, r);
  rows.push_back(line);
}

Outcome alone(const std::string& path, const std::string& filter = "") {
  SourceOptions o;
  o.file = path;
  o.filter = filter;
  auto src = PcapSource::open(o);
  REQUIRE(src);
  Outcome out;
  Analyzer a((*src)->link_type(), {}, [&](const FlowRecord& r) { add_row(out.rows, r); });
  const PcapSource::PacketFn fn = [&](std::int64_t ts, auto frame, std::uint32_t len) {
    a.packet(ts, frame, len);
  };
  while (!(*src)->at_end()) {
    auto n = (*src)->read(1024, fn);
    if (!n) {
      out.error = n.error();
      break;
    }
  }
  a.finish();
  std::sort(out.rows.begin(), out.rows.end());
  out.counters = a.counters();
  out.reused = a.table().stats().tcp_reused;
  return out;
}

Outcome split(const std::string& path, std::size_t shards, std::size_t chunk_bytes,
              const std::string& filter = "") {
  SourceOptions o;
  o.file = path;
  o.filter = filter;
  auto mapped = open_mapped_source(o);
  REQUIRE(mapped);
  REQUIRE(mapped->file);
  Outcome out;
  std::vector<std::vector<std::string>> rows(shards);
  std::vector<std::unique_ptr<Analyzer>> analyzers;
  std::vector<Analyzer*> parts;
  for (std::size_t i = 0; i < shards; ++i) {
    analyzers.push_back(std::make_unique<Analyzer>(
        mapped->link, FlowTableOptions{}, [&rows, i](const FlowRecord& r) { add_row(rows[i], r); },
        Partition{i, shards}));
    parts.push_back(analyzers.back().get());
  }
  SplitAnalysis analysis(std::move(mapped->file), std::move(mapped->filter), parts, chunk_bytes);
  std::vector<std::string> errors(shards);
  const volatile std::sig_atomic_t never = 0;
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < shards; ++i) {
    threads.emplace_back([&, i] {
      if (auto st = analysis.run(i, never); !st) errors[i] = st.error();
      analyzers[i]->finish();
    });
  }
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < shards; ++i) {
    out.rows.insert(out.rows.end(), rows[i].begin(), rows[i].end());
    out.counters += analyzers[i]->counters();
    out.reused += analyzers[i]->table().stats().tcp_reused;
    if (i > 0) CHECK(errors[i] == errors[0]);  // every shard ends on the same record
  }
  std::sort(out.rows.begin(), out.rows.end());
  out.walked = analysis.walked_chunks();
  out.error = errors[0];
  return out;
}

void check_same(const Outcome& a, const Outcome& b) {
  CHECK(a.rows == b.rows);
  CHECK(a.counters.packets == b.counters.packets);
  CHECK(a.counters.wire_bytes == b.counters.wire_bytes);
  CHECK(a.counters.ip_packets == b.counters.ip_packets);
  CHECK(a.counters.non_ip == b.counters.non_ip);
  CHECK(a.counters.fragments == b.counters.fragments);
  CHECK(a.counters.other_protocols == b.counters.other_protocols);
  CHECK(a.counters.malformed == b.counters.malformed);
  CHECK(a.reused == b.reused);
  CHECK(a.error == b.error);
}

std::vector<std::string> shared_captures() {  // pcap and pcapng
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(test::pcaps_dir())) {
    const std::string path = e.path().string();
    if (path.ends_with(".pcap") || path.ends_with(".pcapng")) out.push_back(path);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void put32(std::string& out, std::uint32_t v) { out.append(reinterpret_cast<char*>(&v), 4); }

std::string pcap_header() {
  std::string out;
  put32(out, 0xa1b2c3d4);
  put32(out, 0x00040002);  // version 2.4
  put32(out, 0);
  put32(out, 0);
  put32(out, 65535);
  put32(out, 1);  // Ethernet
  return out;
}

void put_record(std::string& out, std::uint32_t sec, const std::string& frame) {
  put32(out, sec);
  put32(out, 0);
  put32(out, static_cast<std::uint32_t>(frame.size()));
  put32(out, static_cast<std::uint32_t>(frame.size()));
  out += frame;
}

// An Ethernet/IPv4/UDP frame from port `sport` whose payload is `payload`.
std::string udp_frame(std::uint16_t sport, const std::string& payload) {
  std::string f(42, '\0');
  f[12] = 0x08;
  f[14] = 0x45;
  const std::size_t ip_len = 28 + payload.size();
  f[16] = static_cast<char>(ip_len >> 8);
  f[17] = static_cast<char>(ip_len);
  f[22] = 64;
  f[23] = 17;
  f[26] = 10, f[29] = 1, f[30] = 10, f[33] = 2;
  f[34] = static_cast<char>(sport >> 8);
  f[35] = static_cast<char>(sport);
  f[37] = 53;
  const std::size_t udp_len = 8 + payload.size();
  f[38] = static_cast<char>(udp_len >> 8);
  f[39] = static_cast<char>(udp_len);
  return f + payload;
}

TEST_CASE("split analysis: the records and counters of one reader, over the shared captures",
          "[capture][split]") {
  for (const std::string& path : shared_captures()) {
    CAPTURE(path);
    const Outcome one = alone(path);
    for (std::size_t shards : {1, 2, 3}) {
      for (std::size_t chunk : {64, 700, 4096, 1 << 20}) {
        CAPTURE(shards, chunk);
        check_same(split(path, shards, chunk), one);
      }
    }
  }
}

TEST_CASE("split analysis: a BPF filter runs before the split", "[capture][split]") {
  const std::string path = (test::pcaps_dir() / "zeek__mixed-vlan-mpls.pcap").string();
  const Outcome one = alone(path, "vlan");
  REQUIRE(one.rows.size() == 1);
  check_same(split(path, 2, 256, "vlan"), one);
}

TEST_CASE("split analysis: a wrongly guessed chunk start is walked again, nothing lost",
          "[capture][split]") {
  // Flow packets whose payloads are themselves pcap records: from inside a payload, the first
  // offset where records chain plausibly is a fake record, not the next real one.
  std::string fake;
  for (int i = 0; i < 12; ++i) put_record(fake, 1'000'000'000, std::string(20, 'x'));
  std::string file = pcap_header();
  for (std::uint32_t i = 0; i < 40; ++i) {
    put_record(file, 1'000'000'000 + i, udp_frame(static_cast<std::uint16_t>(1000 + i % 5), fake));
  }
  const test::TempFile pcap(file);
  const Outcome one = alone(pcap.path);
  REQUIRE(one.counters.packets == 40);
  REQUIRE(one.rows.size() == 5);
  for (std::size_t shards : {1, 2, 3}) {
    CAPTURE(shards);
    const Outcome parts = split(pcap.path, shards, 300);
    CHECK(parts.walked > 0);
    check_same(parts, one);
  }
}

// pcapng: sections and interfaces are structural records. Before the first packet they make the
// state every chunk starts with; one later (a second section, its own time base) sends every
// shard to walk the rest itself, with the same records as one reader.
TEST_CASE("split analysis: a pcapng section in mid-file is walked by every shard",
          "[capture][split]") {
  test::PcapngBuilder b(false);
  b.section().interface(1).other(4);  // a name-resolution block: skipped
  for (std::uint32_t i = 0; i < 60; ++i) {
    b.enhanced(0, (1'000'000'000ULL + i) * 1'000'000, udp_frame(3000 + i % 9, "before"));
  }
  b.section().interface(1, 9);  // nanoseconds from here on
  for (std::uint32_t i = 0; i < 60; ++i) {
    b.enhanced(0, (1'000'000'100ULL + i) * 1'000'000'000, udp_frame(3000 + i % 9, "after!"));
  }
  const test::TempFile pcapng(b.bytes(), ".pcapng");
  const Outcome one = alone(pcapng.path);
  REQUIRE(one.counters.packets == 120);
  REQUIRE(one.rows.size() == 9);
  for (std::size_t shards : {1, 2, 3}) {
    for (std::size_t chunk : {128, 700, 1 << 20}) {
      CAPTURE(shards, chunk);
      const Outcome parts = split(pcapng.path, shards, chunk);
      check_same(parts, one);
      if (chunk < 1000) CHECK(parts.walked > 0);
    }
  }
}

TEST_CASE("split analysis: a broken last record ends every shard after the frames before it",
          "[capture][split]") {
  std::string file = pcap_header();
  for (std::uint32_t i = 0; i < 30; ++i) {
    put_record(file, 1'000'000'000 + i, udp_frame(static_cast<std::uint16_t>(2000 + i % 7), "hi"));
  }
  file.resize(file.size() - 10);  // the last record runs past the end of the file
  const test::TempFile pcap(file);
  const Outcome one = alone(pcap.path);
  CHECK_THAT(one.error, Catch::Contains("runs past the end of the file"));
  CHECK(one.counters.packets == 29);
  for (std::size_t chunk : {100, 4096}) {
    CAPTURE(chunk);
    check_same(split(pcap.path, 2, chunk), one);
  }
}

TEST_CASE("split analysis: a stop set before the run ends it at once", "[capture][split]") {
  const std::string path =
      (test::pcaps_dir() / "suricata-verify__tls-subjectaltname.pcap").string();
  SourceOptions o;
  o.file = path;
  auto mapped = open_mapped_source(o);
  REQUIRE(mapped);
  Analyzer a(mapped->link, {}, [](const FlowRecord&) {});
  SplitAnalysis analysis(std::move(mapped->file), nullptr, {&a}, 512);
  const volatile std::sig_atomic_t stop = 1;
  CHECK(analysis.run(0, stop));
  CHECK(a.counters().packets == 0);
}

}  // namespace
}  // namespace mplane::capture
