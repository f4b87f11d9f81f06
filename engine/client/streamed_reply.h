// A reply read as it arrives (HttpExchange::send with a sink): an mPlane message goes through a
// json::ResultStreamReader, its result rows to the caller's handler as each is complete, and the
// message itself is kept without its rows (row_count 0). Any other reply (an HTTP error page, or
// a 400 carrying an mPlane exception) is kept whole up to 1 MiB and read as the whole-reply path
// reads it: a message if it parses as one, else the error line. Memory: the reader's (the message
// head plus one row).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "parsers/json/message_reader.h"
#include "parsers/json/result_stream_reader.h"
#include "transport/http/http_client.h"
#include "transport/http/http_parser.h"

namespace mplane::client {

class StreamedReply final : private json::ResultStreamHandler {
 public:
  // `registries` and `rows` must outlive the reply.
  StreamedReply(const model::RegistrySet& registries, json::ResultStreamHandler& rows);
  StreamedReply(const StreamedReply&) = delete;
  StreamedReply& operator=(const StreamedReply&) = delete;

  // What to pass to the exchange; it borrows this object.
  transport::ResponseSink& sink() { return sink_; }
  // Why the body was refused, if it was (a bad message, or the handler's own error): the
  // exchange then failed although a response came.
  const std::optional<std::string>& refused() const { return refused_; }
  // After the exchange returned `head` (status and headers): the message, or one line saying
  // why there is none ("POST URL: HTTP 500: …", "POST URL: bad reply: row 7: …").
  Result<std::unique_ptr<json::OwnedMessage>> finish(const transport::HttpUrl& url,
                                                     const transport::HttpMessage& head);

 private:
  Status<> on_head(const transport::HttpMessage& head);
  Status<> on_body(std::string_view piece);
  // json::ResultStreamHandler
  Status<> on_columns(std::span<const model::Element* const> columns) override;
  Status<> on_row(std::size_t number, std::span<const model::Value> values) override;
  Status<> on_message(const model::Message& message) override;

  const model::RegistrySet& registries_;
  json::ResultStreamHandler& rows_;
  json::ResultStreamReader reader_;
  transport::ResponseSink sink_;
  bool mplane_ = false;
  std::string other_body_;  // the start of a body that is not an mPlane message
  std::optional<std::string> refused_;
  std::unique_ptr<json::OwnedMessage> message_;
};

}  // namespace mplane::client
