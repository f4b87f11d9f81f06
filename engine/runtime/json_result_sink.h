// A streamed result as JSON text (Engine::StreamFn, for a caller on the job's shard such as
// `mplane run`): the job's rows are serialised by a ResultStreamWriter as they are measured and
// each piece of text is handed on at once, so that no more than one piece is ever held.
//
// The pieces, joined, are the same mPlane result the caller would have got whole (see
// ResultStreamWriter for the two differences of layout). Never backlogged: the caller consumes
// each piece before the call returns.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "engine/sched/scheduler.h"
#include "parsers/json/result_stream_writer.h"

namespace mplane::runtime {

class JsonResultSink final : public sched::RowSink {
 public:
  // `piece` gets each piece of the result's text, in order. `end` gets, once, the job's result
  // (rows left out: they went to `piece`) after its last piece, or the exception that ended
  // the job (the text may then stop midway).
  JsonResultSink(json::WriteOptions options, std::function<void(std::string_view)> piece,
                 std::function<void(const sched::Reply&)> end);

  // RowSink, on the job's shard.
  void begin(const sched::Reply& header) override;
  void row(std::span<const model::Value> row) override;
  bool backlogged() const override { return false; }
  void finished(const sched::Reply& reply) override;

 private:
  json::WriteOptions options_;
  std::function<void(std::string_view)> piece_;
  std::function<void(const sched::Reply&)> end_;
  sched::Reply header_;  // keeps the job's strings alive while the writer borrows them
  std::unique_ptr<json::ResultStreamWriter> writer_;
};

}  // namespace mplane::runtime
