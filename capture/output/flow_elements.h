// The mPlane element of each flow column (issue 5, "Served as mPlane capabilities"): core
// registry elements where they exist (start, end, source.port, destination.port), elements of
// the project registry (conf/registry/engine.json, `flow.*`) for the rest.
#pragma once

#include <string>
#include <string_view>

namespace mplane::capture {

struct FlowElement {
  std::string name;       // e.g. "flow.c2s.retrans.packets"
  std::string_view prim;  // the registry prim: natural, real, string, address, time
};

// The element for the flow column named `column` (see flow_columns()).
FlowElement flow_element(std::string_view column);

}  // namespace mplane::capture
