#include "transport/http/http_parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace mplane::transport {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

// The llhttp callbacks: capture-less trampolines to the HttpParser in parser->data (STYLE C6).
struct HttpCallbacks {
  static HttpParser& self(llhttp_t* p) noexcept { return *static_cast<HttpParser*>(p->data); }
  static int message_begin(llhttp_t* p) noexcept {
    HttpParser& s = self(p);
    s.current_ = HttpMessage{};
    s.head_bytes_ = 0;
    s.in_value_ = false;
    s.in_message_ = true;
    s.head_complete_ = false;
    return 0;
  }
  static int url(llhttp_t* p, const char* at, std::size_t n) noexcept {
    return self(p).on_data(&self(p).current_.target, at, n, true);
  }
  static int method(llhttp_t* p, const char* at, std::size_t n) noexcept {
    return self(p).on_data(&self(p).current_.method, at, n, true);
  }
  static int status(llhttp_t* p, const char* at, std::size_t n) noexcept {
    return self(p).on_data(&self(p).status_text_, at, n, true);
  }
  static int header_field(llhttp_t* p, const char* at, std::size_t n) noexcept {
    return self(p).on_header_field(at, n);
  }
  static int header_value(llhttp_t* p, const char* at, std::size_t n) noexcept {
    return self(p).on_header_value(at, n);
  }
  static int headers_complete(llhttp_t* p) noexcept { return self(p).on_headers_complete(); }
  static int body(llhttp_t* p, const char* at, std::size_t n) noexcept {
    return self(p).on_body(at, n);
  }
  static int message_complete(llhttp_t* p) noexcept { return self(p).on_message_complete(); }

  static const llhttp_settings_t& settings() {
    static const llhttp_settings_t kSettings = [] {
      llhttp_settings_t s;
      llhttp_settings_init(&s);
      s.on_message_begin = &message_begin;
      s.on_url = &url;
      s.on_method = &method;
      s.on_status = &status;
      s.on_header_field = &header_field;
      s.on_header_value = &header_value;
      s.on_headers_complete = &headers_complete;
      s.on_body = &body;
      s.on_message_complete = &message_complete;
      return s;
    }();
    return kSettings;
  }
};

const std::string* HttpMessage::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return &v;
  }
  return nullptr;
}

HttpParser::HttpParser(Kind kind, HttpLimits limits) : kind_(kind), limits_(limits) {
  llhttp_init(&parser_, kind == Kind::kRequest ? HTTP_REQUEST : HTTP_RESPONSE,
              &HttpCallbacks::settings());
  parser_.data = this;
}

int HttpParser::fail_with(int status, std::string reason) {
  error_ = HttpParseError{status, std::move(reason)};
  return -1;
}

int HttpParser::on_data(std::string* target, const char* at, std::size_t n, bool head) {
  if (head) {
    head_bytes_ += n;
    if (head_bytes_ > limits_.max_head_bytes) {
      return fail_with(
          431, "header section larger than " + std::to_string(limits_.max_head_bytes) + " bytes");
    }
  }
  target->append(at, n);
  return 0;
}

int HttpParser::on_header_field(const char* at, std::size_t n) {
  if (in_value_ || current_.headers.empty()) {
    if (current_.headers.size() >= limits_.max_headers) {
      return fail_with(431, "more than " + std::to_string(limits_.max_headers) + " header fields");
    }
    current_.headers.emplace_back();
    in_value_ = false;
    head_bytes_ += 4;  // ": " and CRLF
  }
  return on_data(&current_.headers.back().first, at, n, true);
}

int HttpParser::on_header_value(const char* at, std::size_t n) {
  in_value_ = true;
  return on_data(&current_.headers.back().second, at, n, true);
}

int HttpParser::sink_failed(Status<> st) {
  error_ = HttpParseError{0, std::move(st).error(), true};
  return -1;
}

int HttpParser::on_headers_complete() {
  head_complete_ = true;
  current_.keep_alive = llhttp_should_keep_alive(&parser_) != 0;
  if (kind_ == Kind::kResponse) current_.status = parser_.status_code;
  if (sink_ != nullptr) {
    announced_body_ = 0;
    if (!sink_->on_head) return 0;
    if (auto st = sink_->on_head(current_); !st) return sink_failed(std::move(st));
    return 0;
  }
  if ((parser_.flags & F_CONTENT_LENGTH) && parser_.content_length > limits_.max_body_bytes) {
    return fail_with(413, "body larger than " + std::to_string(limits_.max_body_bytes) + " bytes");
  }
  announced_body_ = (parser_.flags & F_CONTENT_LENGTH) ? parser_.content_length : 0;
  if (kind_ == Kind::kRequest) {
    const std::string* expect = current_.header("Expect");
    expect_continue_ = expect && iequals(*expect, "100-continue");
  }
  return 0;
}

int HttpParser::on_body(const char* at, std::size_t n) {
  if (sink_ != nullptr) {
    if (!sink_->on_body) return 0;
    if (auto st = sink_->on_body(std::string_view(at, n)); !st) return sink_failed(std::move(st));
    return 0;
  }
  if (current_.body.size() + n > limits_.max_body_bytes) {
    return fail_with(413, "body larger than " + std::to_string(limits_.max_body_bytes) + " bytes");
  }
  current_.body.append(at, n);
  return 0;
}

void HttpParser::reserve_body() {
  if (in_message_ && head_complete_ && current_.body.capacity() < announced_body_) {
    current_.body.reserve(announced_body_);
  }
}

int HttpParser::on_message_complete() {
  current_.keep_alive = llhttp_should_keep_alive(&parser_) != 0;
  in_message_ = false;
  out_->push_back(std::move(current_));
  current_ = HttpMessage{};
  return 0;
}

Status<HttpParseError> HttpParser::feed(std::string_view bytes, std::vector<HttpMessage>& out) {
  if (error_) return fail(*error_);
  out_ = &out;
  const llhttp_errno_t rc = llhttp_execute(&parser_, bytes.data(), bytes.size());
  out_ = nullptr;
  if (rc == HPE_OK) return Ok{};
  if (!error_) {
    const char* reason = llhttp_get_error_reason(&parser_);
    error_ = HttpParseError{
        400, std::string("malformed HTTP: ") + (reason ? reason : llhttp_errno_name(rc))};
  }
  return fail(*error_);
}

Status<HttpParseError> HttpParser::finish(std::vector<HttpMessage>& out) {
  if (error_) return fail(*error_);
  out_ = &out;
  const llhttp_errno_t rc = llhttp_finish(&parser_);
  out_ = nullptr;
  if (rc == HPE_OK) return Ok{};
  error_ = HttpParseError{400, std::string("incomplete HTTP message: ") + llhttp_errno_name(rc)};
  return fail(*error_);
}

// --- Writing -------------------------------------------------------------------------------

std::string_view status_reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 428:
      return "Precondition Required";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

namespace {
void append_status_line(std::string& out, int status) {
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += status_reason(status);
  out += "\r\n";
}
void append_common(std::string& out, std::string_view content_type, bool keep_alive) {
  out += "Server: mplane-engine\r\n";
  if (!content_type.empty()) {
    out += "Content-Type: ";
    out += content_type;
    out += "\r\n";
  }
  if (!keep_alive) out += "Connection: close\r\n";
}
}  // namespace

void append_response_head(std::string& out, int status, std::string_view content_type,
                          std::size_t content_length, bool keep_alive) {
  append_status_line(out, status);
  append_common(out, content_type, keep_alive);
  out += "Content-Length: ";
  out += std::to_string(content_length);
  out += "\r\n\r\n";
}

void append_response(std::string& out, int status, std::string_view content_type,
                     std::string_view body, bool keep_alive) {
  append_response_head(out, status, content_type, body.size(), keep_alive);
  out += body;
}

void append_chunked_head(std::string& out, int status, std::string_view content_type,
                         bool keep_alive) {
  append_status_line(out, status);
  append_common(out, content_type, keep_alive);
  out += "Transfer-Encoding: chunked\r\n\r\n";
}

void append_chunk(std::string& out, std::string_view data) {
  if (data.empty()) return;  // an empty chunk would end the body
  char size[20];
  auto [end, ec] = std::to_chars(size, size + sizeof size, data.size(), 16);
  out.append(size, end);
  out += "\r\n";
  out += data;
  out += "\r\n";
}

void append_last_chunk(std::string& out) { out += "0\r\n\r\n"; }

void append_request(std::string& out, std::string_view method, std::string_view target,
                    std::string_view host, std::string_view content_type, std::string_view body) {
  out += method;
  out += ' ';
  out += target;
  out += " HTTP/1.1\r\nHost: ";
  out += host;
  out += "\r\nUser-Agent: mplane-engine\r\n";
  if (!content_type.empty()) {
    out += "Content-Type: ";
    out += content_type;
    out += "\r\n";
  }
  if (method != "GET" || !body.empty()) {
    out += "Content-Length: ";
    out += std::to_string(body.size());
    out += "\r\n";
  }
  out += "\r\n";
  out += body;
}

}  // namespace mplane::transport
