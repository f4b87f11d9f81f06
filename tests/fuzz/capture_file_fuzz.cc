// libFuzzer target for the capture file readers (capture/source/mapped_pcap.h,
// mapped_pcapng.h) and the split of a classic pcap file between shards (capture/split_analysis.h).
//
// Input: a whole capture file. Properties: nothing is read outside the input (ASan), no
// undefined behaviour (UBSan: absurd pcapng timestamps once overflowed int64); every frame lies
// inside it, its wire length is at least its captured length, and its timestamp is in range or
// kBadTimestamp; a broken file ends with an error; the guess of a record boundary never reads
// past the end; and a file analysed in 64-byte chunks by one shard of a SplitAnalysis (wrong
// guesses, pcapng sections in mid-file) counts exactly the frames, and reports exactly the
// error, of a sequential read.
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <span>

#include "capture/analyzer.h"
#include "capture/source/mapped_pcap.h"
#include "capture/source/mapped_pcapng.h"
#include "capture/split_analysis.h"

using namespace mplane::capture;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Reads every frame; the number read and the error.
std::pair<std::uint64_t, std::string> read_all(FrameFile& file, std::span<const std::uint8_t> in) {
  FrameFile::Frame f;
  std::uint64_t n = 0;
  while (file.next(f)) {
    check(f.bytes.data() >= in.data() && f.bytes.data() + f.bytes.size() <= in.data() + in.size());
    check(f.wire_len >= f.bytes.size());
    check(f.ts_us == kBadTimestamp || (f.ts_us >= kMinTimestamp && f.ts_us <= kMaxTimestamp));
    ++n;
  }
  return {n, file.error()};
}

// A one-shard SplitAnalysis in 64-byte chunks over a second reader of the same bytes counts
// the frames, and ends on the error, of a sequential read.
void check_split(std::unique_ptr<RecordFile> file, std::uint64_t frames, const std::string& error) {
  LinkType link;
  if (!link_type_from_dlt(file->link_type(), link)) link = LinkType::kEthernet;
  Analyzer a(link, FlowTableOptions{.max_flows = 8}, [](const FlowRecord&) {});
  SplitAnalysis split(std::move(file), nullptr, {&a}, 64);
  const volatile std::sig_atomic_t never = 0;
  const auto status = split.run(0, never);
  a.finish();
  check(a.counters().packets == frames);
  check(status ? error.empty() : status.error() == error);
}

void classic(std::span<const std::uint8_t> in) {
  auto file = MappedPcap::over(in, "fuzz");
  if (!file) return;
  const auto [frames, error] = read_all(*file, in);
  for (std::uint64_t at = 0; at < in.size(); ++at) (void)file->plausible_records_at(at, 8);
  check_split(MappedPcap::over(in, "fuzz"), frames, error);
}

void pcapng(std::span<const std::uint8_t> in) {
  auto file = MappedPcapng::over(in, "fuzz");
  if (!file || !*file) return;
  const auto [frames, error] = read_all(**file, in);
  for (std::uint64_t at = 0; at < in.size(); ++at) (void)(*file)->plausible_records_at(at, 8);
  check_split(std::move(MappedPcapng::over(in, "fuzz").value()), frames, error);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  classic(in);
  pcapng(in);
  return 0;
}
