// The columns of a flow record, in output order, with what each means: one table drives the CSV
// header and rows, JSON lines, the terminal table, the mPlane result columns and the docs
// (capture/README.md lists the same names and definitions). The first eleven are the contract
// of `mplane capture --format csv` (issue 5): proto,client_ip,client_port,server_ip,server_port,
// first,last,c2s_packets,c2s_bytes,s2c_packets,s2c_bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "capture/flow/flow_record.h"

namespace mplane::capture {

// One column's value in one record, typed: the text forms (CSV, JSON, the table) and the mPlane
// result rows are both made from it, the latter without a round trip through text.
struct FlowCell {
  enum class Kind : std::uint8_t {
    kNone,     // not measured: an empty cell
    kCount,    // `number`, >= 0
    kSigned,   // `number` (a window scale of -1: no option)
    kMillis,   // `millis`, written with three decimals
    kTime,     // `number`: microseconds since the epoch
    kAddress,  // `address` (points into the record)
    kText,     // `text` (static)
    kVlans,    // `number`: the tag count, then the outer and inner IDs in 16-bit fields
  };
  Kind kind = Kind::kNone;
  std::int64_t number = 0;
  double millis = 0;
  const IpAddress* address = nullptr;
  std::string_view text;
};

struct FlowColumn {
  using Cell = FlowCell (*)(const FlowRecord& r);
  std::string name;
  std::string description;
  Cell cell;
  bool quoted_in_json = false;  // a string (else a number)
};

// A cell as the CSV writes it (empty for kNone).
void append_cell(std::string& out, const FlowCell& cell);

const std::vector<FlowColumn>& flow_columns();

void append_csv_header(std::string& out);
void append_csv_row(std::string& out, const FlowRecord& r);
// One JSON object per line (JSON Lines), keys in column order.
void append_json_row(std::string& out, const FlowRecord& r);
// A terminal table of the main columns: header, then one line per flow.
void append_table_header(std::string& out);
void append_table_row(std::string& out, const FlowRecord& r);

// Shared text forms: "1234567890.123456"; RFC 5952 / dotted quad.
void append_time(std::string& out, Micros t);
// Milliseconds with three decimals, exactly as printf's "%.3f" writes them (faster).
void append_ms(std::string& out, double ms);
// The number append_ms writes: `ms` rounded to three decimals (the nearest double).
double round_ms(double ms);
void append_ip(std::string& out, const IpAddress& a);

}  // namespace mplane::capture
