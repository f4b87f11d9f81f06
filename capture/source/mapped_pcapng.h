// pcapng files read through a memory map: frames handed out where they lie, as MappedPcap does
// for classic pcap (libpcap copies every block through stdio first). Sections of either byte
// order; interfaces with their timestamp resolution (if_tsresol) and offset (if_tsoffset);
// enhanced, simple and obsolete packet blocks; other blocks skipped. As libpcap, every
// interface must have the link type of the first, and a packet's timestamp is truncated to
// microseconds.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "capture/source/file_map.h"
#include "capture/source/frame_file.h"
#include "parsers/base/result.h"

namespace mplane::capture {

class MappedPcapng final : public FrameFile {
 public:
  // Null (the map untouched) if the file is not pcapng; an error if its first section has no
  // interface before its first packet, or is broken.
  static Result<std::unique_ptr<MappedPcapng>> from(FileMap& map);
  // Over bytes the caller keeps alive as long as the reader (tests, fuzzing); `name` in errors.
  static Result<std::unique_ptr<MappedPcapng>> over(std::span<const std::uint8_t> bytes,
                                                    std::string name);

  bool next(Frame& out) override;
  const std::string& error() const override { return error_; }
  std::uint64_t position() const override { return offset_; }
  std::uint64_t size() const override { return bytes_.size(); }
  int link_type() const override { return link_type_; }
  int snaplen() const override { return snaplen_; }

 private:
  struct Interface {
    std::uint64_t units_per_second = 1'000'000;  // if_tsresol
    std::int64_t offset_seconds = 0;             // if_tsoffset
    std::uint32_t snaplen = 0;
  };
  enum class Step { kFrame, kOther, kEnd, kBroken };

  MappedPcapng() = default;
  Step step(Frame& out);
  bool broken(const std::string& why);  // sets the error; false
  Step broken_step(const std::string& why);
  bool section_header(std::uint64_t at, std::uint32_t length);
  bool interface(std::uint64_t at, std::uint32_t length);
  bool packet(std::uint32_t type, std::uint64_t at, std::uint32_t length, Frame& out);
  std::uint16_t u16(std::uint64_t at) const;
  std::uint32_t u32(std::uint64_t at) const;
  std::int64_t micros(const Interface& i, std::uint64_t units) const;

  std::span<const std::uint8_t> bytes_;
  std::uint64_t offset_ = 0;
  bool swapped_ = false;
  int link_type_ = -1, snaplen_ = 0;
  std::vector<Interface> interfaces_;  // of the current section
  std::string path_, error_;
  FileMap map_;
};

}  // namespace mplane::capture
