#include "capture/output/flow_columns.h"

#include <arpa/inet.h>

#include <charconv>
#include <cmath>
#include <cstdio>

namespace mplane::capture {
namespace {

template <class T>
void append_number(std::string& out, T v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

using Kind = FlowCell::Kind;
using Stats = DirectionStats FlowRecord::*;

FlowCell number_cell(Kind kind, std::int64_t n) {
  FlowCell c;
  c.kind = kind;
  c.number = n;
  return c;
}
FlowCell count(std::int64_t n) { return number_cell(Kind::kCount, n); }
FlowCell time_cell(Micros t) { return number_cell(Kind::kTime, t); }
FlowCell millis(double ms) {
  FlowCell c;
  c.kind = Kind::kMillis;
  c.millis = ms;
  return c;
}
FlowCell text(std::string_view t) {
  FlowCell c;
  c.kind = Kind::kText;
  c.text = t;
  return c;
}
FlowCell address(const IpAddress& a) {
  FlowCell c;
  c.kind = Kind::kAddress;
  c.address = &a;
  return c;
}

template <Stats D, std::uint64_t DirectionStats::*F>
FlowCell counter(const FlowRecord& r) {
  return count(static_cast<std::int64_t>((r.*D).*F));
}
template <Stats D, std::uint32_t DirectionStats::*F>
FlowCell flag_count(const FlowRecord& r) {
  return count((r.*D).*F);
}
template <Stats D, Micros DirectionStats::*F>
FlowCell optional_time(const FlowRecord& r) {
  return (r.*D).*F ? time_cell((r.*D).*F) : FlowCell{};
}
template <Stats D>
FlowCell mss(const FlowRecord& r) {
  return count((r.*D).mss);
}
template <Stats D>
FlowCell wscale(const FlowRecord& r) {
  return number_cell(Kind::kSigned, (r.*D).wscale);
}
template <Stats D>
FlowCell rtt_count(const FlowRecord& r) {
  return count(static_cast<std::int64_t>((r.*D).rtt.count));
}
template <Stats D>
FlowCell rtt_min(const FlowRecord& r) {
  return millis(static_cast<double>((r.*D).rtt.min) / 1000.0);
}
template <Stats D>
FlowCell rtt_mean(const FlowRecord& r) {
  return millis((r.*D).rtt.mean_ms());
}
template <Stats D>
FlowCell rtt_max(const FlowRecord& r) {
  return millis(static_cast<double>((r.*D).rtt.max) / 1000.0);
}
template <Stats D>
FlowCell rtt_stddev(const FlowRecord& r) {
  return millis((r.*D).rtt.stddev_ms());
}

// The analysis columns of one direction ("c2s" / "s2c").
template <Stats D>
void add_direction(std::vector<FlowColumn>& out, const std::string& dir, const std::string& way) {
  using S = DirectionStats;
  const std::pair<const char*, std::string> rows[] = {
      {"payload_bytes", "transport payload bytes " + way + " (from the IP length)"},
      {"unique_bytes", "TCP: distinct sequence space carried " + way + " (each byte once)"},
      {"retrans_packets", "TCP: segments " + way + " carrying only data already seen"},
      {"retrans_bytes", "TCP: payload bytes of those segments"},
      {"out_of_order", "TCP: segments " + way + " filling a gap below the highest data seen"},
      {"duplicates", "TCP: network copies of the previous segment " + way + " (same IPv4 id)"},
      {"syn", "SYN segments " + way},
      {"fin", "FIN segments " + way},
      {"rst", "RST segments " + way},
      {"zero_window", "TCP: times the window advertised " + way + " became 0"},
      {"mss", "TCP: MSS option of the SYN " + way + " (0: none)"},
      {"wscale", "TCP: window scale option of the SYN " + way + " (-1: none)"},
      {"first_payload", "time of the first packet with payload " + way + " (empty: none)"},
      {"last_payload", "time of the last packet with payload " + way + " (empty: none)"},
      {"rtt_samples", "TCP: RTT samples of data sent " + way + " (ACK from the other side)"},
      {"rtt_min_ms", "TCP: minimum RTT of data sent " + way + ", ms"},
      {"rtt_mean_ms", "TCP: mean RTT of data sent " + way + ", ms"},
      {"rtt_max_ms", "TCP: maximum RTT of data sent " + way + ", ms"},
      {"rtt_stddev_ms", "TCP: standard deviation of the RTT of data sent " + way + ", ms"},
  };
  const FlowColumn::Cell fns[] = {
      &counter<D, &S::payload_bytes>,
      &counter<D, &S::unique_bytes>,
      &counter<D, &S::retrans_packets>,
      &counter<D, &S::retrans_bytes>,
      &counter<D, &S::out_of_order>,
      &counter<D, &S::duplicates>,
      &flag_count<D, &S::syn>,
      &flag_count<D, &S::fin>,
      &flag_count<D, &S::rst>,
      &flag_count<D, &S::zero_window>,
      &mss<D>,
      &wscale<D>,
      &optional_time<D, &S::first_payload>,
      &optional_time<D, &S::last_payload>,
      &rtt_count<D>,
      &rtt_min<D>,
      &rtt_mean<D>,
      &rtt_max<D>,
      &rtt_stddev<D>,
  };
  static_assert(std::size(rows) == std::size(fns));
  for (std::size_t i = 0; i < std::size(rows); ++i) {
    out.push_back({dir + "_" + rows[i].first, rows[i].second, fns[i], false});
  }
}

std::vector<FlowColumn> make_columns() {
  std::vector<FlowColumn> c = {
      {"proto", "tcp or udp",
       [](const FlowRecord& r) { return text(r.proto == 6 ? "tcp" : "udp"); }, true},
      {"client_ip", "the client: sender of the SYN, else of the first packet",
       [](const FlowRecord& r) { return address(r.client_ip); }, true},
      {"client_port", "client port", [](const FlowRecord& r) { return count(r.client_port); }},
      {"server_ip", "the server", [](const FlowRecord& r) { return address(r.server_ip); }, true},
      {"server_port", "server port", [](const FlowRecord& r) { return count(r.server_port); }},
      {"first", "time of the first packet, seconds since the epoch",
       [](const FlowRecord& r) { return time_cell(r.first); }},
      {"last", "time of the last packet", [](const FlowRecord& r) { return time_cell(r.last); }},
      {"c2s_packets", "packets client to server",
       [](const FlowRecord& r) { return count(static_cast<std::int64_t>(r.c2s.packets)); }},
      {"c2s_bytes", "bytes client to server, as IP packet lengths",
       [](const FlowRecord& r) { return count(static_cast<std::int64_t>(r.c2s.bytes)); }},
      {"s2c_packets", "packets server to client",
       [](const FlowRecord& r) { return count(static_cast<std::int64_t>(r.s2c.packets)); }},
      {"s2c_bytes", "bytes server to client, as IP packet lengths",
       [](const FlowRecord& r) { return count(static_cast<std::int64_t>(r.s2c.bytes)); }},
      {"end_state", "complete, reset, timeout, evicted, open (capture ended) or no_syn",
       [](const FlowRecord& r) { return text(end_state_name(r.end)); }, true},
      {"handshake_rtt_ms", "TCP: client SYN to the client's ACK of the SYN-ACK, ms (empty: none)",
       [](const FlowRecord& r) {
         return r.handshake_rtt >= 0 ? millis(static_cast<double>(r.handshake_rtt) / 1000.0)
                                     : FlowCell{};
       }},
      {"vlan", "VLAN IDs, outer.inner (empty: untagged)",
       [](const FlowRecord& r) {
         if (r.vlan_count == 0) return FlowCell{};
         return number_cell(Kind::kVlans, std::int64_t{r.vlan_count} << 32 |
                                              std::int64_t{r.vlan[0]} << 16 | r.vlan[1]);
       },
       true},
  };
  add_direction<&FlowRecord::c2s>(c, "c2s", "client to server");
  add_direction<&FlowRecord::s2c>(c, "s2c", "server to client");
  return c;
}

}  // namespace

namespace {

// |ms| in thousandths, rounded exactly as printf's "%.3f" rounds (the exact binary value, half
// to even); false past 1e12 (and for NaN). ms * 1000 is rounded once; fma gives that rounding's
// exact error, which decides the only case where it matters: a product exactly on a half.
bool thousandths_of(double ms, std::uint64_t& out) {
  const double a = std::fabs(ms);
  if (!(a < 1e12)) return false;  // the product must stay below 2^52: halves exact
  const double product = a * 1000.0, error = std::fma(a, 1000.0, -product);
  double rounded = std::nearbyint(product);  // half to even
  if (product - std::floor(product) == 0.5 && error != 0) {
    rounded = std::floor(product) + (error > 0 ? 1 : 0);
  }
  out = static_cast<std::uint64_t>(rounded);
  return true;
}

}  // namespace

// Without printf or libstdc++'s floating-point to_chars: either was half of
// `mplane capture --format csv`'s time.
void append_ms(std::string& out, double ms) {
  std::uint64_t thousandths = 0;
  if (!thousandths_of(ms, thousandths)) {
    char buf[400];
    const int n = std::snprintf(buf, sizeof buf, "%.3f", ms);
    out.append(buf, static_cast<std::size_t>(n));
    return;
  }
  if (std::signbit(ms)) out += '-';
  append_number(out, thousandths / 1000);
  const auto frac = static_cast<unsigned>(thousandths % 1000);
  const char digits[4] = {'.', static_cast<char>('0' + frac / 100),
                          static_cast<char>('0' + frac / 10 % 10),
                          static_cast<char>('0' + frac % 10)};
  out.append(digits, sizeof digits);
}

double round_ms(double ms) {
  std::uint64_t thousandths = 0;
  if (!thousandths_of(ms, thousandths)) return ms;
  const double v = static_cast<double>(thousandths) / 1000.0;
  return std::signbit(ms) ? -v : v;
}

const std::vector<FlowColumn>& flow_columns() {
  static const std::vector<FlowColumn> kColumns = make_columns();
  return kColumns;
}

void append_time(std::string& out, Micros t) {
  const Micros s = t / 1'000'000, us = t % 1'000'000;
  append_number(out, s);
  char fraction[7] = {'.', '0', '0', '0', '0', '0', '0'};
  for (Micros rest = us < 0 ? -us : us, i = 6; rest > 0; rest /= 10, --i) {
    fraction[i] = static_cast<char>('0' + rest % 10);
  }
  out.append(fraction, sizeof fraction);
}

void append_ip(std::string& out, const IpAddress& a) {
  char buf[INET6_ADDRSTRLEN];
  const char* text = inet_ntop(a.family == 6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof buf);
  out += text ? text : "?";
}

void append_csv_header(std::string& out) {
  bool first = true;
  for (const FlowColumn& c : flow_columns()) {
    if (!first) out += ',';
    first = false;
    out += c.name;
  }
  out += '\n';
}

void append_cell(std::string& out, const FlowCell& cell) {
  switch (cell.kind) {
    case Kind::kNone:
      return;
    case Kind::kCount:
    case Kind::kSigned:
      return append_number(out, cell.number);
    case Kind::kMillis:
      return append_ms(out, cell.millis);
    case Kind::kTime:
      return append_time(out, cell.number);
    case Kind::kAddress:
      return append_ip(out, *cell.address);
    case Kind::kText:
      out += cell.text;
      return;
    case Kind::kVlans:
      for (int i = 0; i < (cell.number >> 32); ++i) {
        if (i) out += '.';
        append_number(out, cell.number >> (16 * (1 - i)) & 0xffff);
      }
      return;
  }
}

void append_csv_row(std::string& out, const FlowRecord& r) {
  bool first = true;
  for (const FlowColumn& c : flow_columns()) {
    if (!first) out += ',';
    first = false;
    append_cell(out, c.cell(r));
  }
  out += '\n';
}

void append_json_row(std::string& out, const FlowRecord& r) {
  out += '{';
  bool first = true;
  for (const FlowColumn& c : flow_columns()) {
    const FlowCell cell = c.cell(r);
    if (!c.quoted_in_json && cell.kind == Kind::kNone) continue;  // not measured: left out
    if (!first) out += ',';
    first = false;
    out += '"';
    out += c.name;
    out += "\":";
    if (c.quoted_in_json) out += '"';
    append_cell(out, cell);
    if (c.quoted_in_json) out += '"';
  }
  out += "}\n";
}

namespace {
void pad(std::string& out, std::string_view text, std::size_t width) {
  out += text;
  if (text.size() < width) out.append(width - text.size(), ' ');
  out += ' ';
}
std::string endpoint(const IpAddress& a, std::uint16_t port) {
  std::string s;
  if (a.family == 6) s += '[';
  append_ip(s, a);
  if (a.family == 6) s += ']';
  s += ':';
  append_number(s, port);
  return s;
}
}  // namespace

void append_table_header(std::string& out) {
  pad(out, "proto", 5);
  pad(out, "client", 28);
  pad(out, "server", 28);
  pad(out, "first", 17);
  pad(out, "duration", 10);
  pad(out, "c2s pkts/bytes", 18);
  pad(out, "s2c pkts/bytes", 18);
  pad(out, "rtx c2s/s2c", 12);
  pad(out, "rtt ms", 8);
  out += "end\n";
}

void append_table_row(std::string& out, const FlowRecord& r) {
  std::string t;
  pad(out, r.proto == 6 ? "tcp" : "udp", 5);
  pad(out, endpoint(r.client_ip, r.client_port), 28);
  pad(out, endpoint(r.server_ip, r.server_port), 28);
  append_time(t, r.first);
  pad(out, t, 17);
  t.clear();
  append_ms(t, static_cast<double>(r.last - r.first) / 1e6);
  pad(out, t + "s", 10);
  for (const DirectionStats* d : {&r.c2s, &r.s2c}) {
    t.clear();
    append_number(t, d->packets);
    t += '/';
    append_number(t, d->bytes);
    pad(out, t, 18);
  }
  t.clear();
  append_number(t, r.c2s.retrans_packets);
  t += '/';
  append_number(t, r.s2c.retrans_packets);
  pad(out, t, 12);
  t.clear();
  if (r.c2s.rtt.count) append_ms(t, r.c2s.rtt.mean_ms());
  pad(out, t.empty() ? "-" : t, 8);
  out += end_state_name(r.end);
  out += '\n';
}

}  // namespace mplane::capture
