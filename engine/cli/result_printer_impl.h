// The printers behind make_result_printer() (result_printer.h), one file each.
#pragma once

#include <memory>
#include <ostream>

#include "engine/cli/result_printer.h"

namespace mplane::cli {

std::unique_ptr<ResultPrinter> make_csv_printer(std::ostream& out);
std::unique_ptr<ResultPrinter> make_table_printer(std::ostream& out);
std::unique_ptr<ResultPrinter> make_json_printer(std::ostream& out);

}  // namespace mplane::cli
