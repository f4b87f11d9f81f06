#include "engine/client/streamed_reply.h"

namespace mplane::client {
namespace {

constexpr std::string_view kMplaneJson = "application/x-mplane+json";
constexpr std::size_t kOtherBodyBytes = 4096;

// Results keep their columns but not their rows.
void drop_rows(model::Message& m) {
  m.row_count = 0;
  for (model::Column& c : m.columns) c.values.clear();
  for (model::Message& member : m.contents) drop_rows(member);
}

}  // namespace

StreamedReply::StreamedReply(const model::RegistrySet& registries, json::ResultStreamHandler& rows)
    : rows_(rows), reader_(registries, *this) {
  sink_.on_head = [this](const transport::HttpMessage& head) { return on_head(head); };
  sink_.on_body = [this](std::string_view piece) { return on_body(piece); };
}

Status<> StreamedReply::on_head(const transport::HttpMessage& head) {
  const std::string* type = head.header("Content-Type");
  mplane_ = head.status == 200 && type && *type == kMplaneJson;
  return Ok{};
}

Status<> StreamedReply::on_body(std::string_view piece) {
  if (!mplane_) {
    other_body_.append(
        piece.substr(0, kOtherBodyBytes - std::min(kOtherBodyBytes, other_body_.size())));
    return Ok{};
  }
  auto st = reader_.feed(piece);
  if (!st) refused_ = st.error();
  return st;
}

Result<std::unique_ptr<json::OwnedMessage>> StreamedReply::finish(
    const transport::HttpUrl& url, const transport::HttpMessage& head) {
  if (!mplane_) {
    std::string first = other_body_.substr(0, other_body_.find('\n')).substr(0, 200);
    return fail("POST " + url.str() + ": HTTP " + std::to_string(head.status) +
                (first.empty() ? "" : ": " + first));
  }
  if (auto st = reader_.finish(); !st)
    return fail("POST " + url.str() + ": bad reply: " + st.error());
  if (!message_) return fail("POST " + url.str() + ": bad reply: no message");
  return std::move(message_);
}

Status<> StreamedReply::on_columns(std::span<const model::Element* const> columns) {
  return rows_.on_columns(columns);
}

Status<> StreamedReply::on_row(std::size_t number, std::span<const model::Value> values) {
  return rows_.on_row(number, values);
}

Status<> StreamedReply::on_message(const model::Message& message) {
  message_ = std::make_unique<json::OwnedMessage>();
  message_->message = model::copy_message(message, message_->arena);
  drop_rows(message_->message);
  return rows_.on_message(message);
}

}  // namespace mplane::client
