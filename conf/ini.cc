#include "conf/ini.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

namespace mplane::conf {
namespace {

constexpr std::string_view kSpace = " \t\f\v\r";

// Builds an IniFile line by line. A continuation line extends the last entry if it is indented
// deeper than that entry's key line (configparser's rule); a header ends the entry.
class IniBuilder {
 public:
  explicit IniBuilder(std::string path) { file_.path = std::move(path); }

  Status<> add_line(std::string_view raw, int number) {
    const std::string_view text = trim(raw);
    if (text.empty() || text[0] == '#' || text[0] == ';') return Ok{};
    const std::size_t indent = raw.find_first_not_of(kSpace);
    if (entry_ != nullptr && indent > entry_indent_) {
      entry_->value += '\n';
      entry_->value += text;
      return Ok{};
    }
    if (text[0] == '[') return add_section(text, number);
    return add_entry(text, indent, number);
  }

  IniFile take() && { return std::move(file_); }

 private:
  Failure<std::string> error(int line, std::string_view reason) const {
    return fail(located(file_.path, line, reason));
  }

  Status<> add_section(std::string_view text, int number) {
    if (text.back() != ']') return error(number, "section header does not end with ']'");
    const std::string_view name = text.substr(1, text.size() - 2);
    if (name.empty()) return error(number, "empty section name");
    if (const IniSection* first = file_.find(name)) {
      return error(number, "duplicate section [" + std::string(name) + "] (first at line " +
                               std::to_string(first->line) + ")");
    }
    file_.sections.push_back({std::string(name), number, {}});
    entry_ = nullptr;
    return Ok{};
  }

  Status<> add_entry(std::string_view text, std::size_t indent, int number) {
    const std::size_t split = text.find_first_of("=:");
    if (split == std::string_view::npos) {
      return error(number, "line is not a section header, a key = value pair or a comment");
    }
    const std::string_view key = trim(text.substr(0, split));
    if (key.empty()) return error(number, "empty key");
    if (file_.sections.empty()) {
      return error(number, "key " + in_quotes(key) + " before any section header");
    }
    IniSection& section = file_.sections.back();
    if (const IniEntry* first = section.find(key)) {
      return error(number, "duplicate key " + in_quotes(key) + " in [" + section.name +
                               "] (first at line " + std::to_string(first->line) + ")");
    }
    section.entries.push_back(
        {std::string(key), std::string(trim(text.substr(split + 1))), number});
    entry_ = &section.entries.back();
    entry_indent_ = indent;
    return Ok{};
  }

  IniFile file_;
  IniEntry* entry_ = nullptr;  // the entry a continuation line would extend
  std::size_t entry_indent_ = 0;
};

}  // namespace

const IniEntry* IniSection::find(std::string_view key) const noexcept {
  for (const IniEntry& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

const IniSection* IniFile::find(std::string_view name) const noexcept {
  for (const IniSection& s : sections) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string_view trim(std::string_view s) {
  const std::size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string located(std::string_view path, int line, std::string_view reason) {
  std::string out(path);
  out += ':';
  out += std::to_string(line);
  out += ": ";
  out += reason;
  return out;
}

Result<IniFile> parse_ini(std::string_view text, std::string path) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (text.starts_with(kBom)) text.remove_prefix(kBom.size());
  IniBuilder builder(std::move(path));
  int number = 1;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    if (auto st = builder.add_line(line, number); !st) return fail(std::move(st).error());
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
    ++number;
  }
  return std::move(builder).take();
}

Result<std::string> read_config_file(const std::string& path) {
  std::error_code ec;
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path, ec)) {
    return fail(path + ": cannot open configuration file");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<IniFile> load_ini(const std::string& path) {
  auto text = read_config_file(path);
  if (!text) return fail(std::move(text).error());
  return parse_ini(*text, path);
}

}  // namespace mplane::conf
