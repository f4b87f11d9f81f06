// FrontServer: a supervisor's listeners on a shard other than the home shard (the one whose loop
// runs the Supervisor, its store and its SupervisorServer). Connections, TLS and HTTP parsing run
// here; each request crosses to the home shard, is handled there by SupervisorServer::handle(),
// and its answer crosses back to be written here. When an answer says when it was written
// (Answer::on_written: the queued specifications it carries may then leave the store), that
// report crosses home again. Every crossing is a task through the shards' one door
// (loop::Shard::post), so no object is touched by two threads.
//
// Loop-thread only (this shard's). The home SupervisorServer must outlive every task this front
// posts home: the supervisor command destroys both after every shard has been joined.
#pragma once

#include <functional>
#include <memory>

#include "engine/supervisor/supervisor_server.h"

namespace mplane::supervisor {

// Posts `work` to run on a shard's loop. False when that shard no longer takes work (it is
// stopping); `work` is then dropped unrun, on the calling thread.
using PostFn = std::function<bool(std::function<void()> work)>;

class FrontServer {
 public:
  // `to_home` posts to the home shard, `to_here` to this front's shard.
  FrontServer(uv_loop_t* loop, SupervisorServer& home, SupervisorServerOptions options,
              PostFn to_home, PostFn to_here);
  FrontServer(const FrontServer&) = delete;
  FrontServer& operator=(const FrontServer&) = delete;

  Status<> listen();
  std::uint16_t port() const { return listeners_.port(); }
  std::uint16_t component_port() const { return listeners_.component_port(); }
  void close() { listeners_.close(); }

 private:
  void forward(unsigned faces, transport::HttpMessage&& request, transport::Responder responder);
  Sink remote_sink(transport::Responder responder, bool keep_alive) const;

  uv_loop_t* loop_;
  SupervisorServer& home_;
  SupervisorServerOptions options_;
  PostFn to_home_;
  PostFn to_here_;
  FaceListeners listeners_;
};

}  // namespace mplane::supervisor
