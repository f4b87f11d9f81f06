// A capture file read through a memory map, frame by frame, with no copy: classic pcap
// (MappedPcap) or pcapng (MappedPcapng). Frames point into the map, valid as long as the file.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace mplane::capture {

class FrameFile {
 public:
  struct Frame {
    std::int64_t ts_us;
    std::span<const std::uint8_t> bytes;
    std::uint32_t wire_len;
  };
  virtual ~FrameFile() = default;

  // The next frame, or false at the end or on a broken record (then error() says which).
  virtual bool next(Frame& out) = 0;
  virtual const std::string& error() const = 0;
  virtual std::uint64_t position() const = 0;  // bytes read so far (progress)
  virtual std::uint64_t size() const = 0;
  virtual int link_type() const = 0;  // the DLT of every frame
  virtual int snaplen() const = 0;
};

}  // namespace mplane::capture
