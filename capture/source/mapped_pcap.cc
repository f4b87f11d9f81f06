#include "capture/source/mapped_pcap.h"

#include <cstring>

namespace mplane::capture {
namespace {

constexpr std::uint32_t kMicroMagic = 0xa1b2c3d4, kNanoMagic = 0xa1b23c4d;
constexpr std::uint32_t kMaxRecord = 262144;

std::uint32_t swap32(std::uint32_t v) { return __builtin_bswap32(v); }

}  // namespace

Result<std::unique_ptr<MappedPcap>> MappedPcap::open(const std::string& path) {
  auto map = FileMap::open(path);
  if (!map) return fail(map.error());
  return from(*map);
}

std::unique_ptr<MappedPcap> MappedPcap::from(FileMap& map) {
  auto m = over(map.bytes(), map.path());
  if (m) m->map_ = std::move(map);
  return m;
}

std::unique_ptr<MappedPcap> MappedPcap::over(std::span<const std::uint8_t> bytes,
                                             std::string name) {
  if (bytes.size() < 24) return nullptr;  // too short for a pcap header: libpcap will say why
  std::uint32_t magic = 0;
  std::memcpy(&magic, bytes.data(), 4);
  std::unique_ptr<MappedPcap> m(new MappedPcap);
  if (magic == swap32(kMicroMagic) || magic == swap32(kNanoMagic)) m->swapped_ = true;
  const std::uint32_t native = m->swapped_ ? swap32(magic) : magic;
  if (native != kMicroMagic && native != kNanoMagic) return nullptr;  // pcapng or other
  m->nanoseconds_ = native == kNanoMagic;
  m->base_ = bytes.data();
  m->size_ = bytes.size();
  m->path_ = std::move(name);
  m->snaplen_ = static_cast<int>(m->u32(16));
  m->link_type_ = static_cast<int>(m->u32(20) & 0x0fffffff);  // the upper bits are FCS info
  return m;
}

MappedPcap::~MappedPcap() = default;

std::uint32_t MappedPcap::u32(std::size_t at) const {
  std::uint32_t v;
  std::memcpy(&v, base_ + at, 4);
  return swapped_ ? swap32(v) : v;
}

bool MappedPcap::next(Frame& out) {
  if (!error_.empty()) return false;
  std::uint64_t next = 0;
  if (record_at(state_, offset_, out, next, error_) != Record::kFrame) return false;
  offset_ = next;
  return true;
}

MappedPcap::Record MappedPcap::record_at(ReadState& /*state*/, std::uint64_t offset, Frame& out,
                                         std::uint64_t& next, std::string& error) const {
  if (offset >= size_) return Record::kEnd;
  if (size_ - offset < 16) {
    error = path_ + ": truncated record header at byte " + std::to_string(offset);
    return Record::kBroken;
  }
  const std::uint32_t caplen = u32(offset + 8);
  if (caplen > kMaxRecord || caplen > size_ - offset - 16) {
    error = path_ + ": record at byte " + std::to_string(offset) +
            (caplen > kMaxRecord ? " claims " + std::to_string(caplen) + " bytes"
                                 : " runs past the end of the file");
    return Record::kBroken;
  }
  // 32-bit seconds and fraction: at most the year 2106, always in range (frame_file.h).
  const std::int64_t sec = u32(offset), frac = u32(offset + 4);
  out.ts_us = sec * 1'000'000 + (nanoseconds_ ? frac / 1000 : frac);
  out.wire_len = std::max(u32(offset + 12), caplen);
  out.bytes = {base_ + offset + 16, caplen};
  next = offset + 16 + caplen;
  return Record::kFrame;
}

bool MappedPcap::plausible_records_at(std::uint64_t offset, int count) const {
  const std::uint32_t frac_limit = nanoseconds_ ? 1'000'000'000 : 1'000'000;
  for (int i = 0; i < count && offset != size_; ++i) {
    if (offset > size_ || size_ - offset < 16) return false;
    const std::uint32_t caplen = u32(offset + 8), wire = u32(offset + 12);
    // Some writers record Ethernet padding in the frame but not in the wire length.
    if (caplen == 0 || caplen > kMaxRecord || caplen > wire + 64 || wire > 4 * kMaxRecord ||
        u32(offset + 4) >= frac_limit) {
      return false;
    }
    offset += 16 + std::uint64_t{caplen};
  }
  return offset <= size_;
}

}  // namespace mplane::capture
