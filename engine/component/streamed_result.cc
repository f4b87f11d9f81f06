#include "engine/component/streamed_result.h"

#include <cstdio>

#include "transport/http/http_parser.h"

namespace mplane::component {

StreamedResult::StreamedResult(loop::Shard& connection_shard, transport::Responder responder,
                               bool keep_alive, runtime::Engine::StreamControl control)
    : connection_shard_(connection_shard),
      responder_(std::move(responder)),
      keep_alive_(keep_alive),
      control_(std::move(control)) {}

void StreamedResult::begin(const sched::Reply& header) {
  header_ = header;
  transport::append_chunked_head(head_, 200, "application/x-mplane+json", keep_alive_);
  writer_ = std::make_unique<json::ResultStreamWriter>(
      *header_,
      [this](std::string_view bytes) {
        std::string chunk = std::move(head_);
        head_.clear();
        transport::append_chunk(chunk, bytes);
        send(std::move(chunk), false, false);
      },
      json::WriteOptions{.pretty = false});
}

void StreamedResult::row(std::span<const model::Value> row) {
  if (!gone_.load(std::memory_order_relaxed)) writer_->add_row(row);
}

// Sets paused_ before looking at outstanding_ again, and the connection side lowers
// outstanding_ before looking at paused_: one of the two always sees the other (no lost
// resume).
bool StreamedResult::backlogged() const {
  if (gone_.load() || outstanding_.load() <= kHighWater) return false;
  paused_.store(true);
  if (outstanding_.load() <= kLowWater && paused_.exchange(false)) return false;
  return true;
}

void StreamedResult::finished(const sched::Reply& reply) {
  if (reply->kind == model::MessageKind::kResult && reply->when) {
    writer_->finish(*reply->when, reply->metadata);  // capture quality: known at the end
    std::string last = std::move(head_);  // non-empty only if nothing was sent yet
    transport::append_last_chunk(last);
    send(std::move(last), true, !keep_alive_);
  } else if (!head_.empty()) {  // nothing sent yet: the exception is the whole response
    std::string out;
    transport::append_response(out, 200, "application/x-mplane+json",
                               json::to_json(*reply, {.pretty = false}), keep_alive_);
    send(std::move(out), true, !keep_alive_);
  } else {
    std::fprintf(stderr, "mplane component: streamed result %s failed: %s\n",
                 std::string(reply->exception_token.value_or("")).c_str(),
                 std::string(reply->exception_text).c_str());
    send(std::string(), true, true);  // no terminating chunk: the client sees a truncated body
  }
  writer_.reset();
  header_.reset();
}

void StreamedResult::send(std::string bytes, bool last, bool close_after) {
  const std::size_t n = bytes.size();
  outstanding_.fetch_add(n);
  auto deliver = [self = shared_from_this(), bytes = std::move(bytes), n, last,
                  close_after]() mutable {
    if (last) {
      self->responder_.send(std::move(bytes), close_after);
      self->on_written(n, true);
      return;
    }
    self->responder_.send_part(std::move(bytes),
                               [self, n](bool delivered) { self->on_written(n, delivered); });
  };
  if (loop::Shard::current() == &connection_shard_) return deliver();
  connection_shard_.post(loop::make_task(std::move(deliver)));
}

void StreamedResult::on_written(std::size_t bytes, bool delivered) {
  const std::size_t left = outstanding_.fetch_sub(bytes) - bytes;
  if (!delivered) {
    if (!gone_.exchange(true)) control_.interrupt();
    return;
  }
  if (left <= kLowWater && paused_.exchange(false)) control_.resume();
}

}  // namespace mplane::component
