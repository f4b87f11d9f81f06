// The body of a packet message (WIRE.md §1.5): one IP packet, as the original's JSON or raw.
//
// JSON, what the original agent and router send and accept (content type application/json):
//   {"_api_version": "1.2.15", "data": [69, 0, ...], "interface_name": "tun0", "timestamp":
//   1795319978}
// keys sorted, Python's json.dumps separators, `data` the whole packet as decimal integers 0..255,
// `timestamp` integer seconds. write_packet_json() writes exactly that, byte for byte.
// Raw, between our own agents and router only: the body is the packet's bytes.
//
// Reading accepts the keys in any order, ignores unknown keys, takes `timestamp` as an integer or
// a float (the original's message template has one) and requires only `data`. Hostile bodies get
// an error naming what is wrong, never a crash: bad JSON, more than kMaxPacketBytes items, an
// item that is not an integer 0..255, a body over kMaxJsonBodyBytes.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/base/result.h"
#include "parsers/json/out_buffer.h"

namespace mplane::agent {

inline constexpr std::string_view kApiVersion = "1.2.15";
// The largest IP packet (IPv4 total length, and the largest tun MTU).
inline constexpr std::size_t kMaxPacketBytes = 65535;
// A JSON packet body is at most ~5 bytes per packet byte; this leaves room for whitespace.
inline constexpr std::size_t kMaxJsonBodyBytes = 1U << 20;

enum class PacketFormat : std::uint8_t { kJson, kRaw };
// "json" / "raw" (the --format values) and back.
std::string_view to_string(PacketFormat format) noexcept;
[[nodiscard]] Result<PacketFormat> parse_packet_format(std::string_view text);
// The content type to publish with: "application/json" (mandatory for the original agent, §4.2)
// or "application/octet-stream".
std::string_view content_type(PacketFormat format) noexcept;

// One packet with the fields the JSON body carries.
struct PacketFields {
  std::span<const std::uint8_t> data;
  std::string_view interface_name;  // the original uses the tun's name ("tun0")
  std::int64_t timestamp = 0;       // seconds since the epoch
};

// Appends the original's JSON body for `p` to `out`. One reservation for the byte list, no
// allocation per byte. The interface name is escaped as Python's json.dumps does.
void write_packet_json(json::OutBuffer& out, const PacketFields& p);
// Appends the body in `format` (raw: the packet bytes only).
void write_packet_body(json::OutBuffer& out, PacketFormat format, const PacketFields& p);

// Whether text follows the root value that was just read (simdjson 3.0 has no at_end()).
bool has_trailing_content(simdjson::ondemand::document& doc) noexcept;

// Reads packet bodies. One reader per thread; reuses its buffers, so steady-state reading does
// not allocate.
class PacketMessageReader {
 public:
  // Parses a JSON body. The returned fields borrow this reader: valid until the next call.
  // interface_name is empty and timestamp 0 when absent.
  [[nodiscard]] Result<PacketFields> parse_json(std::string_view body) &;
  Result<PacketFields> parse_json(std::string_view body) && = delete;
  // JSON or raw. Raw: `data` is `body` itself (borrowed from the caller); errors for an empty
  // body or one over kMaxPacketBytes.
  [[nodiscard]] Result<PacketFields> parse(PacketFormat format, std::string_view body) &;
  Result<PacketFields> parse(PacketFormat format, std::string_view body) && = delete;

 private:
  Status<> read_fields(simdjson::ondemand::object& object);
  Status<> read_data(simdjson::ondemand::value value);
  Status<> read_timestamp(simdjson::ondemand::value value);

  simdjson::ondemand::parser parser_;
  std::vector<char> padded_;  // the body copied with simdjson's padding after it
  std::vector<std::uint8_t> data_;
  std::string interface_name_;
  std::int64_t timestamp_ = 0;
  bool has_data_ = false;
};

}  // namespace mplane::agent
