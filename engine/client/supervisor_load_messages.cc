#include "engine/client/supervisor_load_messages.h"

#include <charconv>
#include <ctime>

#include "parsers/json/out_buffer.h"

namespace mplane::client::load {
namespace {

namespace dom = simdjson::dom;

// `"name":"value"` with the value escaped.
void field(json::OutBuffer& out, std::string_view name, std::string_view value) {
  out.put('"');
  out.append(name);
  out.append("\":");
  json::append_json_string(out, value);
}

// The members every message of the generator shares, after the verb.
void common(json::OutBuffer& out, std::string_view label, std::string_view token) {
  out.append(",\"version\":1,\"registry\":\"");
  out.append(kLoopbackRegistry);
  out.append("\",");
  field(out, "label", label);
  out.put(',');
  field(out, "token", token);
}

void input_parameter(json::OutBuffer& out, std::string_view input) {
  out.append(",\"parameters\":{");
  field(out, "test.input", input);
  out.append("},\"results\":[\"test.output\"]");
}

std::string statement(std::string_view verb_key, std::string_view label, std::string_view token,
                      std::string_view input) {
  json::OutBuffer out(256);
  out.append("{\"");
  out.append(verb_key);
  out.append("\":\"measure\"");
  common(out, label, token);
  out.append(",\"when\":\"now\"");
  input_parameter(out, input);
  out.put('}');
  return out.str();
}

// "2026-12-02 11:59:00.000000" (UTC, the RI's result time), recomputed once per second.
std::string_view now_text() {
  thread_local std::time_t cached_at = 0;
  thread_local char text[40] = {};
  const std::time_t now = std::time(nullptr);
  if (now != cached_at) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S.000000", &tm);
    cached_at = now;
  }
  return text;
}

std::string string_of(dom::element e, std::string_view key) {
  std::string_view v;
  if (e[key].get(v) != simdjson::SUCCESS) return {};
  return std::string(v);
}

// One member of a poll reply into `reply`.
void read_member(dom::element member, PollReply& reply) {
  dom::object obj;
  if (member.get(obj) != simdjson::SUCCESS) return;
  const std::string label = string_of(member, "label");
  std::string_view verb;
  const bool is_callback_verb =
      member["specification"].get(verb) == simdjson::SUCCESS && verb == "callback";
  if (label == "callback" || is_callback_verb) {
    reply.callback_s = callback_delay(string_of(member, "when"));
    return;
  }
  if (member["interrupt"].error() == simdjson::SUCCESS) {
    ++reply.interrupts;
    return;
  }
  if (member["specification"].error() != simdjson::SUCCESS) return;
  WorkItem item{label, string_of(member, "token"), {}};
  dom::element params;
  if (member["parameters"].get(params) == simdjson::SUCCESS) {
    item.input = string_of(params, "test.input");
  }
  reply.work.push_back(std::move(item));
}

}  // namespace

std::string registration(std::string_view label, std::string_view token) {
  json::OutBuffer out(512);
  out.append("{\"envelope\":\"message\",\"version\":1,\"contents\":[{\"capability\":\"measure\"");
  common(out, label, token);
  out.append(",\"link\":\"\",\"when\":\"now ... future\"");
  out.append(",\"parameters\":{\"test.input\":\"*\"},\"results\":[\"test.output\"]}");
  out.append(",{\"capability\":\"callback\"");
  std::string callback_token(token);
  callback_token += "-cb";
  common(out, "callback", callback_token);
  out.append(",\"when\":\"now ... future\",\"parameters\":{},\"results\":[]}]}");
  return out.str();
}

std::string specification(std::string_view label, std::string_view token, std::string_view input) {
  return statement("specification", label, token, input);
}

std::string redemption(std::string_view label, std::string_view token, std::string_view input) {
  return statement("redemption", label, token, input);
}

std::string result(std::string_view label, std::string_view token, std::string_view input) {
  json::OutBuffer out(320);
  out.append("{\"result\":\"measure\"");
  common(out, label, token);
  out.append(",\"when\":\"");
  out.append(now_text());
  out.put('"');
  input_parameter(out, input);
  out.append(",\"resultvalues\":[[");
  json::append_json_string(out, input);
  out.append("]]}");
  return out.str();
}

std::optional<double> callback_delay(std::string_view when) {
  if (when == "now") return 0.0;
  constexpr std::string_view kPrefix = "now + ";
  if (!when.starts_with(kPrefix)) return std::nullopt;
  when.remove_prefix(kPrefix.size());
  double seconds = 0;
  const auto [end, ec] = std::from_chars(when.data(), when.data() + when.size(), seconds);
  if (ec != std::errc{} || seconds < 0) return std::nullopt;
  std::string_view unit(end, static_cast<std::size_t>(when.data() + when.size() - end));
  if (unit.starts_with(' ')) unit.remove_prefix(1);
  if (unit == "s") return seconds;
  if (unit == "ms") return seconds / 1000;
  return std::nullopt;
}

std::optional<PollReply> parse_poll_reply(dom::parser& parser, std::string_view body,
                                          std::string& error) {
  dom::element root;
  if (auto err = parser.parse(body.data(), body.size()).get(root); err) {
    error = "poll reply is not JSON";
    return std::nullopt;
  }
  dom::array members;
  if (root.get(members) != simdjson::SUCCESS &&
      root["contents"].get(members) != simdjson::SUCCESS) {
    error = "poll reply is neither an envelope nor an array";
    return std::nullopt;
  }
  PollReply reply;
  for (dom::element member : members) read_member(member, reply);
  return reply;
}

ClientReply parse_client_reply(dom::parser& parser, std::string_view body) {
  dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) {
    return {ReplyKind::kOther, "not JSON"};
  }
  if (root["result"].error() == simdjson::SUCCESS) return {ReplyKind::kResult, {}};
  if (root["receipt"].error() == simdjson::SUCCESS) return {ReplyKind::kReceipt, {}};
  if (root["exception"].error() == simdjson::SUCCESS) {
    return {ReplyKind::kException, string_of(root, "errmsg")};
  }
  std::string_view envelope;
  if (root["envelope"].get(envelope) == simdjson::SUCCESS) return {ReplyKind::kResult, {}};
  return {ReplyKind::kOther, "neither result, receipt nor exception"};
}

}  // namespace mplane::client::load
