#include "capture/source/file_map.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace mplane::capture {

Result<FileMap> FileMap::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return fail(path + ": " + std::strerror(e));
  }
  FileMap m;
  m.path_ = path;
  m.size_ = static_cast<std::size_t>(st.st_size);
  if (m.size_ > 0) {
    void* map = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      return fail(path + ": cannot map: " + std::strerror(e));
    }
    // Read ahead now. Not MADV_SEQUENTIAL: it drops the pages behind the reader, and every
    // later pass (another shard, a second run) faults them in again (a third slower, measured).
    ::madvise(map, m.size_, MADV_WILLNEED);
    m.data_ = static_cast<const std::uint8_t*>(map);
  }
  ::close(fd);
  return m;
}

void FileMap::release_before(std::uint64_t offset) noexcept {
  const std::size_t end = std::min<std::uint64_t>(offset, size_) / kReleaseStep * kReleaseStep;
  if (end <= released_) return;
  // A read-only private map of a file: MADV_DONTNEED only unmaps (the data is the file's).
  ::madvise(const_cast<std::uint8_t*>(data_) + released_, end - released_, MADV_DONTNEED);
  released_ = end;
}

FileMap::~FileMap() {
  if (data_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
}

FileMap::FileMap(FileMap&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      released_(std::exchange(o.released_, 0)),
      path_(std::move(o.path_)) {}

FileMap& FileMap::operator=(FileMap&& o) noexcept {
  if (this != &o) {
    if (data_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    released_ = std::exchange(o.released_, 0);
    path_ = std::move(o.path_);
  }
  return *this;
}

}  // namespace mplane::capture
