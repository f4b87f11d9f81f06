#include "engine/supervisor/front_server.h"

#include "parsers/base/log.h"

namespace mplane::supervisor {

FrontServer::FrontServer(uv_loop_t* loop, SupervisorServer& home, SupervisorServerOptions options,
                         PostFn to_home, PostFn to_here)
    : loop_(loop),
      home_(home),
      options_(std::move(options)),
      to_home_(std::move(to_home)),
      to_here_(std::move(to_here)) {}

Status<> FrontServer::listen() {
  return listeners_.listen(
      loop_, options_,
      [this](unsigned faces, transport::HttpMessage&& r, transport::Responder resp) {
        forward(faces, std::move(r), std::move(resp));
      });
}

void FrontServer::forward(unsigned faces, transport::HttpMessage&& request,
                          transport::Responder responder) {
  Sink sink = remote_sink(responder, request.keep_alive);
  SupervisorServer* home = &home_;
  const bool posted = to_home_([home, faces, request = std::move(request), sink]() mutable {
    home->handle(faces, std::move(request), std::move(sink));
  });
  if (posted) return;  // else the home shard is stopping: answer here
  SupervisorServer::local_sink(std::move(responder),
                               false)({503, "text/plain", "the supervisor is stopping"});
}

// Runs on the home shard: the answer crosses to this shard; its on_written report crosses back.
Sink FrontServer::remote_sink(transport::Responder responder, bool keep_alive) const {
  return [responder, keep_alive, to_home = to_home_, to_here = to_here_](Answer a) {
    if (a.on_written) {
      a.on_written = [to_home, written = std::move(a.on_written)](bool delivered) mutable {
        if (!to_home([written = std::move(written), delivered] { written(delivered); })) {
          log::debug("mplane supervisor: a delivery report is lost (the home shard is stopping)");
        }
      };
    }
    to_here([responder, keep_alive, a = std::move(a)]() mutable {
      SupervisorServer::local_sink(std::move(responder), keep_alive)(std::move(a));
    });
  };
}

}  // namespace mplane::supervisor
