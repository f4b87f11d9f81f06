#include "capture/source/mapped_pcap.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mplane::capture {
namespace {

constexpr std::uint32_t kMicroMagic = 0xa1b2c3d4, kNanoMagic = 0xa1b23c4d;
constexpr std::uint32_t kMaxRecord = 262144;

std::uint32_t swap32(std::uint32_t v) { return __builtin_bswap32(v); }

}  // namespace

Result<std::unique_ptr<MappedPcap>> MappedPcap::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size < 24) {
    ::close(fd);
    return std::unique_ptr<MappedPcap>();  // too short for a pcap header: libpcap will say why
  }
  std::uint32_t magic = 0;
  if (::pread(fd, &magic, 4, 0) != 4) {
    ::close(fd);
    return std::unique_ptr<MappedPcap>();
  }
  std::unique_ptr<MappedPcap> m(new MappedPcap);
  if (magic == swap32(kMicroMagic) || magic == swap32(kNanoMagic)) m->swapped_ = true;
  const std::uint32_t native = m->swapped_ ? swap32(magic) : magic;
  if (native != kMicroMagic && native != kNanoMagic) {
    ::close(fd);
    return std::unique_ptr<MappedPcap>();  // pcapng or something else
  }
  m->nanoseconds_ = native == kNanoMagic;
  m->size_ = static_cast<std::uint64_t>(st.st_size);
  void* map = ::mmap(nullptr, m->size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return fail(path + ": cannot map: " + std::strerror(errno));
  ::madvise(map, m->size_, MADV_SEQUENTIAL | MADV_WILLNEED);
  m->base_ = static_cast<const std::uint8_t*>(map);
  m->snaplen_ = static_cast<int>(m->u32(16));
  m->link_type_ = static_cast<int>(m->u32(20) & 0x0fffffff);  // the upper bits are FCS info
  m->path_ = path;
  return m;
}

MappedPcap::~MappedPcap() {
  if (base_) ::munmap(const_cast<std::uint8_t*>(base_), size_);
}

std::uint32_t MappedPcap::u32(std::size_t at) const {
  std::uint32_t v;
  std::memcpy(&v, base_ + at, 4);
  return swapped_ ? swap32(v) : v;
}

bool MappedPcap::next(Frame& out) {
  if (!error_.empty() || offset_ == size_) return false;
  if (size_ - offset_ < 16) {
    error_ = path_ + ": truncated record header at byte " + std::to_string(offset_);
    return false;
  }
  const std::uint32_t caplen = u32(offset_ + 8);
  if (caplen > kMaxRecord || caplen > size_ - offset_ - 16) {
    error_ = path_ + ": record at byte " + std::to_string(offset_) +
             (caplen > kMaxRecord ? " claims " + std::to_string(caplen) + " bytes"
                                  : " runs past the end of the file");
    return false;
  }
  const std::int64_t sec = u32(offset_), frac = u32(offset_ + 4);
  out.ts_us = sec * 1'000'000 + (nanoseconds_ ? frac / 1000 : frac);
  out.wire_len = std::max(u32(offset_ + 12), caplen);
  out.bytes = {base_ + offset_ + 16, caplen};
  offset_ += 16 + caplen;
  return true;
}

}  // namespace mplane::capture
