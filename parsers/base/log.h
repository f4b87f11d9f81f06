// The process log: one line per event on stderr, with a UTC timestamp and a level, for
// operators (refused handshakes, denied requests, overloads, connections dropped by a limit,
// and at `info` an access log).
//
//   2026-12-02T05:42:37.123Z warn  denied org.mplane.SSB.Clients.Client-2 capability
//   ping-average-ip4
//
// Thread-safe: each line is one write(2) of at most kMaxLine bytes (longer lines are cut), so
// lines of different shards never interleave. The level is one process-wide atomic, set once
// at start (`--log-level`, `[engine] log-level`). Header-only: every module may log, the
// lowest (transport) included, without a link dependency.
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace mplane::log {

enum class Level : std::uint8_t { kError, kWarn, kInfo, kDebug };

inline std::atomic<Level>& threshold() {
  static std::atomic<Level> level{Level::kWarn};
  return level;
}

// Lines at `level` and more severe are written (default: warn).
inline void set_level(Level level) { threshold().store(level, std::memory_order_relaxed); }
inline bool enabled(Level level) { return level <= threshold().load(std::memory_order_relaxed); }

inline std::string_view level_name(Level level) {
  switch (level) {
    case Level::kError:
      return "error";
    case Level::kWarn:
      return "warn";
    case Level::kInfo:
      return "info";
    case Level::kDebug:
      return "debug";
  }
  return "?";
}

// "error", "warn", "info", "debug" (as --log-level takes them); nullopt for anything else.
inline std::optional<Level> parse_level(std::string_view name) {
  for (Level l : {Level::kError, Level::kWarn, Level::kInfo, Level::kDebug}) {
    if (name == level_name(l)) return l;
  }
  return std::nullopt;
}

constexpr std::size_t kMaxLine = 2048;

// Writes one line (no newline in `text`) if `level` is enabled. Never fails the caller.
inline void write(Level level, std::string_view text) {
  if (!enabled(level)) return;
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char line[kMaxLine + 64];
  int n = std::snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %-5s ",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                        tm.tm_sec, static_cast<int>(ms % 1000), level_name(level).data());
  if (n < 0) return;
  std::size_t used = static_cast<std::size_t>(n);
  const std::size_t room = sizeof line - used - 1;
  const std::size_t take = text.size() < room ? text.size() : room;
  for (std::size_t i = 0; i < take; ++i) {  // one line: control characters become '?'
    const char c = text[i];
    line[used++] = (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  line[used++] = '\n';
  const ssize_t ignored = ::write(STDERR_FILENO, line, used);
  (void)ignored;
}

inline void error(std::string_view text) { write(Level::kError, text); }
inline void warn(std::string_view text) { write(Level::kWarn, text); }
inline void info(std::string_view text) { write(Level::kInfo, text); }
inline void debug(std::string_view text) { write(Level::kDebug, text); }

}  // namespace mplane::log
