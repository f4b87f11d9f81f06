// pcapng files read through a memory map: frames handed out where they lie, as MappedPcap does
// for classic pcap (libpcap copies every block through stdio first). Sections of either byte
// order; interfaces with their timestamp resolution (if_tsresol) and offset (if_tsoffset);
// enhanced, simple and obsolete packet blocks; other blocks skipped. As libpcap, every
// interface must have the link type of the first, and a packet's timestamp is truncated to
// microseconds; one outside the years 1 to 9999 (if_tsoffset included) is kBadTimestamp. Blocks can
// be read from any block boundary with a ReadState (SplitAnalysis).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "capture/source/file_map.h"
#include "capture/source/record_file.h"
#include "parsers/base/result.h"

namespace mplane::capture {

class MappedPcapng final : public RecordFile {
 public:
  // Null (the map untouched) if the file is not pcapng; an error if it describes no interface
  // before its first packet, or is broken before.
  static Result<std::unique_ptr<MappedPcapng>> from(FileMap& map);
  // Over bytes the caller keeps alive as long as the reader (tests, fuzzing); `name` in errors.
  static Result<std::unique_ptr<MappedPcapng>> over(std::span<const std::uint8_t> bytes,
                                                    std::string name);

  bool next(Frame& out) override;
  const std::string& error() const override { return error_; }
  std::uint64_t position() const override { return offset_; }
  void release_read() noexcept override { map_.release_before(offset_); }
  std::uint64_t size() const override { return bytes_.size(); }
  int link_type() const override { return first_state_.link_type; }
  int snaplen() const override { return snaplen_; }

  // RecordFile: blocks; section headers and interface descriptions are structural.
  Record record_at(ReadState& state, std::uint64_t offset, Frame& out, std::uint64_t& next,
                   std::string& error) const override;
  // Plausible: block lengths that are multiples of 4, within the file, equal in both copies
  // (read in the first section's byte order).
  bool plausible_records_at(std::uint64_t offset, int count) const override;
  std::uint64_t first_record() const override { return first_record_; }
  const ReadState& first_state() const override { return first_state_; }
  const std::uint8_t* data() const override { return bytes_.data(); }

 private:
  // A block being read: where, how long, in which state; errors name the file and the block.
  struct Block;

  MappedPcapng() = default;
  Record section_header(const Block& b) const;
  Record interface(const Block& b) const;
  Record packet(const Block& b, std::uint32_t type, Frame& out) const;
  std::uint32_t u32(bool swapped, std::uint64_t at) const;
  std::uint16_t u16(bool swapped, std::uint64_t at) const;

  std::span<const std::uint8_t> bytes_;
  std::uint64_t offset_ = 0, first_record_ = 0;
  ReadState state_, first_state_;  // next()'s; at first_record_
  int snaplen_ = 0;
  std::string path_, error_;
  FileMap map_;
};

}  // namespace mplane::capture
