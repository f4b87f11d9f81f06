// IPv4/IPv6 address text (PROTOCOL.md §2.2), parsed the way Python's `ipaddress` module (which
// the RI calls) parses it, and written in RFC 5952 form by a formatter of our own: inet_ntop is
// slower, and its output for IPv4-compatible addresses (`::1.2.3.4`) differs from the RI's.
//
// Deliberate differences from Python: no scope ids (`fe80::1%eth0`, Python >= 3.9 only; an
// Address has nowhere to keep one), no netmask prefixes (`/255.255.255.0`), a prefix length
// has at most 3 digits. Leading-zero IPv4 octets (`010.0.0.1`) are rejected, as Python >= 3.9.5
// does: older versions read them as decimal, libc as octal.
#include <bit>
#include <cstring>
#include <string>

#include "parsers/mplane/primitive.h"

namespace mplane::model {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// Lookup tables: branches on random hex digits and octet sizes mispredict (hot path).
struct HexTable {
  std::int8_t value[256];
  constexpr HexTable() : value() {
    for (int c = 0; c < 256; ++c) {
      value[c] = c >= '0' && c <= '9'   ? static_cast<std::int8_t>(c - '0')
                 : c >= 'a' && c <= 'f' ? static_cast<std::int8_t>(c - 'a' + 10)
                 : c >= 'A' && c <= 'F' ? static_cast<std::int8_t>(c - 'A' + 10)
                                        : std::int8_t{-1};
    }
  }
};
constexpr HexTable kHex;

struct OctetTable {
  char text[256][4];  // up to 3 digits, then the length
  constexpr OctetTable() : text() {
    for (int v = 0; v < 256; ++v) {
      int n = 0;
      if (v >= 100) text[v][n++] = static_cast<char>('0' + v / 100);
      if (v >= 10) text[v][n++] = static_cast<char>('0' + v / 10 % 10);
      text[v][n++] = static_cast<char>('0' + v % 10);
      text[v][3] = static_cast<char>(n);
    }
  }
};
constexpr OctetTable kOctets;

int hex_value(char c) noexcept { return kHex.value[static_cast<unsigned char>(c)]; }

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Dotted quad: four octets of 1-3 digits, no leading zero, at most 255.
bool parse_ipv4(std::string_view s, std::uint8_t* out) noexcept {
  const char* p = s.data();
  const char* e = p + s.size();
  for (int i = 0; i < 4; ++i) {
    if (i != 0 && (p == e || *p++ != '.')) return false;
    const char* first = p;
    unsigned v = 0;
    for (; p != e && p - first < 3 && is_digit(*p); ++p)
      v = v * 10 + static_cast<unsigned>(*p - '0');
    if (p == first || (p - first > 1 && *first == '0') || v > 255) return false;
    out[i] = static_cast<std::uint8_t>(v);
  }
  return p == e;
}

// One group of 1-4 hex digits at `p`; false if there is none.
bool parse_hextet(const char*& p, const char* e, unsigned& out) noexcept {
  const char* first = p;
  unsigned v = 0;
  for (int h; p != e && p - first < 4 && (h = hex_value(*p)) >= 0; ++p) {
    v = v * 16 + static_cast<unsigned>(h);
  }
  out = v;
  return p != first;
}

// Groups and at most one `::` (standing for at least one zero group), an optional dotted
// IPv4 tail as the last two groups. This is what Python's split-on-colons algorithm accepts.
struct Ipv6Groups {
  std::uint16_t words[8] = {};
  int count = 0;
  int gap = -1;  // index where `::` is, if any
};

bool parse_ipv4_tail(const char* first, const char* e, Ipv6Groups& g) noexcept {
  std::uint8_t v4[4];
  if (g.count > 6 ||
      !parse_ipv4(std::string_view(first, static_cast<std::size_t>(e - first)), v4)) {
    return false;
  }
  g.words[g.count++] = static_cast<std::uint16_t>(v4[0] << 8 | v4[1]);
  g.words[g.count++] = static_cast<std::uint16_t>(v4[2] << 8 | v4[3]);
  return true;
}

bool scan_ipv6(const char* p, const char* e, Ipv6Groups& g) noexcept {
  if (e - p >= 2 && p[0] == ':' && p[1] == ':') {
    g.gap = 0;
    p += 2;
    if (p == e) return true;
  }
  for (;;) {
    const char* first = p;
    unsigned word = 0;
    if (!parse_hextet(p, e, word)) return false;
    if (p != e && *p == '.') return parse_ipv4_tail(first, e, g);
    if (g.count == 8) return false;
    g.words[g.count++] = static_cast<std::uint16_t>(word);
    if (p == e) return true;
    if (*p++ != ':' || p == e) return false;  // no trailing single `:`
    if (*p != ':') continue;
    if (g.gap >= 0) return false;  // at most one `::`
    g.gap = g.count;
    if (++p == e) return true;
  }
}

bool parse_ipv6(std::string_view s, std::uint8_t* out) noexcept {
  Ipv6Groups g;
  if (!scan_ipv6(s.data(), s.data() + s.size(), g)) return false;
  if (g.gap < 0 ? g.count != 8 : g.count > 7) return false;
  std::uint16_t words[8] = {};
  int tail = g.gap < 0 ? 0 : g.count - g.gap;  // groups after `::` go to the end
  for (int i = 0; i < g.count - tail; ++i) words[i] = g.words[i];
  for (int i = 0; i < tail; ++i) words[8 - tail + i] = g.words[g.gap + i];
  for (std::size_t i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<std::uint8_t>(words[i] >> 8);
    out[2 * i + 1] = static_cast<std::uint8_t>(words[i]);
  }
  return true;
}

bool parse_plain(std::string_view s, Address& a) noexcept {
  a.family = 4;
  a.prefix = 32;
  if (parse_ipv4(s, a.bytes)) return true;
  a.family = 6;
  a.prefix = 128;
  return parse_ipv6(s, a.bytes);
}

// True if the bits of `bytes` from bit `from` on are all zero (`total` bits in all).
bool low_bits_zero(const std::uint8_t* bytes, unsigned from, unsigned total) noexcept {
  for (unsigned bit = from; bit < total; ++bit) {
    if (bytes[bit / 8] & (0x80u >> (bit % 8))) return false;
  }
  return true;
}

// `LEN` of `ADDR/LEN`: 1-3 decimal digits, at most `max`.
bool parse_prefix_len(std::string_view s, unsigned max, std::uint8_t& out) noexcept {
  if (s.empty() || s.size() > 3) return false;
  unsigned v = 0;
  for (char c : s) {
    if (!is_digit(c)) return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > max) return false;
  out = static_cast<std::uint8_t>(v);
  return true;
}

std::string quoted(std::string_view text, const char* what) {
  std::string e = "'";
  e.append(text).append("' ").append(what);
  return e;
}

Result<Address> parse_network(std::string_view text, std::size_t slash) {
  Address a;
  if (!parse_plain(text.substr(0, slash), a)) {
    return fail(quoted(text, "does not appear to be an IPv4 or IPv6 network"));
  }
  unsigned total = a.family == 4 ? 32 : 128;
  if (!parse_prefix_len(text.substr(slash + 1), total, a.prefix)) {
    return fail(quoted(text, "does not appear to be an IPv4 or IPv6 network"));
  }
  if (!low_bits_zero(a.bytes, a.prefix, total)) return fail(quoted(text, "has host bits set"));
  return a;
}

char* write_octet(char* out, std::uint8_t v) noexcept {
  std::memcpy(out, kOctets.text[v], 3);  // up to 2 bytes past the octet: `out` has room
  return out + kOctets.text[v][3];
}

char* write_ipv4(char* out, const std::uint8_t* b) noexcept {
  for (int i = 0; i < 4; ++i) {
    if (i != 0) *out++ = '.';
    out = write_octet(out, b[i]);
  }
  return out;
}

char* write_hextet(char* out, std::uint16_t w) noexcept {
  int digits = w == 0 ? 1 : (std::bit_width(w) + 3) / 4;  // no leading zeros
  char text[8] = {kHexDigits[w >> 12], kHexDigits[(w >> 8) & 0xf], kHexDigits[(w >> 4) & 0xf],
                  kHexDigits[w & 0xf]};
  std::memcpy(out, text + 4 - digits, 4);  // up to 3 bytes past the group: `out` has room
  return out + digits;
}

// RFC 5952 §4.2: the longest run of two or more zero groups, the first one on ties.
void longest_zero_run(const std::uint16_t* w, int& best, int& best_len) noexcept {
  best = -1;
  best_len = 1;
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && w[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j == i ? i + 1 : j;
  }
}

bool is_ipv4_mapped(const std::uint8_t* b) noexcept {
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(b, kMapped, sizeof kMapped) == 0;
}

char* write_ipv6(char* out, const std::uint8_t* b) noexcept {
  if (is_ipv4_mapped(b)) {           // RFC 5952 §5; glibc and Python >= 3.13 agree
    std::memcpy(out, "::ffff:", 7);  // NOLINT(bugprone-not-null-terminated-result): a prefix
    return write_ipv4(out + 7, b + 12);
  }
  std::uint16_t w[8];
  for (std::size_t i = 0; i < 8; ++i)
    w[i] = static_cast<std::uint16_t>(b[2 * i] << 8 | b[2 * i + 1]);
  int run = 0;
  int run_len = 0;
  longest_zero_run(w, run, run_len);
  for (int i = 0; i < 8; ++i) {
    if (i == run) {
      *out++ = ':';
      *out++ = ':';
      i += run_len - 1;
      continue;
    }
    if (i != 0 && i != run + run_len) *out++ = ':';
    out = write_hextet(out, w[i]);
  }
  return out;
}

}  // namespace

bool Address::contains(const Address& a) const noexcept {
  if (a.family != family || a.prefix < prefix) return false;
  unsigned whole = prefix / 8u;
  if (std::memcmp(bytes, a.bytes, whole) != 0) return false;
  unsigned rest = prefix % 8u;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xff00u >> rest);
  return ((bytes[whole] ^ a.bytes[whole]) & mask) == 0;
}

bool operator==(const Address& a, const Address& b) noexcept {
  return a.family == b.family && a.prefix == b.prefix &&
         std::memcmp(a.bytes, b.bytes, a.family == 4 ? 4 : 16) == 0;
}

Result<Address> parse_address(std::string_view text, bool allow_prefix) {
  std::size_t slash = allow_prefix ? text.find('/') : std::string_view::npos;
  if (slash != std::string_view::npos) return parse_network(text, slash);
  Address a;
  if (!parse_plain(text, a))
    return fail(quoted(text, "does not appear to be an IPv4 or IPv6 address"));
  return a;
}

std::size_t format_address(char* out, const Address& a) noexcept {
  char* p = a.family == 4 ? write_ipv4(out, a.bytes) : write_ipv6(out, a.bytes);
  if (a.has_prefix()) {
    *p++ = '/';
    p = write_octet(p, a.prefix);
  }
  return static_cast<std::size_t>(p - out);
}

}  // namespace mplane::model
