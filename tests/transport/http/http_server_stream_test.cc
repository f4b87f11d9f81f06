// Responses sent in parts (Responder::send_part): a chunked body arrives whole and in order, each
// part's callback reports it written, and a peer that stops reading is dropped after the write
// timeout with the unwritten parts reported as never delivered.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/transport/server_thread.h"
#include "transport/http/http_client.h"

namespace mplane {
namespace {

using transport::Responder;

std::string chunk(std::string_view data) {
  std::string out;
  transport::append_chunk(out, data);
  return out;
}

TEST_CASE("http server: a response in parts arrives whole, parts reported written",
          "[transport][http][stream]") {
  std::atomic<int> delivered{0}, lost{0};
  test::ServerThread server([&](transport::HttpMessage&&, Responder r) {
    std::string head;
    transport::append_chunked_head(head, 200, "text/plain", true);
    r.send_part(head + chunk("one,"), [&](bool ok) { ++(ok ? delivered : lost); });
    r.send_part(chunk("two,"), [&](bool ok) { ++(ok ? delivered : lost); });
    r.send_part(chunk(std::string(300'000, 'x')), [&](bool ok) { ++(ok ? delivered : lost); });
    std::string last = chunk(",three");
    transport::append_last_chunk(last);
    r.send(last);
  });
  transport::HttpClient client("127.0.0.1", server.port());
  for (int i = 0; i < 2; ++i) {  // keep-alive: the connection is usable after a streamed reply
    auto res = client.request("GET", "/", "", "", 5000);
    REQUIRE(res.ok());
    CHECK(res->status == 200);
    CHECK(res->body == "one,two," + std::string(300'000, 'x') + ",three");
  }
  CHECK(client.connections_opened() == 1);
  for (int i = 0; i < 200 && delivered < 6; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(delivered == 6);
  CHECK(lost == 0);
}

TEST_CASE("http server: a peer that stops reading is dropped after the write timeout",
          "[transport][http][stream]") {
  std::atomic<int> delivered{0}, lost{0};
  // Sends 1 MiB parts, each when the previous one has left: the socket buffers fill, then
  // nothing is written for write_timeout_ms.
  struct Pump {
    Responder r;
    std::atomic<int>* delivered;
    std::atomic<int>* lost;
    void next(std::shared_ptr<Pump> self) {
      r.send_part(chunk(std::string(1 << 20, 'y')), [self](bool ok) {
        if (!ok) return void(++*self->lost);
        ++*self->delivered;
        self->next(self);
      });
    }
  };
  transport::HttpServerOptions options;
  options.write_timeout_ms = 300;
  test::ServerThread server(
      [&](transport::HttpMessage&&, Responder r) {
        std::string head;
        transport::append_chunked_head(head, 200, "text/plain", true);
        r.send_part(head, [](bool) {});
        auto pump = std::make_shared<Pump>(Pump{r, &delivered, &lost});
        pump->next(pump);
      },
      options);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(server.port());
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  const std::string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
  for (int i = 0; i < 400 && lost == 0; ++i) {  // never read: the server must give up
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(lost == 1);
  CHECK(delivered < 64);  // it stopped, far from sending forever
  ::close(fd);
}

}  // namespace
}  // namespace mplane
