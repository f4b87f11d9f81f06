// Entering a named network namespace for a moment (ip-netns(8) names: /run/netns/NAME).
//
// The tun and the rtnetlink socket must be created inside the agent's namespace while the AMQP
// connection stays in the caller's: a socket or tun device belongs to the namespace its creator
// was in when it was made, and keeps working from anywhere afterwards. setns(2) switches the
// calling thread only, so other threads (shards) are not affected.
#pragma once

#include <string>

#include "parsers/base/result.h"

namespace mplane::agent {

// While alive, the calling thread is in namespace NAME; the destructor returns it to the
// namespace it was in before. An empty name switches nothing. Not movable across threads:
// create and destroy it on the same thread, and keep its scope short (create fds, leave).
// If returning fails the process aborts (the thread would go on in the wrong namespace, e.g.
// connecting to the broker from inside the test network).
class NetnsScope {
 public:
  // Errors: "network namespace 'x': /run/netns/x: No such file or directory",
  // "... setns: Operation not permitted".
  [[nodiscard]] static Result<NetnsScope> enter(const std::string& name);
  NetnsScope(NetnsScope&& other) noexcept : saved_fd_(other.saved_fd_) { other.saved_fd_ = -1; }
  NetnsScope& operator=(NetnsScope&&) = delete;
  NetnsScope(const NetnsScope&) = delete;
  ~NetnsScope();

 private:
  explicit NetnsScope(int saved_fd) : saved_fd_(saved_fd) {}
  int saved_fd_;  // the thread's namespace before entering; -1: nothing to restore
};

// The path of a named namespace ("/run/netns/NAME").
std::string netns_path(const std::string& name);

}  // namespace mplane::agent
