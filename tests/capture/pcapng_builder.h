// Builds pcapng files block by block, in either byte order (tests of the pcapng reader and of
// the shards' split).
#pragma once

#include <cstdint>
#include <string>

namespace mplane::test {

// A pcapng file, written in either byte order.
class PcapngBuilder {
 public:
  explicit PcapngBuilder(bool big_endian) : big_(big_endian) {}
  PcapngBuilder& section() {
    std::string body;
    put32(body, 0x1A2B3C4D);
    put16(body, 1);
    put16(body, 0);
    put32(body, 0xffffffff);  // section length unknown
    put32(body, 0xffffffff);
    return block(0x0A0D0D0A, body);
  }
  // `tsresol` < 0: none; `tsoffset` 0: none.
  PcapngBuilder& interface(std::uint16_t link, int tsresol = -1, std::int64_t tsoffset = 0) {
    std::string body;
    put16(body, link);
    put16(body, 0);
    put32(body, 65535);
    if (tsresol >= 0) {
      put16(body, 9);
      put16(body, 1);
      body += static_cast<char>(tsresol);
      body.append(3, '\0');
    }
    if (tsoffset != 0) {
      put16(body, 14);
      put16(body, 8);
      const auto v = static_cast<std::uint64_t>(tsoffset);
      put32(body, static_cast<std::uint32_t>(big_ ? v >> 32 : v));
      put32(body, static_cast<std::uint32_t>(big_ ? v : v >> 32));
    }
    put16(body, 0);
    put16(body, 0);
    return block(1, body);
  }
  PcapngBuilder& enhanced(std::uint32_t iface, std::uint64_t units, const std::string& data,
                          std::uint32_t wire = 0) {
    std::string body;
    put32(body, iface);
    put32(body, static_cast<std::uint32_t>(units >> 32));
    put32(body, static_cast<std::uint32_t>(units));
    put32(body, static_cast<std::uint32_t>(data.size()));
    put32(body, wire ? wire : static_cast<std::uint32_t>(data.size()));
    body += padded(data);
    return block(6, body);
  }
  PcapngBuilder& simple(const std::string& data) {
    std::string body;
    put32(body, static_cast<std::uint32_t>(data.size()));
    body += padded(data);
    return block(3, body);
  }
  PcapngBuilder& obsolete(std::uint16_t iface, std::uint64_t units, const std::string& data) {
    std::string body;
    put16(body, iface);
    put16(body, 0);
    put32(body, static_cast<std::uint32_t>(units >> 32));
    put32(body, static_cast<std::uint32_t>(units));
    put32(body, static_cast<std::uint32_t>(data.size()));
    put32(body, static_cast<std::uint32_t>(data.size()));
    body += padded(data);
    return block(2, body);
  }
  PcapngBuilder& other(std::uint32_t type) { return block(type, std::string(8, 'o')); }
  PcapngBuilder& raw(const std::string& bytes) {
    out_ += bytes;
    return *this;
  }
  const std::string& bytes() const { return out_; }

 private:
  static std::string padded(std::string s) {
    s.append((4 - s.size() % 4) % 4, '\0');
    return s;
  }
  PcapngBuilder& block(std::uint32_t type, const std::string& body) {
    const auto length = static_cast<std::uint32_t>(12 + body.size());
    put32(out_, type);
    put32(out_, length);
    out_ += body;
    put32(out_, length);
    return *this;
  }
  void put16(std::string& o, std::uint16_t v) {
    if (big_) v = __builtin_bswap16(v);
    o.append(reinterpret_cast<const char*>(&v), 2);
  }
  void put32(std::string& o, std::uint32_t v) {
    if (big_) v = __builtin_bswap32(v);
    o.append(reinterpret_cast<const char*>(&v), 4);
  }
  bool big_;
  std::string out_;
};

}  // namespace mplane::test
