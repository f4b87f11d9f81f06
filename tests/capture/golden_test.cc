// Golden tests on the shared captures (issue 5, "Correctness"). For each capture:
// - every per-connection record is compared with the independent reference made by tshark
//   (tests/data/capture/reference/, see its README): the differences must be exactly the ones
//   listed, each with the reason our number is right, in tests/data/capture/differences/;
// - our whole output (every column) must equal the reviewed expected file in
//   tests/data/capture/expected/ (regressions in the analysis columns show up there).
// MPLANE_UPDATE_GOLDEN=1 rewrites the expected and differences files (review the diff!).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "capture/analyzer.h"
#include "capture/output/flow_columns.h"
#include "capture/source/pcap_source.h"
#include "tests/test_support.h"

namespace mplane::capture {
namespace {

namespace fs = std::filesystem;

using Row = std::map<std::string, std::string>;  // column -> value

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

std::vector<Row> parse_csv(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = split(line);
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const std::vector<std::string> cells = split(line);
    Row r;
    for (std::size_t i = 0; i < header.size() && i < cells.size(); ++i) r[header[i]] = cells[i];
    rows.push_back(std::move(r));
  }
  return rows;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Our records for a capture, as CSV (the format of `mplane capture --format csv`), rows sorted
// like the reference: by first time, then the endpoints.
std::string analyse(const fs::path& file) {
  SourceOptions o;
  o.file = file.string();
  auto src = PcapSource::open(o);
  if (!src) FAIL(src.error());
  std::vector<FlowRecord> records;
  Analyzer a((*src)->link_type(), {}, [&](const FlowRecord& r) { records.push_back(r); });
  const PcapSource::PacketFn fn = [&](std::int64_t ts, auto frame, std::uint32_t len) {
    a.packet(ts, frame, len);
  };
  while (!(*src)->at_end()) REQUIRE((*src)->read(4096, fn).ok());
  a.finish();
  std::vector<std::pair<std::string, std::string>> lines;  // sort key, line
  for (const FlowRecord& r : records) {
    std::string line, key;
    append_csv_row(line, r);
    append_time(key, r.first);
    key += ' ' + line;
    lines.emplace_back(key, line);
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  append_csv_header(out);
  for (const auto& [key, line] : lines) out += line;
  return out;
}

// The columns both tools report.
const char* const kCompared[] = {
    "last",      "c2s_packets",       "c2s_bytes",         "s2c_packets",
    "s2c_bytes", "c2s_payload_bytes", "s2c_payload_bytes", "c2s_syn",
    "c2s_fin",   "c2s_rst",           "s2c_syn",           "s2c_fin",
    "s2c_rst"};

std::string key_of(const Row& r) {
  return r.at("proto") + " " + r.at("client_ip") + ":" + r.at("client_port") + " " +
         r.at("server_ip") + ":" + r.at("server_port") + " " + r.at("first");
}

// One line per difference between our rows and the reference's, sorted.
std::vector<std::string> differences(const std::vector<Row>& ours,
                                     const std::vector<Row>& reference) {
  std::multimap<std::string, const Row*> theirs;
  for (const Row& r : reference) theirs.emplace(key_of(r), &r);
  std::vector<std::string> out;
  for (const Row& r : ours) {
    const std::string key = key_of(r);
    auto it = theirs.find(key);
    if (it == theirs.end()) {
      out.push_back(key + " only in ours");
      continue;
    }
    for (const char* column : kCompared) {
      const std::string& a = r.at(column);
      const std::string& b = it->second->at(column);
      if (a != b) out.push_back(key + " " + column + " ours=" + a + " reference=" + b);
    }
    theirs.erase(it);
  }
  for (const auto& [key, row] : theirs) out.push_back(key + " only in the reference");
  std::sort(out.begin(), out.end());
  return out;
}

// The listed differences: every line that is not blank and not a `#` comment (the reasons).
std::vector<std::string> listed(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("golden: every shared capture against tshark and the reviewed expectations",
          "[capture][golden]") {
  const fs::path pcaps = test::pcaps_dir();
  const fs::path data = test::data_dir() / "capture";
  const bool update = std::getenv("MPLANE_UPDATE_GOLDEN") != nullptr;
  int files = 0;
  for (const auto& entry : fs::directory_iterator(pcaps)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".md") continue;
    ++files;
    CAPTURE(name);
    const std::string ours = analyse(entry.path());
    const fs::path expected = data / "expected" / (name + ".csv");
    const fs::path listed_file = data / "differences" / (name + ".txt");
    const std::vector<std::string> found =
        differences(parse_csv(ours), parse_csv(read(data / "reference" / (name + ".csv"))));
    if (update) {
      fs::create_directories(expected.parent_path());
      fs::create_directories(listed_file.parent_path());
      std::ofstream(expected, std::ios::binary) << ours;
      std::string previous = read(listed_file), comments;
      std::istringstream in(previous);
      for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line[0] == '#') comments += line + "\n";
      }
      std::ofstream out(listed_file, std::ios::binary);
      out << comments;
      for (const std::string& d : found) out << d << "\n";
      continue;
    }
    CHECK(ours == read(expected));
    CHECK(found == listed(read(listed_file)));
  }
  CHECK(files == 18);
}

}  // namespace
}  // namespace mplane::capture
