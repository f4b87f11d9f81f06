// The INI reader: configparser's layout, line numbers, and FILE:LINE errors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "conf/ini.h"

namespace mplane::conf {
namespace {

namespace fs = std::filesystem;

IniFile parsed(std::string_view text) {
  auto ini = parse_ini(text, "comp.conf");
  if (!ini) FAIL(ini.error());
  return std::move(ini).value();
}

TEST_CASE("ini: sections, keys, values and line numbers", "[conf][ini]") {
  const IniFile ini = parsed(
      "# leading comment\n"
      "; another comment\n"
      "\n"
      "[component]\n"
      "workflow = client-initiated\n"
      "listen-port:1228\n"
      "  # indented comment\n"
      "listen-cap-link = http://host:8888/\n"
      "url: http://x/a=b\n"
      "empty =\n"
      "Key = upper\n"
      "key = lower\n"
      "[Roles]\n"
      "org.mplane.SSB.Clients.Client-1 = guest, admin\n");
  CHECK(ini.path == "comp.conf");
  REQUIRE(ini.sections.size() == 2);
  const IniSection& c = ini.sections[0];
  CHECK(c.name == "component");
  CHECK(c.line == 4);
  REQUIRE(c.entries.size() == 7);
  auto [key, value, line] = GENERATE(table<std::string, std::string, int>({
      {"workflow", "client-initiated", 5},
      {"listen-port", "1228", 6},
      {"listen-cap-link", "http://host:8888/", 8},  // the first '=' or ':' splits
      {"url", "http://x/a=b", 9},
      {"empty", "", 10},
      {"Key", "upper", 11},  // keys are case-sensitive
      {"key", "lower", 12},
  }));
  INFO(key);
  const IniEntry* e = c.find(key);
  REQUIRE(e != nullptr);
  CHECK(e->value == value);
  CHECK(e->line == line);
  CHECK(ini.find("Roles")->line == 13);
  CHECK(ini.find("Roles")->find("org.mplane.SSB.Clients.Client-1")->value == "guest, admin");
  CHECK(ini.find("roles") == nullptr);
  CHECK(c.find("missing") == nullptr);
}

TEST_CASE("ini: continuation lines join with newlines", "[conf][ini]") {
  const IniFile ini = parsed(
      "[s]\n"
      "list = a\n"
      "    b\n"
      "\n"
      "    # a comment inside is skipped\n"
      "\tc d \n"
      "next = 1\n"
      "  indented = key\n"
      "    continues it\n"
      "[t]\n"
      "  first = after a header an indented line is a key\n");
  const IniSection& s = ini.sections[0];
  REQUIRE(s.entries.size() == 2);
  CHECK(s.entries[0].value == "a\nb\nc d");  // blank lines and comments inside are dropped
  CHECK(s.entries[0].line == 2);
  // Indented deeper than its key line: a continuation even if it looks like a pair.
  CHECK(s.entries[1].value == "1\nindented = key\ncontinues it");
  const IniSection& t = ini.sections[1];
  REQUIRE(t.entries.size() == 1);  // right after a header there is nothing to continue
  CHECK(t.entries[0].key == "first");
  CHECK(t.entries[0].line == 11);
}

TEST_CASE("ini: comments only after the key line, CRLF, BOM, no final newline", "[conf][ini]") {
  const IniFile ini = parsed("\xEF\xBB\xBF[a]\r\nx = 1 ; not a comment\r\n[b]\r\ny=2");
  REQUIRE(ini.sections.size() == 2);
  CHECK(ini.sections[0].find("x")->value == "1 ; not a comment");
  CHECK(ini.sections[1].find("y")->value == "2");
  CHECK(ini.sections[1].find("y")->line == 4);
  CHECK(parsed("").sections.empty());
  CHECK(parsed("# nothing\n\n").sections.empty());
  CHECK(parsed("[ spaced name ]\n").sections[0].name == " spaced name ");
}

TEST_CASE("ini: errors name file, line and reason", "[conf][ini]") {
  auto [text, error] = GENERATE(table<std::string, std::string>({
      {"[a]\nx = 1\njust words\n",
       "comp.conf:3: line is not a section header, a key = value pair or a comment"},
      {"# c\nx = 1\n[a]\n", "comp.conf:2: key 'x' before any section header"},
      {"[a]\nx = 1\n\nx = 2\n", "comp.conf:4: duplicate key 'x' in [a] (first at line 2)"},
      {"[a]\n[b]\n[a]\n", "comp.conf:3: duplicate section [a] (first at line 1)"},
      {"[a]\n = 1\n", "comp.conf:2: empty key"},
      {"[a]\n[]\n", "comp.conf:2: empty section name"},
      {"[a]\n[b] x\n", "comp.conf:2: section header does not end with ']'"},
      {"[a\n", "comp.conf:1: section header does not end with ']'"},
  }));
  INFO(text);
  auto ini = parse_ini(text, "comp.conf");
  REQUIRE_FALSE(ini.ok());
  CHECK(ini.error() == error);
}

TEST_CASE("ini: load_ini reads a file and names it in errors", "[conf][ini]") {
  const fs::path dir = fs::temp_directory_path() / ("mplane-ini-test-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "x.conf").string();
  std::ofstream(path) << "[a]\nk = v\nbad line\n";
  auto bad = load_ini(path);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error() == path + ":3: line is not a section header, a key = value pair or a comment");
  std::ofstream(path) << "[a]\nk = v\n";
  auto good = load_ini(path);
  REQUIRE(good.ok());
  CHECK(good->path == path);
  CHECK(good->find("a")->find("k")->value == "v");

  const std::string missing = (dir / "missing.conf").string();
  CHECK(load_ini(missing).error() == missing + ": cannot open configuration file");
  CHECK(load_ini(dir.string()).error() == dir.string() + ": cannot open configuration file");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mplane::conf
