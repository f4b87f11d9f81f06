// Every flow column has its element, with the right prim, in the shipped engine registry
// (conf/registry/engine.json): the capture capabilities and the registry stay in step.
#include <catch2/catch.hpp>

#include "capture/output/flow_columns.h"
#include "capture/output/flow_elements.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

TEST_CASE("every flow column is an element of the shipped registries", "[engine][capture]") {
  for (const capture::FlowColumn& c : capture::flow_columns()) {
    CAPTURE(c.name);
    const capture::FlowElement e = capture::flow_element(c.name);
    const model::Element* element = test::registries().find(e.name);
    REQUIRE(element);
    CHECK(model::prim_name(element->prim) == e.prim);
  }
}

}  // namespace
}  // namespace mplane
