#include "engine/agent/control_messages.h"

#include <simdjson.h>

#include "engine/agent/packet_message.h"

namespace mplane::agent {
namespace {

namespace od = simdjson::ondemand;

constexpr std::size_t kMaxControlBodyBytes = std::size_t{64} * 1024;

// Writes `"key": ` preceded by ", " unless it is the first member.
void key(json::OutBuffer& out, std::string_view k, bool first = false) {
  if (!first) out.append(", ");
  json::append_json_string(out, k);
  out.append(": ");
}

void string_member(json::OutBuffer& out, std::string_view k, std::string_view v) {
  key(out, k);
  json::append_json_string(out, v);
}

void null_member(json::OutBuffer& out, std::string_view k) {
  key(out, k);
  out.append("null");
}

void api_version(json::OutBuffer& out) {
  out.put('{');
  key(out, "_api_version", true);
  json::append_json_string(out, kApiVersion);
}

// A string or null (empty) into `dest`; an error for any other JSON type.
Status<> string_or_null(od::value v, std::string_view k, std::string& dest) {
  bool is_null = false;
  if (v.is_null().get(is_null) == simdjson::SUCCESS && is_null) return Ok{};
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) {
    return fail("tun started message: \"" + std::string(k) + "\" is neither a string nor null");
  }
  dest.assign(s);
  return Ok{};
}

std::string* destination(TunStartedInfo& info, std::string_view k) {
  if (k == "name") return &info.name;
  if (k == "ipv4_address") return &info.ipv4_address;
  if (k == "ipv6_prefix") return &info.ipv6_prefix;
  if (k == "ipv6_host") return &info.ipv6_host;
  return nullptr;
}

}  // namespace

void write_tun_started(json::OutBuffer& out, std::string_view agent_name, const TunAddresses& a) {
  api_version(out);
  string_member(out, "ipv4_address", a.ipv4_address);
  null_member(out, "ipv4_host");
  string_member(out, "ipv4_netmask", TunAddresses::kIpv4Netmask);
  string_member(out, "ipv4_network", a.ipv4_network());
  string_member(out, "ipv6_host", a.ipv6_host);
  key(out, "ipv6_no_forwarding");
  out.append("false");
  string_member(out, "ipv6_prefix", a.ipv6_prefix);
  string_member(out, "name", agent_name);
  null_member(out, "re_route_packets_host");
  null_member(out, "re_route_packets_if");
  null_member(out, "re_route_packets_prefix");
  out.put('}');
}

void write_component_ready(json::OutBuffer& out, std::string_view component) {
  api_version(out);
  string_member(out, "component", component);
  string_member(out, "description", "Component READY to start test suite.");
  out.put('}');
}

Result<TunStartedInfo> parse_tun_started(std::string_view body) {
  if (body.size() > kMaxControlBodyBytes) return fail("tun started message: body over 64 KiB");
  const simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc;
  od::object object;
  if (auto e = parser.iterate(padded).get(doc)) {
    return fail(std::string("tun started message: invalid JSON: ") + simdjson::error_message(e));
  }
  if (auto e = doc.get_object().get(object)) {
    if (e == simdjson::INCORRECT_TYPE) return fail("tun started message: not a JSON object");
    return fail(std::string("tun started message: invalid JSON: ") + simdjson::error_message(e));
  }
  TunStartedInfo info;
  for (auto field_result : object) {
    od::field field;
    std::string_view k;
    if (std::move(field_result).get(field) != simdjson::SUCCESS ||
        field.unescaped_key().get(k) != simdjson::SUCCESS) {
      return fail("tun started message: invalid JSON");
    }
    if (std::string* dest = destination(info, k)) {
      if (auto s = string_or_null(field.value(), k, *dest); !s) return fail(s.error());
    }
  }
  if (has_trailing_content(doc))
    return fail("tun started message: invalid JSON: text after the object");
  if (info.name.empty()) return fail("tun started message: no \"name\"");
  return info;
}

}  // namespace mplane::agent
