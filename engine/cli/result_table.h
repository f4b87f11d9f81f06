// Human-readable output of replies: a result as an aligned table (header = result columns),
// an envelope as one table per member, other messages as their summary line.
#pragma once

#include <ostream>

#include "parsers/mplane/message.h"

namespace mplane::cli {

void print_table(std::ostream& out, const model::Message& reply);

}  // namespace mplane::cli
