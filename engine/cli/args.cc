#include "engine/cli/args.h"

#include <algorithm>
#include <charconv>

namespace mplane::cli {

std::vector<std::string> ParsedArgs::all(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? std::vector<std::string>{} : it->second;
}

std::string ParsedArgs::get(const std::string& name, const std::string& fallback) const {
  auto it = values.find(name);
  return it == values.end() || it->second.empty() ? fallback : it->second.back();
}

namespace {

const OptionSpec* find_spec(const std::vector<OptionSpec>& specs, std::string_view name) {
  for (const OptionSpec& s : specs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

}  // namespace

Result<ParsedArgs> parse_args(const std::vector<std::string>& args,
                              const std::vector<OptionSpec>& specs) {
  ParsedArgs out;
  bool options_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (options_done || a.size() < 2 || a[0] != '-') {
      out.positional.push_back(a);
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    if (a == "-h" || a == "--help") {
      out.values["help"].push_back("");
      continue;
    }
    if (!a.starts_with("--")) return fail("unknown option " + a);
    std::string name = a.substr(2);
    std::string value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      inline_value = true;
    }
    const OptionSpec* spec = find_spec(specs, name);
    if (!spec) return fail("unknown option --" + name);
    if (!spec->value.empty() && !inline_value) {
      if (i + 1 >= args.size()) return fail("option --" + name + " needs a value " + spec->value);
      value = args[++i];
    } else if (spec->value.empty() && inline_value) {
      return fail("option --" + name + " takes no value");
    }
    if (!spec->repeatable && out.has(name)) return fail("option --" + name + " given twice");
    out.values[name].push_back(value);
  }
  return out;
}

Result<double> number_option(const ParsedArgs& args, const std::string& name, double fallback,
                             double min, double max) {
  if (!args.has(name)) return fallback;
  const std::string text = args.get(name);
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < min || v > max) {
    auto fmt = [](double d) {
      std::string s = std::to_string(d);
      s.erase(s.find_last_not_of('0') + 1);
      if (s.back() == '.') s.pop_back();
      return s;
    };
    return fail("--" + name + " " + text + ": expected a number from " + fmt(min) + " to " +
                fmt(max));
  }
  return v;
}

std::string format_options(const std::vector<OptionSpec>& specs) {
  std::vector<std::pair<std::string, std::string>> rows;
  std::size_t width = 0;
  for (const OptionSpec& s : specs) {
    std::string left = "  --" + s.name + (s.value.empty() ? "" : " " + s.value);
    width = std::max(width, left.size());
    rows.emplace_back(left, s.help + (s.repeatable ? " (repeatable)" : ""));
  }
  rows.emplace_back("  -h, --help", "show this help");
  width = std::max<std::size_t>(width, 12);
  std::string out;
  for (auto& [left, help] : rows) {
    out += left;
    out.append(width + 2 - left.size(), ' ');
    out += help;
    out += '\n';
  }
  return out;
}

}  // namespace mplane::cli
