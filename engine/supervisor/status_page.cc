// GET / on the supervisor's client face: a page for people (issue 12, "A page for people") —
// plain HTML, no external assets (boxes without internet). It also keeps the RI client's
// capability crawl working: the RI client follows every <a href> on the page it is given.
#include <ctime>

#include "engine/supervisor/supervisor.h"

namespace mplane::supervisor {
namespace {

std::string escape_html(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string utc(std::int64_t us) {
  const std::time_t t = us / 1'000'000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

void row(std::string& out, std::string_view name, std::uint64_t value) {
  out += "<tr><td>" + std::string(name) + "</td><td>" + std::to_string(value) + "</td></tr>";
}

}  // namespace

std::string Supervisor::status_page(const std::string& client) const {
  std::string out =
      "<!DOCTYPE html><html><head><meta charset='utf-8'><title>mplane supervisor</title>"
      "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
      "td,th{border:1px solid #999;padding:2px 6px;text-align:left}</style></head><body>"
      "<h1>mPlane supervisor</h1><p>You are <b>" +
      escape_html(client) + "</b>. <a href='/capability'>Capabilities</a> you may use.</p>";
  out +=
      "<h2>Probes</h2><table><tr><th>identity</th><th>last poll</th><th>capabilities</th>"
      "<th>queued</th><th>polls</th></tr>";
  for (const auto& [identity, probe] : probes_.all()) {
    out += "<tr><td>" + escape_html(identity) + "</td><td>" + utc(probe.last_poll_us) + "</td><td>";
    for (const OfferedCapability& c : probe.capabilities) {
      if (!allowed(client, c, probe)) continue;
      out += "<a href='/capability/" + c.listed_token + "'>" + escape_html(c.label) + "</a> ";
    }
    out += "</td><td>" + std::to_string(probe.queue.size()) + "</td><td>" +
           std::to_string(probe.polls) + "</td></tr>";
  }
  out += "</table><h2>Measurements</h2><p>" + std::to_string(relays_.pending()) + " pending, " +
         std::to_string(relays_.size() - relays_.pending()) +
         " results not yet collected.</p><h2>Counters</h2><table>";
  const SupervisorCounters& c = counters_;
  row(out, "registrations", c.registrations);
  row(out, "polls", c.polls);
  row(out, "held polls", c.held_polls);
  row(out, "specifications", c.specifications);
  row(out, "replies relayed", c.relayed_replies);
  row(out, "results delivered", c.delivered_results);
  row(out, "denied", c.denied);
  row(out, "refused", c.refused);
  row(out, "probes withdrawn", c.withdrawn_probes);
  row(out, "results expired", c.expired);
  row(out, "state store errors", c.store_errors);
  return out + "</table></body></html>";
}

}  // namespace mplane::supervisor
