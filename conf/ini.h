// INI files as the Python RI reads them (configparser, PROTOCOL.md §5), kept in file order
// with line numbers so that every later error can name FILE:LINE.
//
// Accepted: `[section]` headers; `key = value` or `key: value` (the first `=` or `:` splits;
// key and value trimmed; keys case-sensitive, as the RI sets optionxform = str); full-line
// comments whose first non-blank character is `#` or `;`; blank lines; continuation lines (a
// line indented deeper than its key line appends "\n" + its trimmed text to the value).
// Differences from configparser, all deliberate: no inline comments (configparser's default
// too: `a = b ; c` has the value `b ; c`); no `%(name)s` interpolation (values are raw); no
// special [DEFAULT] section; blank lines inside a continued value are dropped, not kept; a
// section name is the text between the brackets, untrimmed, and nothing may follow `]`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "parsers/base/result.h"

namespace mplane::conf {

struct IniEntry {
  std::string key;
  std::string value;
  int line = 0;  // 1-based line of the key (continuation lines do not move it)
};

struct IniSection {
  std::string name;
  int line = 0;                   // 1-based line of the header
  std::vector<IniEntry> entries;  // file order, keys unique

  const IniEntry* find(std::string_view key) const noexcept;
};

struct IniFile {
  std::string path;  // as given to the parser; the prefix of every error about this file
  std::vector<IniSection> sections;  // file order, names unique

  const IniSection* find(std::string_view name) const noexcept;
};

// "PATH:LINE: reason", the form of every configuration error.
std::string located(std::string_view path, int line, std::string_view reason);

// `s` without leading and trailing blanks (space, tab, \f, \v, \r).
std::string_view trim(std::string_view s);
// "'s'", how errors quote a value.
std::string in_quotes(std::string_view s);

// The bytes of the file at `path` (a configuration file of any layout). Error "PATH: cannot open
// configuration file" if it cannot be read or is a directory.
Result<std::string> read_config_file(const std::string& path);

// Parses `text`; `path` is only used to name errors. Errors: `PATH:LINE: reason` for a line
// that is not a header/pair/comment, a key before any section, an empty key or section name,
// a duplicate key within a section, a duplicate section.
Result<IniFile> parse_ini(std::string_view text, std::string path);

// Reads and parses the file at `path`. Error "PATH: cannot open configuration file" if it
// cannot be read.
Result<IniFile> load_ini(const std::string& path);

}  // namespace mplane::conf
