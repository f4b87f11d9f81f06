// A small command-line option parser shared by every `mplane` subcommand.
//
// Options are declared with their help text; `--name VALUE` and `--name=VALUE` are accepted,
// repeatable options collect every value, `--` ends options. Errors are one readable line.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/base/result.h"

namespace mplane::cli {

struct OptionSpec {
  std::string name;   // without the leading "--"
  std::string value;  // placeholder for the value, empty for a flag
  std::string help;
  bool repeatable = false;
};

struct ParsedArgs {
  std::map<std::string, std::vector<std::string>> values;  // option -> values ("" for flags)
  std::vector<std::string> positional;

  bool has(const std::string& name) const { return values.count(name) > 0; }
  std::vector<std::string> all(const std::string& name) const;
  std::string get(const std::string& name, const std::string& fallback = "") const;
};

// Parses args (after the command words). `--help`/`-h` is always known and sets "help".
Result<ParsedArgs> parse_args(const std::vector<std::string>& args,
                              const std::vector<OptionSpec>& specs);

// The number given to option `name` (fallback when absent), within [min, max]. The error is
// one line naming the option, e.g. "--connections x: expected a number from 1 to 10000".
Result<double> number_option(const ParsedArgs& args, const std::string& name, double fallback,
                             double min, double max);

// "  --registry FILE     add an element registry (repeatable)" lines, aligned.
std::string format_options(const std::vector<OptionSpec>& specs);

}  // namespace mplane::cli
