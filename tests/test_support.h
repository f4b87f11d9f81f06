// Helpers shared by the unit tests: reading files, the test data (tests/data), the shared/ folder
// beside the repository (test peers only), parsing with the core (and loopback) registries.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

#include "conf/builtin.h"
#include "parsers/json/message_reader.h"
#include "tests/registries_support.h"

namespace mplane::test {

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A file holding `content` in the temporary directory, removed with the object; a unique name
// per process and object (tests run in parallel processes).
struct TempFile {
  explicit TempFile(const std::string& content, const std::string& suffix = "")
      : path(
            (std::filesystem::temp_directory_path() / ("mplane_test_" + std::to_string(::getpid()) +
                                                       "_" + std::to_string(++counter) + suffix))
                .string()) {
    std::ofstream(path, std::ios::binary) << content;
  }
  ~TempFile() { std::filesystem::remove(path); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  std::string path;
  static inline int counter = 0;
};

// Whether this build runs under AddressSanitizer (MPLANE_SANITIZE): its allocator keeps freed
// memory in a quarantine (256 MiB by default) and adds shadow memory, so memory bounds measured
// from outside (peak RSS) need room for it.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif

// A fresh directory under the system's temporary directory, removed with the object; a unique
// name per process and object.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "mplane-test-dir")
      : path_(std::filesystem::temp_directory_path() /
              (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `text` to the relative path `name` (creating directories) and returns its path.
  std::string write(const std::string& name, std::string_view text) const {
    const std::filesystem::path p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  std::filesystem::path path() const { return path_; }
  // The path of `name` inside (nothing is created).
  std::string sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
  static inline int counter = 0;
};

// A fixed "now" for tests on a manual clock: 2030-01-01 12:00 UTC.
inline constexpr model::MicrosSinceEpoch kT0 = 1893499200LL * model::kMicrosPerSecond;

inline std::filesystem::path source_dir() { return MPLANE_SOURCE_DIR; }
// Everything the tests read is in the repository (tests/data/README.md says where it comes from).
inline std::filesystem::path data_dir() { return source_dir() / "tests" / "data"; }
// The protocol test vectors emitted by the Python RI.
inline std::filesystem::path vector_path(const std::string& name) {
  return data_dir() / "mplane" / "vectors" / name;
}
// The 18 correctness captures (tests/data/capture/pcaps/README.md).
inline std::filesystem::path pcaps_dir() { return data_dir() / "capture" / "pcaps"; }
// The project's shared/ folder beside the repository (MPLANE_SHARED_DIR, default ../shared): only
// test peers (programs, e.g. the Python RI in peers/ri) are taken from it; tests using one skip
// when it is absent (tests/skip_support.h).
inline std::filesystem::path shared_dir() {
  return std::filesystem::path(MPLANE_SHARED_DIR).lexically_normal();
}

// The built-in registries (core, loopback), loaded once for the whole test binary.
inline const model::RegistrySet& registries() { return builtin_registries(); }

// Parses JSON text with the test registries; the message owns its input.
inline Result<std::unique_ptr<json::OwnedMessage>, json::ParseError> parse(std::string_view text) {
  json::MessageReader reader(registries());
  return json::parse_owned(reader, text);
}

}  // namespace mplane::test
