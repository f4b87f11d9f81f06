#include "capture/source/mapped_pcapng.h"

#include <algorithm>
#include <cstring>

namespace mplane::capture {
namespace {

constexpr std::uint32_t kSectionHeader = 0x0A0D0D0A;  // the same in both byte orders
constexpr std::uint32_t kInterface = 1, kObsoletePacket = 2, kSimplePacket = 3, kEnhancedPacket = 6;
constexpr std::uint32_t kByteOrderMagic = 0x1A2B3C4D;
constexpr std::uint32_t kMaxBlock = 16 * 1024 * 1024;  // libpcap's limit
constexpr std::uint16_t kOptEnd = 0, kOptTsResol = 9, kOptTsOffset = 14;

std::uint32_t raw32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

Result<std::unique_ptr<MappedPcapng>> MappedPcapng::from(FileMap& map) {
  auto m = over(map.bytes(), map.path());
  if (m && *m) (*m)->map_ = std::move(map);
  return m;
}

Result<std::unique_ptr<MappedPcapng>> MappedPcapng::over(std::span<const std::uint8_t> bytes,
                                                         std::string name) {
  if (bytes.size() < 28 || raw32(bytes.data()) != kSectionHeader) {
    return std::unique_ptr<MappedPcapng>();
  }
  const std::uint32_t order = raw32(bytes.data() + 8);
  if (order != kByteOrderMagic && order != __builtin_bswap32(kByteOrderMagic)) {
    return std::unique_ptr<MappedPcapng>();
  }
  std::unique_ptr<MappedPcapng> m(new MappedPcapng);
  m->bytes_ = bytes;
  m->path_ = std::move(name);
  // Up to the first interface: the link type of every frame.
  Frame f;
  while (m->link_type_ < 0) {
    switch (m->step(f)) {
      case Step::kOther:
        continue;
      case Step::kBroken:
        return fail(m->error_);
      case Step::kFrame:  // (packet() refuses a frame before an interface)
      case Step::kEnd:
        return fail(m->path_ + ": no interface description block");
    }
  }
  return m;
}

std::uint16_t MappedPcapng::u16(std::uint64_t at) const {
  std::uint16_t v;
  std::memcpy(&v, bytes_.data() + at, 2);
  return swapped_ ? __builtin_bswap16(v) : v;
}

std::uint32_t MappedPcapng::u32(std::uint64_t at) const {
  const std::uint32_t v = raw32(bytes_.data() + at);
  return swapped_ ? __builtin_bswap32(v) : v;
}

bool MappedPcapng::broken(const std::string& why) {
  error_ = path_ + ": " + why;
  return false;
}

MappedPcapng::Step MappedPcapng::broken_step(const std::string& why) {
  broken(why);
  return Step::kBroken;
}

bool MappedPcapng::next(Frame& out) {
  for (;;) {
    switch (step(out)) {
      case Step::kFrame:
        return true;
      case Step::kOther:
        continue;
      case Step::kEnd:
      case Step::kBroken:
        return false;
    }
  }
}

// One block: its lengths checked (both copies), then read by kind.
MappedPcapng::Step MappedPcapng::step(Frame& out) {
  if (!error_.empty()) return Step::kBroken;
  const std::uint64_t at = offset_, left = bytes_.size() - at;
  if (left == 0) return Step::kEnd;
  auto where = [at] { return "block at byte " + std::to_string(at); };  // errors only
  if (left < 12) return broken_step("truncated " + where());
  // A section header's type reads the same in both orders; its magic sets the section's order.
  if (raw32(bytes_.data() + at) == kSectionHeader) {
    swapped_ = raw32(bytes_.data() + at + 8) != kByteOrderMagic;
  }
  const std::uint32_t type = u32(at);
  const std::uint32_t length = u32(at + 4);
  if (length < 12 || length % 4 != 0 || length > left || length > kMaxBlock) {
    return broken_step(where() + " has a bad length (" + std::to_string(length) + ")");
  }
  if (u32(at + length - 4) != length) {
    return broken_step(where() + ": its two lengths differ");
  }
  offset_ = at + length;
  switch (type) {
    case kSectionHeader:
      return section_header(at, length) ? Step::kOther : Step::kBroken;
    case kInterface:
      return interface(at, length) ? Step::kOther : Step::kBroken;
    case kEnhancedPacket:
    case kSimplePacket:
    case kObsoletePacket:
      return packet(type, at, length, out) ? Step::kFrame : Step::kBroken;
    default:
      return Step::kOther;  // statistics, name resolution, custom, …
  }
}

bool MappedPcapng::section_header(std::uint64_t at, std::uint32_t length) {
  if (length < 28) return broken("section header at byte " + std::to_string(at) + " is short");
  if (u16(at + 12) != 1) {
    return broken("pcapng version " + std::to_string(u16(at + 12)) + " is not supported");
  }
  interfaces_.clear();  // a new section describes its interfaces anew
  return true;
}

bool MappedPcapng::interface(std::uint64_t at, std::uint32_t length) {
  auto where = [at] { return "interface description at byte " + std::to_string(at); };
  if (length < 20) return broken(where() + " is short");
  Interface i;
  const int link = u16(at + 8);
  i.snaplen = u32(at + 12);
  for (std::uint64_t o = at + 16; o + 4 <= at + length - 4;) {
    const std::uint16_t code = u16(o), len = u16(o + 2);
    if (code == kOptEnd) break;
    if (o + 4 + len > at + length - 4) return broken(where() + ": an option runs past the block");
    if (code == kOptTsResol && len >= 1) {
      const std::uint8_t v = bytes_[o + 4];
      const unsigned exponent = v & 0x7f;
      if ((v & 0x80) ? exponent > 63 : exponent > 19) {
        return broken(where() + ": timestamp resolution out of range");
      }
      i.units_per_second = 1;
      for (unsigned e = 0; e < exponent; ++e) i.units_per_second *= (v & 0x80) ? 2 : 10;
    }
    if (code == kOptTsOffset && len >= 8) {  // a 64-bit value: which half first is the order
      const std::uint64_t first = u32(o + 4), second = u32(o + 8);
      i.offset_seconds =
          static_cast<std::int64_t>(swapped_ ? first << 32 | second : second << 32 | first);
    }
    o += 4 + (len + 3u) / 4 * 4;
  }
  if (link_type_ < 0) {
    link_type_ = link;
    snaplen_ = static_cast<int>(i.snaplen);
  } else if (link != link_type_) {
    return broken(where() + " has link type " + std::to_string(link) + ", the first interface " +
                  std::to_string(link_type_) + " (one link type per file)");
  }
  interfaces_.push_back(i);
  return true;
}

bool MappedPcapng::packet(std::uint32_t type, std::uint64_t at, std::uint32_t length, Frame& out) {
  auto where = [at] { return "packet block at byte " + std::to_string(at); };
  std::uint32_t iface = 0, caplen = 0, wire = 0;
  std::uint64_t units = 0, data = 0;
  if (type == kSimplePacket) {  // no interface, no timestamp: interface 0, time 0 (libpcap)
    if (length < 16) return broken(where() + " is short");
    wire = u32(at + 8);
    caplen = std::min(wire, length - 16);
    data = at + 12;
  } else {
    if (length < 32) return broken(where() + " is short");
    iface = type == kEnhancedPacket ? u32(at + 8) : u16(at + 8);
    units = std::uint64_t{u32(at + 12)} << 32 | u32(at + 16);
    caplen = u32(at + 20);
    wire = u32(at + 24);
    data = at + 28;
    if (caplen > length - 32) return broken(where() + ": the captured length runs past it");
  }
  if (interfaces_.empty()) return broken(where() + " comes before any interface description");
  if (iface >= interfaces_.size()) {
    return broken(where() + " names interface " + std::to_string(iface) + ", not described");
  }
  const Interface& i = interfaces_[iface];
  if (type == kSimplePacket && i.snaplen > 0) caplen = std::min(caplen, i.snaplen);
  out.ts_us = type == kSimplePacket ? 0 : micros(i, units);
  out.bytes = bytes_.subspan(data, caplen);
  out.wire_len = std::max(wire, caplen);
  return true;
}

// As libpcap: whole seconds plus the fraction scaled to microseconds, truncated.
std::int64_t MappedPcapng::micros(const Interface& i, std::uint64_t units) const {
  const std::uint64_t per = i.units_per_second;
  const std::uint64_t seconds = units / per, fraction = units % per;
  const auto us =
      static_cast<std::uint64_t>(static_cast<unsigned __int128>(fraction) * 1'000'000 / per);
  return (static_cast<std::int64_t>(seconds) + i.offset_seconds) * 1'000'000 +
         static_cast<std::int64_t>(us);
}

}  // namespace mplane::capture
