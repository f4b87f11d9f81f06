// HTTP/1.1 message parsing on llhttp, for the server (requests) and the client (responses).
//
// Feed bytes as they arrive, in any fragmentation; every complete message comes out whole,
// pipelined ones in order. Limits on head size, header count and body size turn into errors
// that carry the 4xx status the server answers with. Not thread-safe; one parser per
// connection. Never throws; an error is sticky (the connection is to be closed after replying).
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parsers/base/result.h"

namespace mplane::transport {

struct HttpLimits {
  std::size_t max_head_bytes = 16 * 1024;  // request line / status line + headers
  std::size_t max_headers = 64;
  std::size_t max_body_bytes = 64 * 1024 * 1024;  // after chunked decoding
};

struct HttpMessage {
  std::string method;                                        // requests: "GET", "POST", …
  std::string target;                                        // requests: "/capability/abc"
  int status = 0;                                            // responses
  std::vector<std::pair<std::string, std::string>> headers;  // in order, names as received
  std::string body;  // decoded (chunked transfer coding removed)
  bool keep_alive = true;
  // Set by the server: who sent it (certificate identity, or Identity.Unauthenticated.Default).
  std::string peer_identity;

  // The first header with this name (ASCII case-insensitive), or null.
  const std::string* header(std::string_view name) const;
};

struct HttpParseError {
  int status = 400;        // what a server answers: 400, 413 (body), 431 (head, header count)
  std::string reason;      // e.g. "header section larger than 16384 bytes"
  bool from_sink = false;  // a ResponseSink returned this error; `reason` is its message
};

// Receives a response as it arrives instead of keeping its body.
struct ResponseSink {
  // The status line and headers (HttpMessage with an empty body), once, before any body byte.
  std::function<Status<>(const HttpMessage& head)> on_head;
  // Each piece of the decoded body (chunked transfer coding removed), in order, as it arrives.
  std::function<Status<>(std::string_view piece)> on_body;
};

class HttpParser {
 public:
  enum class Kind : std::uint8_t { kRequest, kResponse };
  explicit HttpParser(Kind kind, HttpLimits limits = {});
  HttpParser(const HttpParser&) = delete;
  HttpParser& operator=(const HttpParser&) = delete;

  // Parses `bytes`; appends each completed message to `out`. On error returns it (and keeps
  // returning it): messages completed before the error are still in `out`.
  Status<HttpParseError> feed(std::string_view bytes, std::vector<HttpMessage>& out);
  // The peer closed: completes a response whose body runs to the end of the stream.
  Status<HttpParseError> finish(std::vector<HttpMessage>& out);

  // A message has begun and is not complete (for header/idle timeouts).
  bool in_message() const { return in_message_; }
  bool head_complete() const { return head_complete_; }
  // Body bytes received so far of the message in progress, and its Content-Length (0 if none).
  std::size_t body_bytes() const { return current_.body.size(); }
  std::size_t announced_body_bytes() const { return announced_body_; }
  // Makes room for the whole announced body at once: stored once at its size, it never costs
  // the up to three times the body of growing by doubling. (Separate from the head, so that
  // the caller may first check the size against its budget.)
  void reserve_body();
  // True once after the head of a request with `Expect: 100-continue` (RFC 9110 §10.1.1): the
  // server answers `100 Continue` so that the client sends the body without waiting.
  bool take_expect_continue() { return std::exchange(expect_continue_, false); }

  // Streaming: while `sink` is set, each message's head and body pieces go to it as they are
  // parsed, the message appended to `out` keeps an empty body, and the body-size limit does not
  // apply. An error returned by the sink is the parser's (sticky) error, with from_sink set.
  // Null: bodies are kept again. `sink` must outlive its use.
  void stream_to(ResponseSink* sink) { sink_ = sink; }

 private:
  friend struct HttpCallbacks;
  int on_data(std::string* target, const char* at, std::size_t n, bool head);
  int on_header_field(const char* at, std::size_t n);
  int on_header_value(const char* at, std::size_t n);
  int on_headers_complete();
  int on_body(const char* at, std::size_t n);
  int on_message_complete();
  int fail_with(int status, std::string reason);
  int sink_failed(Status<> st);

  Kind kind_;
  HttpLimits limits_;
  llhttp_t parser_{};
  HttpMessage current_;
  std::vector<HttpMessage>* out_ = nullptr;
  std::size_t head_bytes_ = 0;
  bool in_value_ = false;
  bool in_message_ = false;
  bool head_complete_ = false;
  bool expect_continue_ = false;
  std::size_t announced_body_ = 0;
  std::string status_text_;
  std::optional<HttpParseError> error_;
  ResponseSink* sink_ = nullptr;
};

// Serialisation. Header names/values are written as given (no validation: callers use
// constants); Content-Length is added for bodies.
void append_response_head(std::string& out, int status, std::string_view content_type,
                          std::size_t content_length, bool keep_alive);
void append_response(std::string& out, int status, std::string_view content_type,
                     std::string_view body, bool keep_alive);
// A chunked response: head, then chunks, then the terminating chunk.
void append_chunked_head(std::string& out, int status, std::string_view content_type,
                         bool keep_alive);
void append_chunk(std::string& out, std::string_view data);
void append_last_chunk(std::string& out);
void append_request(std::string& out, std::string_view method, std::string_view target,
                    std::string_view host, std::string_view content_type, std::string_view body);
std::string_view status_reason(int status);

}  // namespace mplane::transport
