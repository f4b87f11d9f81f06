// A whole file mapped read-only (the capture readers hand out frames where they lie in the page
// cache). Read-ahead is asked for at once; the map goes with the object.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "parsers/base/result.h"

namespace mplane::capture {

class FileMap {
 public:
  // Errors name the path and the system's reason. An empty file maps to no bytes.
  static Result<FileMap> open(const std::string& path);
  FileMap() = default;
  ~FileMap();
  FileMap(FileMap&& o) noexcept;
  FileMap& operator=(FileMap&& o) noexcept;
  FileMap(const FileMap&) = delete;
  FileMap& operator=(const FileMap&) = delete;

  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
  // The bytes before `offset` have been read: their pages leave this process (they stay in the
  // page cache, and reading them again maps them back), so that a sequential reader of a large
  // file holds a bounded part of it. Acts in steps of kReleaseStep.
  void release_before(std::uint64_t offset) noexcept;
  static constexpr std::size_t kReleaseStep = 2 * 1024 * 1024;
  const std::string& path() const { return path_; }

 private:
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t released_ = 0;  // bytes from the start whose pages were released
  std::string path_;
};

}  // namespace mplane::capture
