#include "engine/agent/packet_message.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

namespace mplane::agent {
namespace {

namespace od = simdjson::ondemand;

// "N, " for every byte value: 3 digit slots plus its length, copied 4 bytes at a time.
struct ByteText {
  std::array<char, 4> text{};
  std::uint8_t size = 0;
};

constexpr std::array<ByteText, 256> make_byte_texts() {
  std::array<ByteText, 256> table{};
  for (int v = 0; v < 256; ++v) {
    ByteText& t = table[static_cast<std::size_t>(v)];
    if (v >= 100) t.text[t.size++] = static_cast<char>('0' + v / 100);
    if (v >= 10) t.text[t.size++] = static_cast<char>('0' + v / 10 % 10);
    t.text[t.size++] = static_cast<char>('0' + v % 10);
  }
  return table;
}
constexpr std::array<ByteText, 256> kByteTexts = make_byte_texts();

void write_byte_list(json::OutBuffer& out, std::span<const std::uint8_t> data) {
  // 3 digits + ", " per byte; 4-byte copies may write one byte past a 3-digit value: +2 slack.
  char* const start = out.reserve(data.size() * 5 + 2);
  char* p = start;
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (i != 0) {
      p[0] = ',';
      p[1] = ' ';
      p += 2;
    }
    const ByteText& t = kByteTexts[data[i]];
    std::memcpy(p, t.text.data(), 4);
    p += t.size;
  }
  out.commit(static_cast<std::size_t>(p - start));
}

std::string token_text(od::value& v) {
  std::string_view raw = v.raw_json_token();
  if (raw.starts_with('[')) return "a list";
  if (raw.starts_with('{')) return "an object";
  while (!raw.empty() &&
         (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t')) {
    raw.remove_suffix(1);
  }
  constexpr std::size_t kShown = 32;
  return raw.size() > kShown ? std::string(raw.substr(0, kShown)) + "..." : std::string(raw);
}

Failure<std::string> json_error(std::string_view what, simdjson::error_code e) {
  return fail("packet message: " + std::string(what) + ": " + simdjson::error_message(e));
}

}  // namespace

bool has_trailing_content(simdjson::ondemand::document& doc) noexcept {
  // After the root value the iterator is exhausted; a location means more text follows.
  const char* rest = nullptr;
  return doc.current_location().get(rest) == simdjson::SUCCESS;
}

std::string_view to_string(PacketFormat format) noexcept {
  return format == PacketFormat::kJson ? "json" : "raw";
}

Result<PacketFormat> parse_packet_format(std::string_view text) {
  if (text == "json") return PacketFormat::kJson;
  if (text == "raw") return PacketFormat::kRaw;
  return fail("unknown packet format '" + std::string(text) + "' (json or raw)");
}

std::string_view content_type(PacketFormat format) noexcept {
  return format == PacketFormat::kJson ? "application/json" : "application/octet-stream";
}

void write_packet_json(json::OutBuffer& out, const PacketFields& p) {
  out.append(R"({"_api_version": ")");
  out.append(kApiVersion);
  out.append(R"(", "data": [)");
  write_byte_list(out, p.data);
  out.append(R"(], "interface_name": )");
  json::append_json_string(out, p.interface_name);
  out.append(R"(, "timestamp": )");
  char* digits = out.reserve(24);
  const auto [end, ec] = std::to_chars(digits, digits + 24, p.timestamp);
  out.commit(ec == std::errc{} ? static_cast<std::size_t>(end - digits) : 0);
  out.put('}');
}

void write_packet_body(json::OutBuffer& out, PacketFormat format, const PacketFields& p) {
  if (format == PacketFormat::kJson) {
    write_packet_json(out, p);
    return;
  }
  out.append(std::string_view(reinterpret_cast<const char*>(p.data.data()), p.data.size()));
}

Result<PacketFields> PacketMessageReader::parse(PacketFormat format, std::string_view body) & {
  if (format == PacketFormat::kJson) return parse_json(body);
  if (body.empty()) return fail("packet message: empty raw body");
  if (body.size() > kMaxPacketBytes) {
    return fail("packet message: raw body of " + std::to_string(body.size()) +
                " bytes (an IP packet has at most " + std::to_string(kMaxPacketBytes) + ")");
  }
  return PacketFields{{reinterpret_cast<const std::uint8_t*>(body.data()), body.size()}, {}, 0};
}

Result<PacketFields> PacketMessageReader::parse_json(std::string_view body) & {
  if (body.size() > kMaxJsonBodyBytes) {
    return fail("packet message: JSON body of " + std::to_string(body.size()) + " bytes (at most " +
                std::to_string(kMaxJsonBodyBytes) + ")");
  }
  padded_.resize(body.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(padded_.data(), body.data(), body.size());
  data_.clear();
  interface_name_.clear();
  timestamp_ = 0;
  has_data_ = false;
  od::document doc;
  if (auto e = parser_.iterate(padded_.data(), body.size(), padded_.size()).get(doc)) {
    return json_error("invalid JSON", e);
  }
  od::object object;
  if (auto e = doc.get_object().get(object)) {
    if (e == simdjson::INCORRECT_TYPE) return fail("packet message: not a JSON object");
    return json_error("invalid JSON", e);
  }
  if (auto s = read_fields(object); !s) return fail(s.error());
  if (has_trailing_content(doc)) return fail("packet message: invalid JSON: text after the object");
  if (!has_data_) return fail("packet message: no \"data\" (the packet's bytes)");
  return PacketFields{data_, interface_name_, timestamp_};
}

Status<> PacketMessageReader::read_fields(od::object& object) {
  for (auto field_result : object) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return json_error("invalid JSON", e);
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return json_error("invalid key", e);
    if (key == "data") {
      if (auto s = read_data(field.value()); !s) return s;
    } else if (key == "timestamp") {
      if (auto s = read_timestamp(field.value()); !s) return s;
    } else if (key == "interface_name") {
      std::string_view name;
      if (auto e = field.value().get_string().get(name)) {
        return json_error("\"interface_name\" is not a string", e);
      }
      interface_name_.assign(name);
    }
    // Other keys (_api_version, anything a later version adds) are skipped unread.
  }
  return Ok{};
}

Status<> PacketMessageReader::read_data(od::value value) {
  od::array items;
  if (auto e = value.get_array().get(items)) return json_error("\"data\" is not a list", e);
  data_.clear();
  std::size_t index = 0;
  for (auto item_result : items) {
    od::value item;
    if (auto e = item_result.get(item)) return json_error("invalid JSON in \"data\"", e);
    if (index == kMaxPacketBytes) {
      return fail("packet message: \"data\" has more than " + std::to_string(kMaxPacketBytes) +
                  " items (the largest IP packet)");
    }
    std::uint64_t byte = 0;
    if (item.get_uint64().get(byte) != simdjson::SUCCESS || byte > 255) {
      return fail("packet message: \"data\"[" + std::to_string(index) + "] is " + token_text(item) +
                  ", not an integer from 0 to 255");
    }
    data_.push_back(static_cast<std::uint8_t>(byte));
    ++index;
  }
  has_data_ = true;
  return Ok{};
}

Status<> PacketMessageReader::read_timestamp(od::value value) {
  std::int64_t seconds = 0;
  if (value.get_int64().get(seconds) == simdjson::SUCCESS) {
    timestamp_ = seconds;
    return Ok{};
  }
  double real = 0;
  constexpr double kLimit = 9.2e18;
  if (value.get_double().get(real) == simdjson::SUCCESS && std::isfinite(real) &&
      std::fabs(real) < kLimit) {
    timestamp_ = static_cast<std::int64_t>(real);
    return Ok{};
  }
  return fail("packet message: \"timestamp\" is not a number of seconds");
}

}  // namespace mplane::agent
