// Indirect export: a specification with an export URL gets a receipt, and its result is POSTed
// to the collector when the job completes.
#include <catch2/catch.hpp>

#include <uv.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "tests/engine/component/component_fixture.h"
#include "tests/transport/server_thread.h"
#include "transport/http/http_client.h"

namespace mplane {
namespace {

// A collector: keeps the bodies POSTed to it, answers 200.
class Collector {
 public:
  Collector()
      : server_([this](transport::HttpMessage&& r, transport::Responder resp) {
          {
            std::lock_guard<std::mutex> lock(mutex_);
            posts_.push_back(r.target + " " + r.body);
          }
          cv_.notify_all();
          std::string out;
          transport::append_response(out, 200, "application/x-mplane+json", "{}", true);
          resp.send(std::move(out));
        }) {}
  std::uint16_t port() const { return server_.port(); }
  std::vector<std::string> wait_for(std::size_t n) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return posts_.size() >= n; });
    return posts_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> posts_;
  test::ServerThread server_;  // last: stopped first, while the members it uses still live
};

std::string spec(const std::string& when, const std::string& export_url) {
  return R"({"specification": "measure", "version": 1, "label": "nap",
    "registry": "http://ict-mplane.eu/registry/core", "when": ")" +
         when + R"(", "results": ["duration.ms"], "export": ")" + export_url + R"("})";
}

TEST_CASE("indirect export: receipt to the client, result to the collector",
          "[engine][component][net]") {
  Collector collector;
  test::ComponentFixture c;
  transport::HttpClient client("127.0.0.1", c.server->port());
  const std::string url = "http://127.0.0.1:" + std::to_string(collector.port()) + "/result";
  auto r = client.request("POST", "/", "application/x-mplane+json", spec("now + 1s", url), 5000);
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK_THAT(r->body, Catch::Contains("\"receipt\":\"measure\""));
  auto posts = collector.wait_for(1);
  REQUIRE(posts.size() == 1);
  CHECK_THAT(posts[0], Catch::StartsWith("/result {"));
  CHECK_THAT(posts[0], Catch::Contains("\"result\":\"measure\""));
  CHECK_THAT(posts[0], Catch::Contains("\"duration.ms\""));

  auto bad =
      client.request("POST", "/", "application/x-mplane+json", spec("now", "ftp://x/y"), 5000);
  REQUIRE(bad.ok());
  CHECK(bad->status == 400);
  CHECK_THAT(bad->body, Catch::Contains("unsupported export URL"));
  auto https = client.request("POST", "/", "application/x-mplane+json",
                              spec("now", "mplane-https://127.0.0.1:1/result"), 5000);
  REQUIRE(https.ok());
  CHECK(https->status == 400);  // this component runs without TLS: no client certificate
}

}  // namespace
}  // namespace mplane
