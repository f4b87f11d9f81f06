// A large result streamed to the client that waits for it (Engine::StreamFn): the job's rows are
// serialised on the job's shard into the chunks of one chunked HTTP response, which the
// connection's shard writes. Memory stays bounded: past kHighWater bytes sent but not yet
// written to the socket the service is paused, and it resumes below kLowWater.
//
// The body is the same mPlane result the client would have got whole (compact layout). If the
// job fails midway, the response ends without its terminating chunk (the client sees a
// truncated response, never a partial result that looks complete) and the exception is
// reported on stderr. If the client goes away, the job is interrupted.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "engine/loop/shard.h"
#include "engine/runtime/engine.h"
#include "parsers/json/result_stream_writer.h"
#include "transport/http/http_server.h"

namespace mplane::component {

class StreamedResult final : public sched::RowSink,
                             public std::enable_shared_from_this<StreamedResult> {
 public:
  static constexpr std::size_t kHighWater = 4 * 1024 * 1024;
  static constexpr std::size_t kLowWater = 1024 * 1024;

  // `connection_shard` runs `responder`'s connection.
  StreamedResult(loop::Shard& connection_shard, transport::Responder responder, bool keep_alive,
                 runtime::Engine::StreamControl control);

  // RowSink, on the job's shard.
  void begin(const sched::Reply& header) override;
  void row(std::span<const model::Value> row) override;
  bool backlogged() const override;
  void finished(const sched::Reply& reply) override;

 private:
  void send(std::string bytes, bool last, bool close_after);  // job's shard
  void on_written(std::size_t bytes, bool delivered);         // connection's shard

  loop::Shard& connection_shard_;
  transport::Responder responder_;  // used on the connection's shard only
  bool keep_alive_;
  runtime::Engine::StreamControl control_;
  sched::Reply header_;  // keeps the job's strings alive while the writer borrows them
  std::unique_ptr<json::ResultStreamWriter> writer_;
  std::string head_;                         // the HTTP head, sent with the first chunk
  std::atomic<std::size_t> outstanding_{0};  // bytes posted, not yet written to the socket
  mutable std::atomic<bool> paused_{false};
  std::atomic<bool> gone_{false};
};

}  // namespace mplane::component
