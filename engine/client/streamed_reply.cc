#include "engine/client/streamed_reply.h"

#include "engine/client/mplane_reply.h"

namespace mplane::client {
namespace {

// A reply that is not a 200 mPlane message is kept whole up to this size: it may still be one
// (our component answers a malformed message with 400 and an mPlane exception).
constexpr std::size_t kOtherBodyBytes = std::size_t{1} << 20;

// Results keep their columns but not their rows.
void drop_rows(model::Message& m) {
  m.row_count = 0;
  for (model::Column& c : m.columns) c.values.clear();
  for (model::Message& member : m.contents) drop_rows(member);
}

}  // namespace

StreamedReply::StreamedReply(const model::RegistrySet& registries, json::ResultStreamHandler& rows)
    : registries_(registries), rows_(rows), reader_(registries, *this) {
  sink_.on_head = [this](const transport::HttpMessage& head) { return on_head(head); };
  sink_.on_body = [this](std::string_view piece) { return on_body(piece); };
}

Status<> StreamedReply::on_head(const transport::HttpMessage& head) {
  mplane_ = is_mplane_reply(head);
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
    json::MessageReader reader(registries_);
    auto parsed = json::parse_owned(reader, other_body_);
    if (!parsed) return fail(not_mplane_error(url, head.status, other_body_));
    return std::move(parsed.value());
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
