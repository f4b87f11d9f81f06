// Classic pcap files read through a memory map: frames are handed out where they lie in the
// page cache, with no copy and no system call per packet (libpcap copies every record through
// stdio: twice the time per packet on this kind of machine, see bench/README.md). pcapng and
// anything else is left to libpcap (PcapSource falls back).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "capture/source/file_map.h"
#include "capture/source/record_file.h"
#include "parsers/base/result.h"

namespace mplane::capture {

class MappedPcap final : public RecordFile {
 public:
  // Null (no error) if the file is not a classic pcap file; an error if it cannot be read.
  static Result<std::unique_ptr<MappedPcap>> open(const std::string& path);
  // The same over a file already mapped (null, the map untouched, if it is not classic pcap).
  static std::unique_ptr<MappedPcap> from(FileMap& map);
  // Over bytes the caller keeps alive as long as the reader (tests, fuzzing); `name` in errors.
  static std::unique_ptr<MappedPcap> over(std::span<const std::uint8_t> bytes, std::string name);
  ~MappedPcap() override;
  MappedPcap(const MappedPcap&) = delete;
  MappedPcap& operator=(const MappedPcap&) = delete;

  int link_type() const override { return link_type_; }  // the header's DLT
  int snaplen() const override { return snaplen_; }

  // The next frame, or false at the end. A record that runs past the end of the file, or
  // claims more than 256 KiB, ends the file with an error naming its offset.
  bool next(Frame& out) override;
  const std::string& error() const override { return error_; }

  // RecordFile: records from 24 on; no state; never a record without a frame. A record that
  // runs past the end of the file, or claims more than 256 KiB, is broken.
  Record record_at(ReadState& state, std::uint64_t offset, Frame& out, std::uint64_t& next,
                   std::string& error) const override;
  // Plausible: lengths within the record limit and near the wire length, the sub-second field
  // in range.
  bool plausible_records_at(std::uint64_t offset, int count) const override;
  std::uint64_t first_record() const override { return 24; }
  const ReadState& first_state() const override { return state_; }
  std::uint64_t position() const override { return offset_; }
  void release_read() noexcept override { map_.release_before(offset_); }
  std::uint64_t size() const override { return size_; }
  const std::uint8_t* data() const override { return base_; }

 private:
  MappedPcap() = default;
  std::uint32_t u32(std::size_t at) const;

  const std::uint8_t* base_ = nullptr;
  std::uint64_t size_ = 0, offset_ = 24;
  bool swapped_ = false, nanoseconds_ = false;
  int link_type_ = 0, snaplen_ = 0;
  std::string path_, error_;
  ReadState state_;  // (none needed)
  FileMap map_;
};

}  // namespace mplane::capture
