// errno as text for error values: "File exists (EEXIST)".
#pragma once

#include <cstring>
#include <string>

namespace mplane::agent {

inline std::string errno_text(int e) {
  const char* name = ::strerrorname_np(e);
  return std::string(std::strerror(e)) + " (" + (name != nullptr ? name : std::to_string(e)) + ")";
}

}  // namespace mplane::agent
