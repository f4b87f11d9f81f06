// A growable output byte buffer for the JSON writers (STYLE C5).
//
// Writers reserve room, write through the returned pointer, and commit what they wrote: no
// zero-filling, no per-append bounds checks in the hot loops. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace mplane::json {

class OutBuffer {
 public:
  OutBuffer() = default;
  explicit OutBuffer(std::size_t capacity) { grow(capacity); }

  // Room for at least n more bytes; write at the returned pointer, then commit(written).
  char* reserve(std::size_t n) {
    if (capacity_ - size_ < n) grow(size_ + n);
    return data_.get() + size_;
  }
  void commit(std::size_t n) noexcept { size_ += n; }

  void append(std::string_view s) {
    std::memcpy(reserve(s.size()), s.data(), s.size());
    size_ += s.size();
  }
  void put(char c) {
    *reserve(1) = c;
    ++size_;
  }

  std::string_view view() const noexcept { return {data_.get(), size_}; }
  std::size_t size() const noexcept { return size_; }
  void clear() noexcept { size_ = 0; }
  std::string str() const { return std::string(view()); }

 private:
  void grow(std::size_t min_capacity);

  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

// Appends `s` as a JSON string literal the way Python's json.dumps(ensure_ascii=True) writes it:
// `"` and `\` escaped, \n \r \t \b \f by name, other control characters and every non-ASCII
// code point as \uXXXX (lowercase hex, surrogate pairs above U+FFFF). Invalid UTF-8 bytes are
// written as U+FFFD.
void append_json_string(OutBuffer& out, std::string_view s);

}  // namespace mplane::json
