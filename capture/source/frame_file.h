// A capture file read through a memory map, frame by frame, with no copy: classic pcap
// (MappedPcap) or pcapng (MappedPcapng). Frames point into the map, valid as long as the file.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>

namespace mplane::capture {

// The packet timestamps the capture represents: microseconds since the epoch within years 1 to
// 9999 (Python's datetime: every mPlane time). Far from the int64 limits, so that the flow table
// adds timeouts to them and subtracts them from each other without overflow.
constexpr std::int64_t kMinTimestamp = -62'135'596'800LL * 1'000'000;
constexpr std::int64_t kMaxTimestamp = 253'402'300'799LL * 1'000'000 + 999'999;

// The timestamp a reader gives a frame whose own lies outside [kMinTimestamp, kMaxTimestamp]
// (a corrupt or hostile file, where seconds x 10^6 would overflow int64): the Analyzer counts
// such a frame as malformed (`bad_timestamp`) and analyses nothing of it; any other user of
// frame timestamps must skip it too.
constexpr std::int64_t kBadTimestamp = std::numeric_limits<std::int64_t>::min();

// `seconds` x 10^6 + `micros` (of any values a reader can hold), or kBadTimestamp when that is
// outside [kMinTimestamp, kMaxTimestamp]. Computed in 128 bits: never overflows.
constexpr std::int64_t checked_timestamp(__int128 seconds, __int128 micros) noexcept {
  // Bound the seconds first: then the product cannot overflow 128 bits either.
  if (seconds < kMinTimestamp / 1'000'000 - 1 || seconds > kMaxTimestamp / 1'000'000 + 1) {
    return kBadTimestamp;
  }
  const __int128 t = seconds * 1'000'000 + micros;
  return t < kMinTimestamp || t > kMaxTimestamp ? kBadTimestamp : static_cast<std::int64_t>(t);
}

class FrameFile {
 public:
  struct Frame {
    std::int64_t ts_us;  // in [kMinTimestamp, kMaxTimestamp], or kBadTimestamp
    std::span<const std::uint8_t> bytes;
    std::uint32_t wire_len;
  };
  virtual ~FrameFile() = default;

  // The next frame, or false at the end or on a broken record (then error() says which).
  virtual bool next(Frame& out) = 0;
  virtual const std::string& error() const = 0;
  virtual std::uint64_t position() const = 0;  // bytes read so far (progress)
  // The frames before position() are done with: the file may give their memory back (a
  // sequential reader of a large file then holds a bounded part of it). Frames handed out
  // before stay readable.
  virtual void release_read() noexcept {}
  virtual std::uint64_t size() const = 0;
  virtual int link_type() const = 0;  // the DLT of every frame
  virtual int snaplen() const = 0;
};

}  // namespace mplane::capture
