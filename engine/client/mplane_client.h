// An mPlane client (PROTOCOL.md §4.2, §6.1): fetches a component's capabilities, sends
// specifications built from them, and redeems or interrupts the measurements they start.
// What `mplane client` (engine/cli/client_command.cc) drives; it prints, this talks.
//
// Capability discovery follows the RI: GET the URL; an application/x-mplane+json answer is a
// capability, withdrawal or envelope of them; a text/html answer is followed link by link on
// the same connection (only the href's path is used). A URL without a path first tries
// GET /capabilities (our component's envelope) and then GET / (the RI's index page).
//
// Specifications go to the capability's link (or the default URL when it has none);
// redemptions and interrupts go where their specification went (the RI sends them to its
// default URL; for our component and the RI's both are the same server).
//
// All HTTP goes through an HttpExchange (http_exchange.h), and the calls here return when their
// exchange is done: this class is the blocking driver (`mplane client`). What it drives has no
// I/O and serves an asynchronous driver on a shard's loop (transport::AsyncHttpClient) as well:
// specification.h (the messages sent, the polling schedule), capability_store.h (discovery's
// store and links), mplane_reply.h, and StreamedReply (streamed_reply.h), whose ResponseSink is
// what AsyncHttpClient::request takes.
//
// A reply that may be a large result can stream: given a json::ResultStreamHandler, its rows go
// to the handler as they arrive and the measurement keeps the reply without its rows.
// Not thread-safe; never throws.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/client/capability_store.h"
#include "engine/client/http_exchange.h"
#include "parsers/json/message_reader.h"
#include "parsers/json/result_stream_reader.h"
#include "parsers/mplane/registry.h"

namespace mplane::client {

struct Measurement {
  std::string label;
  std::string token;
  transport::HttpUrl url;                     // where the specification went: redemptions too
  std::unique_ptr<json::OwnedMessage> reply;  // the latest receipt or result
};

// A request that failed. `lost`: no HTTP response came at all (the connection failed, also
// after the one reconnection the HTTP client makes, or timed out): the component may still
// have the measurement.
struct PostError {
  PostError(std::string t, bool l = false) : text(std::move(t)), lost(l) {}  // NOLINT: implicit
  std::string text;
  bool lost;
};

// How wait_for_result() waits: until a wall-clock time (microseconds; the last redemption is
// made then), whether to sleep until the receipt's end of scope first (only for a receipt that
// has just answered the specification: a relative scope is dated from now), and whether the
// caller asks for the measurement to be interrupted (polled between sleeps: Ctrl-C).
struct WaitOptions {
  std::int64_t until = std::numeric_limits<std::int64_t>::max();
  bool until_scope_end = true;
  std::function<bool()> interrupt_requested;  // null: never
  // Called once, just before the interrupt is sent.
  std::function<void(const Measurement&)> on_interrupting;
  // Receives the rows of a result reply as they arrive (null: the reply is kept whole).
  json::ResultStreamHandler* rows = nullptr;
};

// The wall clock, microseconds since the epoch.
std::int64_t wall_now_us();

class Client {
 public:
  // `exchange` must outlive the client. `timeout_ms` bounds each HTTP response.
  Client(model::RegistrySet registries, HttpExchange& exchange, std::uint64_t timeout_ms);

  const std::optional<transport::HttpUrl>& default_url() const { return default_url_; }
  Status<> set_url(const std::string& text);

  // Fetches capabilities from `text` (or the last URL); the first URL becomes the default URL.
  // Returns how many capabilities and withdrawals arrived.
  Result<std::size_t> get_capabilities(const std::string& text);
  const std::vector<const model::Message*>& capabilities() const { return caps_.capabilities(); }
  Result<const model::Message*> find_capability(std::string_view label_or_token) const {
    return caps_.find(label_or_token);
  }

  // Builds and sends a specification (label empty: `<capability label>-<serial>`); the
  // measurement keeps the reply (result, receipt, exception…). With `rows`, a result streams.
  Result<Measurement*> run(const model::Message& cap, const std::string& when_text,
                           const std::map<std::string, std::string>& params, std::string label,
                           json::ResultStreamHandler* rows = nullptr);
  // A measurement known only by its token, at `url` (`redeem TOKEN`): its reply is a
  // token-only receipt until redeemed.
  Measurement& adopt(const std::string& token, const transport::HttpUrl& url);
  // Redeems a receipt once (a result replaces it in `m`). `interrupt` sends an interrupt
  // instead. With `rows`, a result streams.
  Status<PostError> redeem(Measurement& m, bool interrupt = false,
                           json::ResultStreamHandler* rows = nullptr);
  // Redeems until a result (or an exception) arrives, or `o.until` has passed (the reply is
  // then still the receipt). Sleeps between redemptions (poll_delay).
  Status<PostError> wait_for_result(Measurement& m, const WaitOptions& o = {});

  std::vector<std::unique_ptr<Measurement>>& measurements() { return measurements_; }
  Result<Measurement*> find_measurement(std::string_view label_or_token);

 private:
  Result<transport::HttpMessage> http(const transport::HttpUrl& url, std::string_view method,
                                      const std::string& path, std::string_view body = {});
  Result<std::unique_ptr<json::OwnedMessage>, PostError> post(const transport::HttpUrl& url,
                                                              const std::string& body,
                                                              json::ResultStreamHandler* rows);
  Result<std::unique_ptr<json::OwnedMessage>, PostError> post_whole(const transport::HttpUrl& url,
                                                                    const std::string& body);
  Result<std::unique_ptr<json::OwnedMessage>, PostError> post_streamed(
      const transport::HttpUrl& url, const std::string& body, json::ResultStreamHandler& rows);
  Result<bool> try_capabilities_envelope(const transport::HttpUrl& url);
  Status<> discover(const transport::HttpUrl& base, const std::string& path,
                    std::set<std::string>& visited, bool& found, int depth);

  model::RegistrySet registries_;
  json::MessageReader reader_;
  HttpExchange& exchange_;
  std::uint64_t timeout_ms_;
  std::optional<transport::HttpUrl> default_url_;
  std::optional<transport::HttpUrl> last_getcap_;
  CapabilityStore caps_;
  std::size_t received_ = 0;  // capabilities and withdrawals, for get_capabilities' count
  std::vector<std::unique_ptr<Measurement>> measurements_;
  int serial_ = 0;
};

}  // namespace mplane::client
