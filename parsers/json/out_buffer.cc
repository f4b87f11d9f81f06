#include "parsers/json/out_buffer.h"

#include <algorithm>

namespace mplane::json {

void OutBuffer::grow(std::size_t min_capacity) {
  std::size_t cap = std::max<std::size_t>({min_capacity, capacity_ * 2, 256});
  auto next = std::make_unique<char[]>(cap);
  if (size_) std::memcpy(next.get(), data_.get(), size_);
  data_ = std::move(next);
  capacity_ = cap;
}

namespace {

bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\' || c >= 0x80; }

char* put_u16(char* p, unsigned v) {
  static constexpr char kHex[] = "0123456789abcdef";
  *p++ = '\\';
  *p++ = 'u';
  for (int shift = 12; shift >= 0; shift -= 4) *p++ = kHex[(v >> shift) & 15];
  return p;
}

// Decodes one UTF-8 sequence at s[i]; returns the code point (U+FFFD if invalid) and advances i.
unsigned decode_utf8(std::string_view s, std::size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  unsigned cp = len == 4 ? c & 0x07u : len == 3 ? c & 0x0Fu : c & 0x1Fu;
  if (len == 1 || i + static_cast<std::size_t>(len) > s.size()) {
    ++i;
    return 0xFFFD;
  }
  for (int k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((cc & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (cc & 0x3Fu);
  }
  i += static_cast<std::size_t>(len);
  return cp;
}

char* escape_one(char* p, std::string_view s, std::size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c >= 0x80) {
    unsigned cp = decode_utf8(s, i);
    if (cp < 0x10000) return put_u16(p, cp);
    cp -= 0x10000;
    p = put_u16(p, 0xD800 + (cp >> 10));
    return put_u16(p, 0xDC00 + (cp & 0x3FF));
  }
  ++i;
  *p++ = '\\';
  switch (c) {
    case '"':
      *p++ = '"';
      return p;
    case '\\':
      *p++ = '\\';
      return p;
    case '\n':
      *p++ = 'n';
      return p;
    case '\r':
      *p++ = 'r';
      return p;
    case '\t':
      *p++ = 't';
      return p;
    case '\b':
      *p++ = 'b';
      return p;
    case '\f':
      *p++ = 'f';
      return p;
    default:
      return put_u16(p - 1, c);
  }
}

}  // namespace

void append_json_string(OutBuffer& out, std::string_view s) {
  // Worst case: every byte becomes a 6-byte escape (4-byte UTF-8 -> 12 bytes, i.e. 3 per byte).
  // Room is reserved a piece at a time, so that a large string costs its own size in the
  // buffer, not six times it.
  constexpr std::size_t kPiece = 64 * 1024;
  out.put('"');
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t piece_end = std::min(s.size(), i + kPiece);
    // + 24: the last escape may run up to 3 bytes past the piece (a UTF-8 sequence).
    char* const start = out.reserve((piece_end - i) * 6 + 24);
    char* p = start;
    while (i < piece_end) {
      std::size_t run = i;
      while (run < piece_end && !needs_escape(static_cast<unsigned char>(s[run]))) ++run;
      std::memcpy(p, s.data() + i, run - i);
      p += run - i;
      i = run;
      if (i < piece_end) p = escape_one(p, s, i);
    }
    out.commit(static_cast<std::size_t>(p - start));
  }
  out.put('"');
}

}  // namespace mplane::json
