// The component-initiated component against a supervisor stand-in: our own HttpServer on its own
// thread, real sockets, scripted (it queues specifications, answers 428, refuses results,
// restarts). Timings are short (backoff from 20 ms) and no poll happens but by callback control
// where a test counts polls (poll_interval is an hour there).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/component/component_initiator.h"
#include "tests/process_support.h"
#include "tests/test_support.h"
#include "tests/transport/server_thread.h"

namespace mplane {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::string_view kMplaneJson = "application/x-mplane+json";
constexpr auto kWait = 10s;  // every wait for the initiator is bounded by this

struct Request {
  std::string method, target, body;
  std::chrono::steady_clock::time_point at;
};

// A loopback specification with its own token and input.
std::string loopback_spec(const std::string& token, const std::string& input) {
  return R"({"specification":"measure","version":1,"label":"test-loopback-0",)"
         R"("registry":"http://mplane.corvid.ch/registry/loopback","link":"","token":")" +
         token + R"(","when":"now","parameters":{"test.input":")" + input +
         R"("},"results":["test.output"]})";
}

std::string callback_spec(const std::string& when) {
  return R"({"specification":"measure","version":1,"label":"callback",)"
         R"("registry":"http://ict-mplane.eu/registry/core","when":")" +
         when + "\"}";
}

// The supervisor stand-in. Every member of `script` is read and changed under the lock.
class StandIn {
 public:
  struct Script {
    bool registered = false;
    int answer_428 = 0;           // polls answered 428 although registered
    bool refuse_results = false;  // 503 to result POSTs
    std::vector<std::string> queued;
    std::string callback;         // a callback member after the queued ones ("": none)
    bool callback_first = false;  // put it first instead
    std::string poll_body;        // when set: the answer to every poll, as it is
    bool hold_results = false;    // never answer result POSTs
  };

  explicit StandIn(std::uint16_t port = 0)
      : server_([this](transport::HttpMessage&& r,
                       transport::Responder resp) { handle(std::move(r), std::move(resp)); },
                options(port)) {}
  std::uint16_t port() const { return server_.port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }

  void change(const std::function<void(Script&)>& f) {
    std::lock_guard<std::mutex> lock(mutex_);
    f(script_);
  }
  // Waits until `done(requests)` holds; false after kWait.
  bool wait_until(const std::function<bool(const std::vector<Request>&)>& done) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, kWait, [&] { return done(requests_); });
  }
  std::vector<Request> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  static transport::HttpServerOptions options(std::uint16_t port) {
    transport::HttpServerOptions o;
    o.port = port;
    return o;
  }
  void handle(transport::HttpMessage&& r, transport::Responder resp) {
    int status = 200;
    std::string body;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      requests_.push_back({r.method, r.target, r.body, std::chrono::steady_clock::now()});
      if (script_.hold_results && r.method == "POST" && r.target == "/register/result") {
        held_.push_back(std::move(resp));  // answered never: dropped with the server
        cv_.notify_all();
        return;
      }
      status = answer(r, body);
    }
    cv_.notify_all();
    std::string out;
    transport::append_response(out, status, status == 428 ? "text/plain" : kMplaneJson, body, true);
    resp.send(std::move(out));
  }
  int answer(const transport::HttpMessage& r, std::string& body) {
    if (r.method == "POST" && r.target == "/register/capability") {
      script_.registered = true;
      body = R"({"test-loopback":{"registered":"ok"},"callback":{"registered":"ok"}})";
      return 200;
    }
    if (r.method == "GET" && r.target.starts_with("/show/specification")) {
      if (!script_.registered || script_.answer_428 > 0) {
        --script_.answer_428;
        body = "not registered";
        return 428;
      }
      body = script_.poll_body.empty() ? poll_reply() : script_.poll_body;
      return 200;
    }
    if (r.method == "POST") {  // the result path, or another named by a specification's link
      return script_.refuse_results ? 503 : 200;
    }
    return 404;
  }
  std::string poll_reply() {
    std::vector<std::string> members = std::move(script_.queued);
    script_.queued.clear();
    if (!script_.callback.empty()) {
      const std::string cb = callback_spec(script_.callback);
      members.insert(script_.callback_first ? members.begin() : members.end(), cb);
    }
    std::string out = R"({"envelope":"message","version":1,"contents":[)";
    for (std::size_t i = 0; i < members.size(); ++i) out += (i ? "," : "") + members[i];
    return out + "]}";
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  Script script_;
  std::vector<Request> requests_;
  std::vector<transport::Responder> held_;
  test::ServerThread server_;  // last: stopped first, while the members it uses still live
};

std::size_t count(const std::vector<Request>& rs, const std::string& method,
                  const std::string& target_prefix) {
  std::size_t n = 0;
  for (const Request& r : rs) n += r.method == method && r.target.starts_with(target_prefix);
  return n;
}
std::size_t registrations(const std::vector<Request>& rs) {
  return count(rs, "POST", "/register/capability");
}
std::size_t polls(const std::vector<Request>& rs) {
  return count(rs, "GET", "/show/specification");
}
std::vector<std::string> results(const std::vector<Request>& rs,
                                 const std::string& path = "/register/result") {
  std::vector<std::string> out;
  for (const Request& r : rs) {
    if (r.method == "POST" && r.target == path) out.push_back(r.body);
  }
  return out;
}

// Whether `done()` holds within kWait (checked every 5 ms).
bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

std::size_t spool_files(const std::string& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".msg";
  return n;
}

using TempDir = test::TempDir;

// An engine of one shard (results in specification order) with the loopback and sleep
// services, and an initiator registered with `supervisor`.
struct Probe {
  Probe(const std::string& supervisor, const std::string& spool_dir,
        sched::AccessHook access = nullptr, std::chrono::milliseconds poll_interval = 1h,
        component::BackoffOptions backoff = {20ms, 200ms, 0.25})
      : engine(test::registries(), engine_options(std::move(access))) {
    REQUIRE(engine.start().ok());
    component::InitiatorOptions o;
    o.supervisor = transport::parse_http_url(supervisor).value();
    o.spool_dir = spool_dir;
    o.long_poll = 0s;
    o.poll_interval = poll_interval;  // by default polls come only from callback control
    o.backoff = backoff;
    o.connect_timeout_ms = 2000;
    o.response_timeout_ms = 2000;
    o.total_timeout_ms = 5000;
    initiator = std::make_unique<component::ComponentInitiator>(engine, test::registries(), o);
    REQUIRE(initiator->start().ok());
  }
  ~Probe() {
    engine.stop();
    engine.join();
  }
  static runtime::EngineOptions engine_options(sched::AccessHook access) {
    runtime::EngineOptions e;
    e.shards = 1;
    e.services = {{"loopback", {}, "<test>"}, {"sleep", {}, "<test>"}};
    e.access = std::move(access);
    return e;
  }
  runtime::Engine engine;
  std::unique_ptr<component::ComponentInitiator> initiator;
};

std::unique_ptr<json::OwnedMessage> parsed(const std::string& text) {
  auto m = test::parse(text);
  if (!m) FAIL(m.error().describe(text));
  return std::move(m.value());
}

TEST_CASE("initiator: registers its capabilities and the callback, polls as the callback says",
          "[engine][component][initiator][net]") {
  StandIn supervisor;
  supervisor.change([](StandIn::Script& s) { s.callback = "now + 0s"; });
  TempDir dir;
  Probe probe(supervisor.url(), (dir.path() / "spool").string());
  REQUIRE(supervisor.wait_until([](const auto& rs) { return polls(rs) >= 3; }));
  const auto rs = supervisor.requests();
  REQUIRE(rs[0].method == "POST");
  REQUIRE(rs[0].target == "/register/capability");
  auto env = parsed(rs[0].body);
  const auto& contents = env->message.contents;
  REQUIRE(contents.size() == 3);  // test-loopback, sleep, callback
  CHECK(contents[0].link == "");
  CHECK(contents.back().verb == "callback");
  CHECK(contents.back().label == "callback");
  CHECK(rs[1].target == "/show/specification");  // no ?wait= with long_poll 0
  CHECK(registrations(rs) == 1);
}

TEST_CASE("initiator: registers only what the supervisor's identity may use",
          "[engine][component][initiator][net]") {
  StandIn supervisor;
  TempDir dir;
  Probe probe(supervisor.url(), (dir.path() / "spool").string(),
              [](std::string_view identity, const model::Message& cap) {
                return identity == "Identity.Unauthenticated.Default" &&
                       cap.label == "test-loopback";
              });
  REQUIRE(supervisor.wait_until([](const auto& rs) { return registrations(rs) == 1; }));
  const auto rs = supervisor.requests();
  CHECK(rs[0].method == "GET");  // the first exchange tells who the supervisor is
  auto env = parsed(rs[1].body);
  REQUIRE(env->message.contents.size() == 2);
  CHECK(env->message.contents[0].label == "test-loopback");
}

TEST_CASE("initiator: runs every member whatever the callback's place, posts the results",
          "[engine][component][initiator][net]") {
  StandIn supervisor;
  supervisor.change([](StandIn::Script& s) {
    s.callback = "now + 0s";
    s.callback_first = true;  // the RI listener's order: a component must read on
    s.queued = {loopback_spec("tok1", "hello")};
  });
  TempDir dir;
  Probe probe(supervisor.url(), (dir.path() / "spool").string());
  REQUIRE(supervisor.wait_until([](const auto& rs) { return !results(rs).empty(); }));
  auto result = parsed(results(supervisor.requests())[0]);
  const model::Message& m = result->message;
  CHECK(m.kind == model::MessageKind::kResult);
  CHECK(m.token == "tok1");
  REQUIRE(m.columns.size() == 1);
  CHECK(m.columns[0].values.at(0).as_string() == "hello");
  REQUIRE(supervisor.wait_until([](const auto& rs) { return polls(rs) >= 3; }));
}

TEST_CASE("initiator: interrupts reach the job and a link naming another server gets the replies",
          "[engine][component][initiator][net]") {
  StandIn collector;
  StandIn supervisor;
  const std::string link = collector.url() + "/collect";
  std::string spec = R"({"specification":"measure","version":1,"label":"sleep-0",)"
                     R"("registry":"http://ict-mplane.eu/registry/core","link":")" +
                     link + R"(","token":"long","when":"now + 1h","results":["duration.ms"]})";
  supervisor.change([&](StandIn::Script& s) {
    s.callback = "now + 0s";
    s.queued = {spec};
  });
  TempDir dir;
  Probe probe(supervisor.url(), (dir.path() / "spool").string());
  // The receipt goes to the link's server and path, not to the supervisor.
  REQUIRE(collector.wait_until([](const auto& rs) { return !results(rs, "/collect").empty(); }));
  CHECK(parsed(results(collector.requests(), "/collect")[0])->message.kind ==
        model::MessageKind::kReceipt);
  supervisor.change([](StandIn::Script& s) {
    s.queued = {R"({"interrupt":"measure","version":1,"token":"long"})"};
  });
  REQUIRE(collector.wait_until([](const auto& rs) { return results(rs, "/collect").size() >= 2; }));
  auto result = parsed(results(collector.requests(), "/collect")[1]);
  CHECK(result->message.kind == model::MessageKind::kResult);
  CHECK(result->message.token == "long");
  CHECK(results(supervisor.requests()).empty());
}

TEST_CASE("initiator: poll replies that are no work are logged and polling goes on",
          "[engine][component][initiator][net]") {
  auto body = GENERATE(as<std::string>{}, "not json", R"({"exception":null,"message":"x"})",
                       R"({"envelope":"message","version":1,"contents":[{"capability":"measure",)"
                       R"("version":1,"label":"c","registry":"http://ict-mplane.eu/registry/core",)"
                       R"("when":"now ... future","results":["duration.ms"]}]})");
  StandIn supervisor;
  supervisor.change([&](StandIn::Script& s) { s.poll_body = body; });
  TempDir dir;
  Probe probe(supervisor.url(), (dir.path() / "spool").string(), nullptr, 20ms);
  REQUIRE(supervisor.wait_until([](const auto& rs) { return polls(rs) >= 3; }));
  CHECK(registrations(supervisor.requests()) == 1);  // no reason to register again
  CHECK(results(supervisor.requests()).empty());
}

TEST_CASE("initiator: a 428 makes it register again, after a backoff",
          "[engine][component][initiator][net]") {
  StandIn supervisor;
  supervisor.change([](StandIn::Script& s) {
    s.callback = "now + 0s";
    s.answer_428 = 2;  // the first two polls after registering
  });
  TempDir dir;
  Probe probe(supervisor.url(), (dir.path() / "spool").string(), nullptr, 1h,
              {200ms, 2000ms, 0.25});
  REQUIRE(supervisor.wait_until([](const auto& rs) { return registrations(rs) >= 3; }));
  REQUIRE(supervisor.wait_until([](const auto& rs) { return polls(rs) >= 4; }));
  const auto rs = supervisor.requests();
  // register, poll (428), register after >= 150 ms, poll (428), register after >= 300 ms
  // (doubled), polls. The bounds below leave 10 ms for the loop clock's granularity.
  std::vector<std::chrono::steady_clock::time_point> refused, registered;
  for (std::size_t i = 0; i + 1 < rs.size() && refused.size() < 2; ++i) {
    if (rs[i].method == "GET" && rs[i + 1].method == "POST") {
      refused.push_back(rs[i].at);
      registered.push_back(rs[i + 1].at);
    }
  }
  REQUIRE(refused.size() == 2);
  CHECK(registered[0] - refused[0] >= 140ms);  // 200 ms - 25%
  CHECK(registered[1] - refused[1] >= 290ms);  // 400 ms - 25%: doubled
}

TEST_CASE("initiator: a restarted supervisor sees the probe register again",
          "[engine][component][initiator][net]") {
  auto first = std::make_unique<StandIn>();
  const std::uint16_t port = first->port();
  first->change([](StandIn::Script& s) { s.callback = "now + 0s"; });
  TempDir dir;
  Probe probe(first->url(), (dir.path() / "spool").string());
  REQUIRE(first->wait_until([](const auto& rs) { return polls(rs) >= 1; }));
  first.reset();         // down: polls fail, the probe backs off
  StandIn second(port);  // back, knowing nothing: 428 until it registers
  second.change([](StandIn::Script& s) {
    s.callback = "now + 0s";
    s.queued = {loopback_spec("after-restart", "x")};
  });
  REQUIRE(second.wait_until([](const auto& rs) { return !results(rs).empty(); }));
  CHECK(registrations(second.requests()) >= 1);
}

TEST_CASE("initiator: results the supervisor refuses wait in the spool and arrive in order",
          "[engine][component][initiator][net]") {
  StandIn supervisor;
  supervisor.change([](StandIn::Script& s) {
    s.callback = "now + 0s";
    s.refuse_results = true;
    s.queued = {loopback_spec("t1", "a"), loopback_spec("t2", "b"), loopback_spec("t3", "c")};
  });
  TempDir dir;
  const std::string spool = (dir.path() / "spool").string();
  {
    Probe probe(supervisor.url(), spool);
    REQUIRE(eventually([&] { return probe.initiator->counters().spooled.load() >= 3; }));
    // Stopped while the supervisor still refuses: the spool keeps them for the next run.
  }
  CHECK(spool_files(spool) == 3);
  supervisor.change([](StandIn::Script& s) { s.refuse_results = false; });
  const std::size_t before = results(supervisor.requests()).size();
  Probe restarted(supervisor.url(), spool);
  // Delivery is at least once: a POST the first run abandoned at its stop may still reach the
  // stand-in now. So: each token once, in order, once duplicates are left out.
  auto delivered = [&] {
    const auto got = results(supervisor.requests());
    std::vector<std::string> tokens;
    for (std::size_t i = before; i < got.size(); ++i) {
      std::string t(*parsed(got[i])->message.token);
      if (std::find(tokens.begin(), tokens.end(), t) == tokens.end()) tokens.push_back(t);
    }
    return tokens;
  };
  REQUIRE(eventually([&] { return delivered().size() >= 3; }));
  CHECK(delivered() == std::vector<std::string>{"t1", "t2", "t3"});
  REQUIRE(eventually([&] { return restarted.initiator->counters().delivered.load() >= 3; }));
  CHECK(spool_files(spool) == 0);
}

TEST_CASE("initiator: a stop abandons the POST in flight and keeps its message in the spool",
          "[engine][component][initiator][net]") {
  StandIn supervisor;
  supervisor.change([](StandIn::Script& s) {
    s.callback = "now + 0s";
    s.hold_results = true;
    s.queued = {loopback_spec("held", "x")};
  });
  TempDir dir;
  const std::string spool = (dir.path() / "spool").string();
  {
    Probe probe(supervisor.url(), spool);
    REQUIRE(supervisor.wait_until([](const auto& rs) { return !results(rs).empty(); }));
    CHECK(spool_files(spool) == 0);  // in memory while the supervisor takes messages
  }
  CHECK(spool_files(spool) == 1);  // the stop wrote it
  supervisor.change([](StandIn::Script& s) { s.hold_results = false; });
  Probe restarted(supervisor.url(), spool);
  REQUIRE(eventually([&] { return restarted.initiator->counters().delivered.load() >= 1; }));
  CHECK(*parsed(results(supervisor.requests()).back())->message.token == "held");
  CHECK(spool_files(spool) == 0);
}

TEST_CASE("mplane component --supervisor: registers, spools what is refused, stops on SIGTERM",
          "[engine][component][initiator][net]") {
  StandIn supervisor;
  supervisor.change([](StandIn::Script& s) {
    s.callback = "now + 0s";
    s.refuse_results = true;
    s.queued = {loopback_spec("cli", "x")};
  });
  TempDir dir;
  const std::string spool = (dir.path() / "spool").string();
  test::Process p({"component", "--supervisor", supervisor.url(), "--insecure", "--service",
                   "loopback", "--shards", "1", "--spool", spool, "--poll-interval", "1"},
                  (dir.path() / "component").string());
  const std::string mine = spool + "/spool-127.0.0.1-" + std::to_string(supervisor.port());
  REQUIRE(eventually([&] { return fs::exists(mine) && spool_files(mine) == 1; }));
  REQUIRE(p.wait_for_err("SIGINT/SIGTERM stops"));
  p.signal(SIGTERM);
  CHECK(p.wait_for(10'000) == 0);
  CHECK_THAT(p.err(), Catch::Contains("registering with http://127.0.0.1:" +
                                      std::to_string(supervisor.port()) + " (spool " + mine));
  CHECK_THAT(p.err(), !Catch::Contains("listening on"));  // no --listen: no server
  CHECK(spool_files(mine) == 1);
}

TEST_CASE("mplane component --supervisor: usage errors", "[engine][component][initiator]") {
  auto [args, error] = GENERATE(table<std::vector<std::string>, std::string>({
      {{"--supervisor", "https://127.0.0.1:1", "--insecure"}, "https needs --ca, --cert and --key"},
      {{"--supervisor", "http://127.0.0.1:1/x", "--insecure"}, "give no path"},
      {{"--supervisor", "ftp://127.0.0.1:1", "--insecure"}, "--supervisor ftp://127.0.0.1:1: "},
      {{"--supervisor", "http://127.0.0.1:1", "--insecure", "--poll-interval", "0"},
       "--poll-interval 0"},
  }));
  std::vector<std::string> all = {"component", "--service", "loopback"};
  all.insert(all.end(), args.begin(), args.end());
  TempDir dir;
  test::Process p(all, (dir.path() / "component").string());
  CHECK(p.wait_for(10'000) == 2);
  CHECK_THAT(p.err(), Catch::Contains(error));
}

}  // namespace
}  // namespace mplane
