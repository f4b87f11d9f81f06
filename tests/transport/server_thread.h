// An HttpServer on its own loop and thread, for tests that need a peer (a server for the
// client tests, a collector for indirect export). The handler runs on that thread.
#pragma once

#include <uv.h>
#include <catch2/catch.hpp>

#include <memory>
#include <thread>

#include "transport/http/http_server.h"

namespace mplane::test {

using transport::HttpServer;
using transport::HttpServerOptions;
using transport::RequestHandler;

// An HttpServer on its own loop thread. The handler runs on that thread.
class ServerThread {
 public:
  explicit ServerThread(RequestHandler handler, HttpServerOptions options = {}) {
    uv_loop_init(&loop_);
    uv_async_init(&loop_, &stop_, [](uv_async_t* a) {
      auto* self = static_cast<ServerThread*>(a->data);
      self->server_->close();
      uv_close(reinterpret_cast<uv_handle_t*>(&self->stop_), nullptr);
    });
    stop_.data = this;
    server_ = std::make_unique<HttpServer>(&loop_, std::move(options), std::move(handler));
    REQUIRE(server_->listen().ok());
    thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
  }
  ~ServerThread() {
    uv_async_send(&stop_);
    thread_.join();
    server_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }
  std::uint16_t port() const { return server_->port(); }

 private:
  uv_loop_t loop_{};
  uv_async_t stop_{};
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

}  // namespace mplane::test
