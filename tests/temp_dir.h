// A fresh directory under the system's temporary directory for one test case, removed with
// everything in it when the object goes.
#pragma once

#include <unistd.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

namespace mplane::test {

struct TempDir {
  explicit TempDir(const std::string& prefix = "mplane_test") {
    std::string name = (std::filesystem::temp_directory_path() / (prefix + "_XXXXXX")).string();
    REQUIRE(::mkdtemp(name.data()) != nullptr);
    path = name;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string sub(const std::string& name) const { return (path / name).string(); }
  std::filesystem::path path;
};

}  // namespace mplane::test
