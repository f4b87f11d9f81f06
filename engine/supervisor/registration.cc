#include "engine/supervisor/registration.h"

#include "parsers/json/out_buffer.h"

namespace mplane::supervisor {
namespace {

// One member's entry in the reply: "label":{…}.
void append_entry(json::OutBuffer& out, std::string_view label, std::string_view status) {
  if (out.view().size() > 1) out.append(",");
  json::append_json_string(out, label);
  out.append(":");
  out.append(status);
}

}  // namespace

Result<Registration> read_registration(const model::Message& message) {
  if (message.kind != model::MessageKind::kEnvelope) {
    return fail(std::string("a registration is an envelope of capabilities, not a ") +
                std::string(model::kind_key(message.kind)));
  }
  Registration r;
  json::OutBuffer out;
  out.append("{");
  for (const model::Message& m : message.contents) {
    if (!m.label || m.label->empty()) {
      return fail(std::string("every member of a registration needs a label (a ") +
                  std::string(model::kind_key(m.kind)) + " has none)");
    }
    if (m.kind == model::MessageKind::kCapability) {
      if (m.verb == "callback" || *m.label == "callback") {
        r.callback = &m;
      } else {
        r.capabilities.push_back(&m);
      }
      append_entry(out, *m.label, R"({"registered":"ok"})");
    } else if (m.kind == model::MessageKind::kWithdrawal) {
      r.withdrawals.push_back(&m);
      append_entry(out, *m.label, R"({"registered":"no","reason":"Withdrawn"})");
    } else {
      append_entry(out, *m.label, R"({"registered":"no","reason":"Not a capability"})");
    }
  }
  out.append("}");
  r.reply = out.str();
  return r;
}

}  // namespace mplane::supervisor
