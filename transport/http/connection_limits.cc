#include "transport/http/connection_limits.h"

namespace mplane::transport {

std::optional<std::string> ConnectionLimits::admit(std::string_view peer_ip) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (connections_ >= options_.max_connections) {
    return "too many connections (" + std::to_string(connections_) + ", max-connections)";
  }
  auto it = per_peer_.find(std::string(peer_ip));
  const std::size_t mine = it == per_peer_.end() ? 0 : it->second;
  if (mine >= options_.max_per_peer) {
    return "too many connections from " + std::string(peer_ip) + " (" + std::to_string(mine) +
           ", max-connections-per-peer)";
  }
  if (it == per_peer_.end()) {
    per_peer_.emplace(std::string(peer_ip), 1);
  } else {
    ++it->second;
  }
  ++connections_;
  return std::nullopt;
}

void ConnectionLimits::leave(std::string_view peer_ip) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (connections_ > 0) --connections_;
  auto it = per_peer_.find(std::string(peer_ip));
  if (it != per_peer_.end() && --it->second == 0) per_peer_.erase(it);
}

bool ConnectionLimits::take_body(std::size_t bytes) {
  std::size_t now = body_.load(std::memory_order_relaxed);
  do {
    if (now + bytes > options_.max_body_bytes) return false;
  } while (!body_.compare_exchange_weak(now, now + bytes, std::memory_order_relaxed));
  return true;
}

std::size_t ConnectionLimits::connections() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return connections_;
}

}  // namespace mplane::transport
