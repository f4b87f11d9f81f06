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

// As libpcap: whole seconds plus the fraction scaled to microseconds, truncated; but
// kBadTimestamp out of range, where libpcap wraps around (any 64-bit count of units is legal
// pcapng: at 1 unit per second, seconds x 10^6 overflows int64 from 2^63 / 10^6 seconds on).
std::int64_t micros(const ReadState::Interface& i, std::uint64_t units) {
  const std::uint64_t per = i.units_per_second;
  const std::uint64_t seconds = units / per, fraction = units % per;
  const auto us =
      static_cast<std::uint64_t>(static_cast<unsigned __int128>(fraction) * 1'000'000 / per);
  return checked_timestamp(__int128{seconds} + i.offset_seconds, us);
}

}  // namespace

struct MappedPcapng::Block {
  ReadState& state;
  std::uint64_t at;
  std::uint32_t length;
  std::string& error;
  const std::string& path;
  Record fail(const std::string& kind, const std::string& why) const {
    error = path + ": " + kind + " at byte " + std::to_string(at) + why;
    return Record::kBroken;
  }
};

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
  // The header blocks, up to the first packet: the interfaces, the link type of every frame.
  Frame f;
  for (std::uint64_t at = 0, next = 0;; at = next) {
    const Record r = m->record_at(m->state_, at, f, next, m->error_);
    if (r == Record::kBroken) return fail(m->error_);
    if (r == Record::kFrame || r == Record::kEnd) {  // a frame changes no state
      if (m->state_.link_type < 0) return fail(m->path_ + ": no interface description block");
      m->first_record_ = at;
      break;
    }
  }
  m->first_state_ = m->state_;
  m->offset_ = m->first_record_;
  m->snaplen_ =
      m->state_.interfaces.empty() ? 0 : static_cast<int>(m->state_.interfaces[0].snaplen);
  return m;
}

std::uint16_t MappedPcapng::u16(bool swapped, std::uint64_t at) const {
  std::uint16_t v;
  std::memcpy(&v, bytes_.data() + at, 2);
  return swapped ? __builtin_bswap16(v) : v;
}

std::uint32_t MappedPcapng::u32(bool swapped, std::uint64_t at) const {
  const std::uint32_t v = raw32(bytes_.data() + at);
  return swapped ? __builtin_bswap32(v) : v;
}

bool MappedPcapng::next(Frame& out) {
  for (std::uint64_t next = 0; error_.empty(); offset_ = next) {
    switch (record_at(state_, offset_, out, next, error_)) {
      case Record::kFrame:
        offset_ = next;
        return true;
      case Record::kSkip:
      case Record::kStructural:
        continue;
      case Record::kEnd:
      case Record::kBroken:
        return false;
    }
  }
  return false;
}

// One block: its lengths checked (both copies), then read by kind.
MappedPcapng::Record MappedPcapng::record_at(ReadState& state, std::uint64_t at, Frame& out,
                                             std::uint64_t& next, std::string& error) const {
  if (at >= bytes_.size()) return Record::kEnd;
  const std::uint64_t left = bytes_.size() - at;
  Block b{state, at, 0, error, path_};
  if (left < 12) return b.fail("truncated block", "");
  // A section header's type reads the same in both orders; its magic sets the section's order.
  const bool section = raw32(bytes_.data() + at) == kSectionHeader;
  const bool swapped = section ? raw32(bytes_.data() + at + 8) != kByteOrderMagic : state.swapped;
  const std::uint32_t type = u32(swapped, at);
  b.length = u32(swapped, at + 4);
  if (b.length < 12 || b.length % 4 != 0 || b.length > left || b.length > kMaxBlock) {
    return b.fail("block", " has a bad length (" + std::to_string(b.length) + ")");
  }
  if (u32(swapped, at + b.length - 4) != b.length) {
    return b.fail("block", ": its two lengths differ");
  }
  next = at + b.length;
  switch (type) {
    case kSectionHeader:
      state.swapped = swapped;
      return section_header(b);
    case kInterface:
      return interface(b);
    case kEnhancedPacket:
    case kSimplePacket:
    case kObsoletePacket:
      return packet(b, type, out);
    default:
      return Record::kSkip;  // statistics, name resolution, custom, …
  }
}

MappedPcapng::Record MappedPcapng::section_header(const Block& b) const {
  if (b.length < 28) return b.fail("section header", " is short");
  const std::uint16_t major = u16(b.state.swapped, b.at + 12);
  if (major != 1) {
    return b.fail("section header", ": pcapng version " + std::to_string(major) + " unsupported");
  }
  b.state.interfaces.clear();  // a new section describes its interfaces anew
  return Record::kStructural;
}

MappedPcapng::Record MappedPcapng::interface(const Block& b) const {
  const bool sw = b.state.swapped;
  const std::uint64_t end = b.at + b.length - 4;
  if (b.length < 20) return b.fail("interface description", " is short");
  ReadState::Interface i;
  const int link = u16(sw, b.at + 8);
  i.snaplen = u32(sw, b.at + 12);
  for (std::uint64_t o = b.at + 16; o + 4 <= end;) {
    const std::uint16_t code = u16(sw, o), len = u16(sw, o + 2);
    if (code == kOptEnd) break;
    if (o + 4 + len > end) return b.fail("interface description", ": an option runs past it");
    if (code == kOptTsResol && len >= 1) {
      const std::uint8_t v = bytes_[o + 4];
      const unsigned exponent = v & 0x7f;
      if ((v & 0x80) ? exponent > 63 : exponent > 19) {
        return b.fail("interface description", ": timestamp resolution out of range");
      }
      i.units_per_second = 1;
      for (unsigned e = 0; e < exponent; ++e) i.units_per_second *= (v & 0x80) ? 2 : 10;
    }
    if (code == kOptTsOffset && len >= 8) {  // a 64-bit value: which half first is the order
      const std::uint64_t first = u32(sw, o + 4), second = u32(sw, o + 8);
      i.offset_seconds =
          static_cast<std::int64_t>(sw ? first << 32 | second : second << 32 | first);
    }
    o += 4 + (len + 3u) / 4 * 4;
  }
  if (b.state.link_type < 0) {
    b.state.link_type = link;
  } else if (link != b.state.link_type) {
    return b.fail("interface description",
                  " has link type " + std::to_string(link) + ", the first interface " +
                      std::to_string(b.state.link_type) + " (one link type per file)");
  }
  b.state.interfaces.push_back(i);
  return Record::kStructural;
}

MappedPcapng::Record MappedPcapng::packet(const Block& b, std::uint32_t type, Frame& out) const {
  const bool sw = b.state.swapped;
  std::uint32_t iface = 0, caplen = 0, wire = 0;
  std::uint64_t units = 0, data = 0;
  if (type == kSimplePacket) {  // no interface, no timestamp: interface 0, time 0 (libpcap)
    if (b.length < 16) return b.fail("packet block", " is short");
    wire = u32(sw, b.at + 8);
    caplen = std::min(wire, b.length - 16);
    data = b.at + 12;
  } else {
    if (b.length < 32) return b.fail("packet block", " is short");
    iface = type == kEnhancedPacket ? u32(sw, b.at + 8) : u16(sw, b.at + 8);
    units = std::uint64_t{u32(sw, b.at + 12)} << 32 | u32(sw, b.at + 16);
    caplen = u32(sw, b.at + 20);
    wire = u32(sw, b.at + 24);
    data = b.at + 28;
    if (caplen > b.length - 32) return b.fail("packet block", ": the captured length runs past it");
  }
  if (b.state.interfaces.empty()) {
    return b.fail("packet block", " comes before any interface description");
  }
  if (iface >= b.state.interfaces.size()) {
    return b.fail("packet block", " names interface " + std::to_string(iface) + ", not described");
  }
  const ReadState::Interface& i = b.state.interfaces[iface];
  if (type == kSimplePacket && i.snaplen > 0) caplen = std::min(caplen, i.snaplen);
  out.ts_us = type == kSimplePacket ? 0 : micros(i, units);
  out.bytes = bytes_.subspan(data, caplen);
  out.wire_len = std::max(wire, caplen);
  return Record::kFrame;
}

bool MappedPcapng::plausible_records_at(std::uint64_t offset, int count) const {
  const bool sw = first_state_.swapped;
  for (int i = 0; i < count && offset != bytes_.size(); ++i) {
    if (offset > bytes_.size() || bytes_.size() - offset < 12) return false;
    const std::uint32_t length = u32(sw, offset + 4);
    if (length < 12 || length % 4 != 0 || length > bytes_.size() - offset ||
        u32(sw, offset + length - 4) != length) {
      return false;
    }
    offset += length;
  }
  return true;
}

}  // namespace mplane::capture
