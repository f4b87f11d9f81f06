// Capture files whose records can be read from any record boundary, by several threads at
// once, each with its own reading state (SplitAnalysis): classic pcap (MappedPcap) and pcapng
// (MappedPcapng).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "capture/source/frame_file.h"

namespace mplane::capture {

// What a reader must know at a record boundary besides the offset: nothing for classic pcap;
// for pcapng the section's byte order and its interfaces' time bases, which section headers
// and interface descriptions (the "structural" records) change.
struct ReadState {
  struct Interface {
    std::uint64_t units_per_second = 1'000'000;  // if_tsresol
    std::int64_t offset_seconds = 0;             // if_tsoffset
    std::uint32_t snaplen = 0;
  };
  bool swapped = false;
  int link_type = -1;  // the first interface's, for the whole file
  std::vector<Interface> interfaces;
};

class RecordFile : public FrameFile {
 public:
  enum class Record {
    kFrame,       // `out` is a frame
    kSkip,        // a record without a frame (pcapng statistics, name resolution, …)
    kStructural,  // a record that changed `state`
    kEnd,
    kBroken,  // `error` says why; the file ends there
  };
  // The record at `offset`, which must be a record boundary, read with `state` as it is there.
  // Reads the map only: safe from several threads, each with its own state.
  virtual Record record_at(ReadState& state, std::uint64_t offset, Frame& out, std::uint64_t& next,
                           std::string& error) const = 0;
  // Whether `count` records (or all up to the end) chain from `offset` with plausible headers:
  // a guess at a record boundary, for a reader that starts mid-file.
  virtual bool plausible_records_at(std::uint64_t offset, int count) const = 0;
  // Where the records after the file's own headers begin (for pcapng: at the first packet,
  // the interfaces described), and the reading state there.
  virtual std::uint64_t first_record() const = 0;
  virtual const ReadState& first_state() const = 0;
  virtual const std::uint8_t* data() const = 0;  // the whole file, mapped
};

}  // namespace mplane::capture
