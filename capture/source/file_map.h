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
  const std::string& path() const { return path_; }

 private:
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::string path_;
};

}  // namespace mplane::capture
