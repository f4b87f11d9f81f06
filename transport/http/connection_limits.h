// Bounds a server keeps across all its shards (one object shared by every shard's HttpServer):
// open connections in total and per peer address, and response bytes not yet written to the
// sockets. Thread-safe: admit()/leave() take a mutex (once per connection); the output count
// is an atomic (twice per write).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mplane::transport {

struct ConnectionLimitOptions {
  std::size_t max_connections = 4096;  // open connections, all peers
  std::size_t max_per_peer = 256;      // open connections from one IP address
  // Response bytes queued for sockets, all connections: past it every connection stops
  // reading new requests until the queues drain below half of it.
  std::size_t max_output_bytes = 128 * 1024 * 1024;
  // Request bodies being received, all connections (announced lengths, or what has come of a
  // chunked body): a request that would go past it is answered 503 at once.
  std::size_t max_body_bytes = 256 * 1024 * 1024;
};

class ConnectionLimits {
 public:
  explicit ConnectionLimits(ConnectionLimitOptions options = {}) : options_(options) {}

  // Counts a new connection from `peer_ip`; or says why it is refused (nothing counted).
  std::optional<std::string> admit(std::string_view peer_ip);
  void leave(std::string_view peer_ip);

  void add_output(std::size_t bytes) { output_.fetch_add(bytes, std::memory_order_relaxed); }
  void remove_output(std::size_t bytes) { output_.fetch_sub(bytes, std::memory_order_relaxed); }
  // Above the bound (stop reading) / below its low watermark (read again).
  bool output_high() const { return output() >= options_.max_output_bytes; }
  bool output_low() const { return output() < options_.max_output_bytes / 2; }
  std::size_t output() const { return output_.load(std::memory_order_relaxed); }

  // Counts `bytes` more of request bodies in progress; false (nothing counted) past the bound.
  bool take_body(std::size_t bytes);
  void give_body(std::size_t bytes) { body_.fetch_sub(bytes, std::memory_order_relaxed); }
  std::size_t body_bytes() const { return body_.load(std::memory_order_relaxed); }

  std::size_t connections() const;
  const ConnectionLimitOptions& options() const { return options_; }

 private:
  const ConnectionLimitOptions options_;
  mutable std::mutex mutex_;
  std::size_t connections_ = 0;
  std::unordered_map<std::string, std::size_t> per_peer_;
  std::atomic<std::size_t> output_{0};
  std::atomic<std::size_t> body_{0};
};

}  // namespace mplane::transport
