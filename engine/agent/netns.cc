#include "engine/agent/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "engine/agent/sys_error.h"

namespace mplane::agent {

std::string netns_path(const std::string& name) { return "/run/netns/" + name; }

Result<NetnsScope> NetnsScope::enter(const std::string& name) {
  if (name.empty()) return NetnsScope(-1);
  const auto error = [&](const std::string& what) {
    return fail("network namespace '" + name + "': " + what + ": " + errno_text(errno));
  };
  if (name.find('/') != std::string::npos || name == "." || name == "..") {
    errno = EINVAL;
    return error("not a namespace name");
  }
  const std::string path = netns_path(name);
  const int target = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) return error(path);
  const int saved = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (saved < 0) {
    const auto e = error("/proc/thread-self/ns/net");
    ::close(target);
    return e;
  }
  if (::setns(target, CLONE_NEWNET) != 0) {
    const auto e = error("setns");
    ::close(target);
    ::close(saved);
    return e;
  }
  ::close(target);
  return NetnsScope(saved);
}

NetnsScope::~NetnsScope() {
  if (saved_fd_ < 0) return;
  if (::setns(saved_fd_, CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "mplane: cannot return to the original network namespace: %s\n",
                 errno_text(errno).c_str());
    std::abort();
  }
  ::close(saved_fd_);
}

}  // namespace mplane::agent
