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
#include "capture/source/frame_file.h"
#include "parsers/base/result.h"

namespace mplane::capture {

class MappedPcap final : public FrameFile {
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

  // Random access, for several threads at once (reads the map only). `offset` must be where a
  // record starts; kEnd at the end of the file; kBroken (with `error` set) as next() would end.
  static constexpr std::uint64_t kFirstRecord = 24;
  enum class Record { kOk, kEnd, kBroken };
  Record record_at(std::uint64_t offset, Frame& out, std::uint64_t& next, std::string& error) const;
  // Whether `count` records (or all up to the end of the file) chain from `offset` with
  // plausible headers: lengths within the record limit and near the wire length, the sub-second
  // field in range. A guess at a record boundary, for readers that start mid-file.
  bool plausible_records_at(std::uint64_t offset, int count) const;
  std::uint64_t position() const override { return offset_; }
  std::uint64_t size() const override { return size_; }
  const std::uint8_t* data() const { return base_; }  // the whole file, mapped

 private:
  MappedPcap() = default;
  std::uint32_t u32(std::size_t at) const;

  const std::uint8_t* base_ = nullptr;
  std::uint64_t size_ = 0, offset_ = 24;
  bool swapped_ = false, nanoseconds_ = false;
  int link_type_ = 0, snaplen_ = 0;
  std::string path_, error_;
  FileMap map_;
};

}  // namespace mplane::capture
