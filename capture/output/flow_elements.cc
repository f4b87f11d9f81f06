#include "capture/output/flow_elements.h"

namespace mplane::capture {

FlowElement flow_element(std::string_view column) {
  if (column == "first") return {"start", "time"};
  if (column == "last") return {"end", "time"};
  if (column == "client_port") return {"source.port", "natural"};
  if (column == "server_port") return {"destination.port", "natural"};
  std::string name = "flow.";
  for (char c : column) name += c == '_' ? '.' : c;
  std::string_view prim = "natural";
  if (column.ends_with("_ip")) prim = "address";
  if (column.ends_with("_payload")) prim = "time";
  if (column.ends_with("_ms")) prim = "real";
  if (column == "proto" || column == "end_state" || column == "vlan") prim = "string";
  return {name, prim};
}

}  // namespace mplane::capture
