#include "engine/runtime/json_result_sink.h"

namespace mplane::runtime {

JsonResultSink::JsonResultSink(json::WriteOptions options,
                               std::function<void(std::string_view)> piece,
                               std::function<void(const sched::Reply&)> end)
    : options_(options), piece_(std::move(piece)), end_(std::move(end)) {}

void JsonResultSink::begin(const sched::Reply& header) {
  header_ = header;
  writer_ = std::make_unique<json::ResultStreamWriter>(*header_, piece_, options_);
}

void JsonResultSink::row(std::span<const model::Value> row) { writer_->add_row(row); }

void JsonResultSink::finished(const sched::Reply& reply) {
  if (reply->kind == model::MessageKind::kResult && reply->when) {
    writer_->finish(*reply->when, reply->metadata);  // capture quality: known at the end
  }
  writer_.reset();
  header_.reset();
  end_(reply);
}

}  // namespace mplane::runtime
