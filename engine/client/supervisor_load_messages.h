// The messages of the supervisor load generator (supervisor_load.h), written as JSON text
// directly and read with simdjson's DOM: a load generator that parses every message into the
// model would measure itself. Loopback registry only (test.input → test.output).
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mplane::client::load {

inline constexpr std::string_view kLoopbackRegistry = "http://mplane.corvid.ch/registry/loopback";

// A probe's registration: an envelope of its capability (label, `token`, link "", test.input
// "*") and its callback capability (verb and label `callback`, PROTOCOL.md §4.3.4).
std::string registration(std::string_view label, std::string_view token);

// A client's specification (`when` now) and the redemption of its receipt.
std::string specification(std::string_view label, std::string_view token, std::string_view input);
std::string redemption(std::string_view label, std::string_view token, std::string_view input);

// A probe's result for a specification it was sent: label, token, test.output = input.
std::string result(std::string_view label, std::string_view token, std::string_view input);

// A member of a poll reply the probe must answer.
struct WorkItem {
  std::string label, token, input;
};

// A reply to a poll: specifications to answer, interrupts (counted, nothing to do: results go
// at once), and the callback's delay in seconds when the reply carries one.
struct PollReply {
  std::vector<WorkItem> work;
  int interrupts = 0;
  std::optional<double> callback_s;
};

// Parses a poll reply (an envelope, or the fork's JSON array); an error line when it is not.
// `parser` is reused between calls (one per loop).
std::optional<PollReply> parse_poll_reply(simdjson::dom::parser& parser, std::string_view body,
                                          std::string& error);

// The seconds of a `when` of the form "now + Ns" (also "now + N s", "now"); nullopt otherwise.
std::optional<double> callback_delay(std::string_view when);

// What a client got back for a specification or redemption.
enum class ReplyKind { kResult, kReceipt, kException, kOther };
struct ClientReply {
  ReplyKind kind = ReplyKind::kOther;
  std::string detail;  // an exception's errmsg, or what the body was
};
ClientReply parse_client_reply(simdjson::dom::parser& parser, std::string_view body);

}  // namespace mplane::client::load
