// `mplane capture` end to end on the shared captures: the CSV contract (header and the issue's
// first columns), JSON lines, the table, the summary on stderr, and one-line errors.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "engine/cli/command.h"
#include "tests/engine/cli_support.h"
#include "tests/skip_support.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

using Run = test::CliRun;

Run capture(std::vector<std::string> args) { return test::run_cli(cli::run_capture, args); }

std::string pcap(const std::string& name) { return (test::pcaps_dir() / name).string(); }

TEST_CASE("mplane capture --format csv: the header contract and one line per flow",
          "[engine][cli][capture]") {
  const Run r = capture({"-r", pcap("zeek__methods.pcap"), "--format", "csv"});
  REQUIRE(r.status == 0);
  std::istringstream lines(r.out);
  std::string header;
  std::getline(lines, header);
  CHECK(
      header.starts_with("proto,client_ip,client_port,server_ip,server_port,first,last,"
                         "c2s_packets,c2s_bytes,s2c_packets,s2c_bytes,"));
  int rows = 0;
  for (std::string line; std::getline(lines, line);) {
    CHECK(line.starts_with("tcp,128.2.6.136,"));
    ++rows;
  }
  CHECK(rows == 49);
  CHECK_THAT(r.err, Catch::Contains("655 packets"));
  CHECK_THAT(r.err, Catch::Contains("49 flows"));
}

TEST_CASE("mplane capture: JSON lines, the table, a BPF filter", "[engine][cli][capture]") {
  const Run json = capture({"-r", pcap("zeek__methods.pcap"), "--format", "json"});
  REQUIRE(json.status == 0);
  CHECK(json.out.starts_with("{\"proto\":\"tcp\",\"client_ip\":\"128.2.6.136\""));
  CHECK(std::count(json.out.begin(), json.out.end(), '\n') == 49);
  const Run table = capture({"-r", pcap("zeek__methods.pcap")});
  REQUIRE(table.status == 0);
  CHECK(table.out.starts_with("proto client"));
  CHECK_THAT(table.out, Catch::Contains("complete"));
  const Run filtered =
      capture({"-r", pcap("zeek__mixed-vlan-mpls.pcap"), "-f", "vlan", "--format", "csv"});
  REQUIRE(filtered.status == 0);
  CHECK(std::count(filtered.out.begin(), filtered.out.end(), '\n') == 2);  // header + 1 flow
}

// Every shared capture: classic pcap files go through SplitAnalysis, pcapng through one libpcap
// reader per shard; both must give what one thread gives, idle expiry included (a shard's
// clock follows the other shards' packets too).
TEST_CASE("mplane capture --shards: the same records, split over threads",
          "[engine][cli][capture]") {
  auto sorted_lines = [](const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    std::sort(lines.begin(), lines.end());
    return lines;
  };
  for (const auto& entry : std::filesystem::directory_iterator(test::pcaps_dir())) {
    const std::string path = entry.path().string();
    if (!path.ends_with(".pcap") && !path.ends_with(".pcapng")) continue;
    CAPTURE(path);
    const Run one = capture({"-r", path, "--format", "csv"});
    REQUIRE(one.status == 0);
    for (const char* shards : {"2", "3"}) {
      CAPTURE(shards);
      const Run split = capture({"-r", path, "--format", "csv", "--shards", shards});
      REQUIRE(split.status == 0);
      CHECK(sorted_lines(one.out) == sorted_lines(split.out));
      CHECK(one.err == split.err);  // the same summary: frame counters counted once
    }
  }
}

TEST_CASE("mplane capture --active-timeout splits long flows", "[engine][cli][capture]") {
  // zeek__206_example_b: two connections, the first lasting minutes.
  const Run whole = capture({"-r", pcap("zeek__206_example_b.pcap"), "--format", "csv"});
  const Run split = capture(
      {"-r", pcap("zeek__206_example_b.pcap"), "--format", "csv", "--active-timeout", "10"});
  REQUIRE(whole.status == 0);
  REQUIRE(split.status == 0);
  CHECK(std::count(split.out.begin(), split.out.end(), '\n') >
        std::count(whole.out.begin(), whole.out.end(), '\n'));
  CHECK_THAT(split.out, Catch::Contains(",timeout,"));
  // The records after the first keep the connection's roles.
  std::istringstream lines(split.out);
  std::string line;
  std::getline(lines, line);
  std::getline(lines, line);
  auto roles = [](const std::string& l) {  // proto,client_ip,client_port,server_ip,server_port
    std::size_t at = 0;
    for (int commas = 0; commas < 5; ++commas) at = l.find(',', at) + 1;
    return l.substr(0, at);
  };
  const std::string first = roles(line);
  for (int i = 0; i < 2 && std::getline(lines, line); ++i) CHECK(roles(line) == first);
}

// Live shards: one kernel fanout group, the summary adds up the shards' packets and drops.
TEST_CASE("mplane capture -i lo --shards 2 --duration: runs and ends",
          "[engine][cli][capture][root]") {
  MPLANE_REQUIRE_ROOT("live capture opens a raw socket (CAP_NET_RAW)");
  const Run r = capture({"-i", "lo", "--shards", "2", "--duration", "0.3", "--format", "csv"});
  CHECK(r.status == 0);
  CHECK(r.out.starts_with("proto,client_ip,"));
  CHECK_THAT(r.err, Catch::StartsWith("mplane capture: ") && Catch::Contains(" packets ("));
}

TEST_CASE("mplane capture: errors are one line with a non-zero exit", "[engine][cli][capture]") {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{}, "give exactly one of -r FILE and -i IFACE"},
      {{"-r", "a.pcap", "-i", "lo"}, "give exactly one of -r FILE and -i IFACE"},
      {{"-r", pcap("zeek__methods.pcap"), "--format", "xml"}, "--format xml"},
      {{"-r", pcap("zeek__methods.pcap"), "--max-flows", "x"}, "--max-flows"},
      {{"-r", "/nonexistent.pcap"}, "/nonexistent.pcap"},
      {{"-r", pcap("README.md")}, "README.md"},
      {{"-r", pcap("zeek__methods.pcap"), "-f", "tcp port nonsense"}, "bad filter"},
      {{"--bogus"}, "bogus"},
      {{"-i", "no-such-if0", "--shards", "2"}, "no-such-if0"},
  };
  for (const auto& [args, text] : cases) {
    CAPTURE(args);
    const Run r = capture(args);
    CHECK(r.status != 0);
    CHECK_THAT(r.err, Catch::Contains(text));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  const Run help = capture({"--help"});
  CHECK(help.status == 0);
  CHECK_THAT(help.out, Catch::Contains("--format"));
}

}  // namespace
}  // namespace mplane
