// Sockets on 127.0.0.1 for tests: a TCP socket bound to a free port (listening or not), and
// connecting to such a port.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdint>

namespace mplane::test {

// A TCP socket bound to 127.0.0.1 on a port the system picks (`port`), listening when
// `backlog` > 0. The caller closes it.
inline int loopback_socket(std::uint16_t& port, int backlog) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  if (backlog > 0) REQUIRE(listen(fd, backlog) == 0);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  port = ntohs(a.sin_port);
  return fd;
}

// A port free on 127.0.0.1 right now (for a process about to listen on it).
inline std::uint16_t free_loopback_port() {
  std::uint16_t port = 0;
  ::close(loopback_socket(port, 0));
  return port;
}

// A TCP connection to 127.0.0.1:port; the caller closes it.
inline int connect_loopback(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

// Whether something accepts TCP connections on 127.0.0.1:port now (a server has started).
inline bool accepts(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// True once the peer has closed `fd` (EOF or reset; bytes it sent before are skipped).
inline bool peer_closed(int fd) {
  char buf[4096];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
  }
}

}  // namespace mplane::test
