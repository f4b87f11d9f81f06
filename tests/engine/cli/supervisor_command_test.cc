// `mplane supervisor` as users run it, over mutual TLS with a domain made at test time: bad input
// on every path gets a clear status and exception and changes nothing; a specification relayed
// to a probe and its result back over HTTPS; the architecture fork's paths and dialect; the page
// for people; a restart after `kill -9` with the state file.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "tests/engine/component/tls_domain.h"
#include "tests/net_support.h"
#include "tests/process_support.h"
#include "tests/test_support.h"
#include "transport/http/http_client.h"

namespace mplane {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view kJson = "application/x-mplane+json";

constexpr const char* kRegistration = R"({"envelope":"message","version":1,"contents":[
  {"capability":"measure","version":1,"registry":"http://mplane.corvid.ch/registry/loopback",
   "label":"test-loopback","when":"now ... future","parameters":{"test.input":"*"},
   "results":["test.output"]},
  {"capability":"callback","version":1,"label":"callback",
   "registry":"http://ict-mplane.eu/registry/core","when":"now ... future"}]})";
constexpr const char* kSpec = R"({"specification":"measure","version":1,
  "registry":"http://mplane.corvid.ch/registry/loopback","label":"http-test","when":"now",
  "parameters":{"test.input":"over-https"},"results":["test.output"]})";

std::string result_for(std::string_view token) {
  return R"({"result":"measure","version":1,"registry":"http://mplane.corvid.ch/registry/loopback",
    "label":"x","token":")" +
         std::string(token) + R"(","when":"2026-12-02 12:00:00.000000",
    "parameters":{"test.input":"over-https"},"results":["test.output"],
    "resultvalues":[["over-https"]]})";
}

// A supervisor process over TLS with a domain made here: a probe (Probe-1), a client
// (Client-1), the supervisor's own certificate.
struct Supervisor {
  explicit Supervisor(const std::string& name, std::vector<std::string> extra = {},
                      bool start_now = true)
      : domain(name), state((fs::path(domain.dir) / "state.db").string()) {
    own = domain.issue_supervisor("Supervisor-1");
    args = {"supervisor", "--listen", "127.0.0.1:" + std::to_string(port), "--state", state};
    const std::vector<std::string> tls = domain.tls_args(own);
    args.insert(args.end(), tls.begin(), tls.end());
    args.insert(args.end(), extra.begin(), extra.end());
    if (start_now) start();
    probe_tls = test::tls_context(transport::TlsRole::kClient, domain.ca(), &domain.component);
    client_tls = test::tls_context(transport::TlsRole::kClient, domain.ca(), &domain.client);
  }
  void start() {
    process.emplace(args, (fs::path(domain.dir) / ("sup" + std::to_string(++starts))).string());
    if (!process->wait_for_err("listening on"))
      FAIL("supervisor did not start:\n" << process->err());
  }
  transport::HttpClient probe() { return {"127.0.0.1", port, probe_tls.get()}; }
  transport::HttpClient client() { return {"127.0.0.1", port, client_tls.get()}; }

  test::TlsDomain domain;
  std::string state;
  std::uint16_t port = test::free_loopback_port();
  transport::pki::IssuedFiles own;
  std::vector<std::string> args;
  int starts = 0;
  std::optional<test::Process> process;
  std::unique_ptr<transport::TlsContext> probe_tls, client_tls;
};

transport::HttpMessage must(Result<transport::HttpMessage> r) {
  if (!r) FAIL(r.error());
  return std::move(r.value());
}

std::unique_ptr<json::OwnedMessage> parsed(const std::string& text) {
  auto m = test::parse(text);
  if (!m) FAIL(m.error().describe(text));
  return std::move(m.value());
}

// The specifications of a poll's answer, the callback excluded.
std::vector<std::string> tokens_in_poll(const transport::HttpMessage& r) {
  REQUIRE(r.status == 200);
  std::vector<std::string> out;
  auto m = parsed(r.body);
  for (const model::Message& member : m->message.contents) {
    if (*member.label != "callback") out.emplace_back(*member.token);
  }
  return out;
}

TEST_CASE("mplane supervisor: bad input on every path changes nothing",
          "[engine][supervisor][cli]") {
  Supervisor sup("SupBad");
  auto probe = sup.probe();
  auto client = sup.client();
  CHECK(must(probe.request("GET", "/show/specification", "", "")).status == 428);
  auto type = must(probe.request("POST", "/register/capability", "text/plain", kRegistration));
  CHECK(type.status == 415);
  CHECK_THAT(type.body, Catch::Contains("\"exception\""));
  auto garbage = must(probe.request("POST", "/register/capability", kJson, "{\"envelope\": garb"));
  CHECK(garbage.status == 400);
  CHECK_THAT(garbage.body, Catch::Contains("\"exception\""));
  auto bare = must(probe.request("POST", "/register/capability", kJson, kSpec));  // no envelope
  CHECK(bare.status == 400);
  // A client certificate cannot register.
  auto wrong = must(client.request("POST", "/register/capability", kJson, kRegistration));
  CHECK(wrong.status == 401);
  CHECK_THAT(wrong.body, Catch::Contains("client certificate"));
  auto unknown = must(probe.request("POST", "/register/result", kJson, result_for("sup-nope")));
  CHECK(unknown.status == 403);
  CHECK_THAT(unknown.body, Catch::Contains("Unexpected result for token sup-nope"));
  CHECK(must(client.request("POST", "/", kJson, "[1,2")).status == 400);
  CHECK(must(client.request("POST", "/", "text/plain", kSpec)).status == 415);
  CHECK(must(client.request("GET", "/capability/nope", "", "")).status == 404);
  CHECK(must(client.request("GET", "/nothing/here", "", "")).status == 404);
  CHECK(must(client.request("DELETE", "/", "", "")).status == 405);
  auto caps = must(client.request("GET", "/capabilities", "", ""));
  CHECK(parsed(caps.body)->message.contents.empty());  // nothing registered by all that
  CHECK(must(probe.request("GET", "/show/specification", "", "")).status == 428);
  CHECK(sup.process->running());
}

// With --shards 1 one loop does everything; with 3 two front shards take the connections and
// hand requests to the home shard (front_server.h), so answers and delivery reports cross loops.
TEST_CASE("mplane supervisor: a specification relayed to a probe and its result back over HTTPS",
          "[engine][supervisor][cli]") {
  const std::string shards = GENERATE(as<std::string>{}, "1", "3");
  CAPTURE(shards);
  Supervisor sup("SupRelay", {"--immediate-wait", "60s", "--shards", shards});
  auto probe = sup.probe();
  auto reg = must(probe.request("POST", "/register/capability", kJson, kRegistration));
  REQUIRE(reg.status == 200);
  CHECK(reg.body == R"({"test-loopback":{"registered":"ok"},"callback":{"registered":"ok"}})");
  auto caps = must(sup.client().request("GET", "/capabilities", "", ""));
  auto listed = parsed(caps.body);
  REQUIRE(listed->message.contents.size() == 1);
  const std::string link(*listed->message.contents[0].link);
  CHECK_THAT(link, Catch::EndsWith("/probe/org.mplane.SupRelay.Components.Probe-1/"));
  const std::string path = link.substr(link.find("/probe/"));

  // The client waits (immediate-wait) while the probe long-polls, measures and answers.
  auto reply = std::async(std::launch::async, [&] {
    auto client = sup.client();
    return must(client.request("POST", path, kJson, kSpec, 60'000));
  });
  auto poll = must(probe.request("GET", "/show/specification?wait=30", "", "", 60'000));
  auto tokens = tokens_in_poll(poll);
  REQUIRE(tokens.size() == 1);
  CHECK_THAT(poll.body, Catch::Contains("now + 0s"));  // long poller: come back at once
  REQUIRE(must(probe.request("POST", "/register/result", kJson, result_for(tokens[0]))).status ==
          200);
  const transport::HttpMessage result = reply.get();
  REQUIRE(result.status == 200);
  auto r = parsed(result.body);
  CHECK(r->message.kind == model::MessageKind::kResult);
  CHECK(*r->message.label == "http-test");
  CHECK(r->message.find_metadatum("source.device")->value.as_string() ==
        "org.mplane.SupRelay.Components.Probe-1");

  auto page = must(sup.client().request("GET", "/", "", ""));
  CHECK(page.status == 200);
  CHECK_THAT(page.body, Catch::Contains("org.mplane.SupRelay.Components.Probe-1") &&
                            Catch::Contains("<a href='/capability/"));
  CHECK_THAT(sup.process->err(), Catch::Contains(shards + " shard(s)"));

  // The poll's delivery was reported home: after a kill -9 and a restart the specification is
  // not handed out again.
  sup.process->signal(SIGKILL);
  sup.process->wait();
  sup.start();
  CHECK(tokens_in_poll(must(sup.probe().request("GET", "/show/specification", "", ""))).empty());
}

TEST_CASE("mplane supervisor: the architecture fork's paths and its JSON-array probes",
          "[engine][supervisor][cli]") {
  Supervisor sup("SupFork");
  auto probe = sup.probe();
  const std::string array = R"([{"capability":"measure","version":1,
    "registry":"http://mplane.corvid.ch/registry/loopback","label":"test-loopback",
    "when":"now ... future","parameters":{"test.input":"*"},"results":["test.output"]}])";
  REQUIRE(must(probe.request("POST", "/register/capability", kJson, array)).status == 200);
  auto client = sup.client();
  const std::string identity = "org.mplane.SupFork.Components.Probe-1";
  auto caps = must(client.request("GET", "/show/capability", "", ""));
  REQUIRE(caps.status == 200);
  CHECK_THAT(caps.body, Catch::StartsWith("{\"" + identity + "\":[{"));

  auto missing = must(client.request("POST", "/register/specification", kJson,
                                     R"({"org.mplane.Nobody": )" + std::string(kSpec) + "}"));
  CHECK(missing.status == 503);
  auto receipt = must(client.request("POST", "/register/specification", kJson,
                                     "{\"" + identity + "\": " + kSpec + "}"));
  REQUIRE(receipt.status == 200);
  auto rec = parsed(receipt.body);
  REQUIRE(rec->message.kind == model::MessageKind::kReceipt);
  const std::string token(*rec->message.token);

  auto poll = must(probe.request("GET", "/show/specification", "", ""));
  REQUIRE(poll.status == 200);
  REQUIRE(poll.body.front() == '[');  // the fork's dialect back to a fork probe
  auto spec = parsed(R"({"envelope":"message","version":1,"contents":)" + poll.body + "}");
  REQUIRE(spec->message.contents.size() == 1);
  const std::string redemption =
      R"({"redemption":"measure","version":1,"token":")" + token + R"("})";
  auto early = must(client.request("POST", "/show/result", kJson, redemption));
  CHECK(parsed(early.body)->message.kind == model::MessageKind::kReceipt);
  REQUIRE(must(probe.request("POST", "/register/result", kJson,
                             result_for(*spec->message.contents[0].token)))
              .status == 200);
  auto done = must(client.request("POST", "/show/result", kJson, redemption));
  CHECK(parsed(done.body)->message.kind == model::MessageKind::kResult);
  auto again = must(client.request("POST", "/show/result", kJson, redemption));
  CHECK(again.status == 403);  // collected: an unexpected redemption now
}

TEST_CASE("mplane supervisor: kill -9 and a restart lose nothing", "[engine][supervisor][cli]") {
  Supervisor sup("SupKill", {"--immediate-wait", "0s"});
  auto probe = sup.probe();
  REQUIRE(must(probe.request("POST", "/register/capability", kJson, kRegistration)).status == 200);
  auto receipt = must(sup.client().request("POST", "/", kJson, kSpec));
  const std::string client_token(*parsed(receipt.body)->message.token);
  auto tokens = tokens_in_poll(must(probe.request("GET", "/show/specification", "", "")));
  REQUIRE(tokens.size() == 1);
  REQUIRE(must(probe.request("POST", "/register/result", kJson, result_for(tokens[0]))).status ==
          200);
  sup.process->signal(SIGKILL);
  sup.process->wait();
  sup.start();
  auto client = sup.client();
  const std::string redemption =
      R"({"redemption":"measure","version":1,"token":")" + client_token + R"("})";
  auto r = must(client.request("POST", "/", kJson, redemption));
  CHECK(parsed(r.body)->message.kind == model::MessageKind::kResult);
  // The probe is still registered: its poll is answered, not refused.
  CHECK(must(sup.probe().request("GET", "/show/specification", "", "")).status == 200);
}

TEST_CASE("mplane supervisor: a client-initiated component behind it, driven by mplane client",
          "[engine][supervisor][cli]") {
  Supervisor sup("SupCi", {}, /*start_now=*/false);
  const std::uint16_t component_port = test::free_loopback_port();
  const test::TlsDomain& d = sup.domain;
  test::Process component({"component", "--service", "loopback", "--shards", "1", "--listen",
                           "127.0.0.1:" + std::to_string(component_port), "--ca", d.ca(), "--cert",
                           d.component.cert_path, "--key", d.component.key_path},
                          (fs::path(d.dir) / "component").string());
  REQUIRE(component.wait_for_err("listening on"));
  sup.args.insert(sup.args.end(),
                  {"--component", "https://127.0.0.1:" + std::to_string(component_port) + "/"});
  sup.start();
  const std::string url = "https://127.0.0.1:" + std::to_string(sup.port) + "/";
  const std::vector<std::string> tls = d.tls_args(d.client);
  auto client = [&](std::vector<std::string> tail, bool must_succeed = true) {
    std::vector<std::string> args = {"client", "--url", url};
    args.insert(args.end(), tls.begin(), tls.end());
    args.insert(args.end(), tail.begin(), tail.end());
    test::Process p(args, (fs::path(d.dir) / ("client" + std::to_string(++sup.starts))).string());
    const int status = p.wait_for(60'000);
    INFO(p.err());
    if (must_succeed) REQUIRE(status == 0);
    return p.out();
  };
  // Its capabilities are fetched at start (bounded retries while they are not yet in: until
  // then `caps` says "no capabilities" and exits 1).
  std::string caps;
  for (int i = 0; i < 50 && caps.find("test-loopback") == std::string::npos; ++i) {
    caps = client({"caps"}, /*must_succeed=*/false);
    if (caps.find("test-loopback") == std::string::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  CHECK_THAT(caps, Catch::Contains("test-loopback"));
  const std::string out =
      client({"run", "test-loopback", "--param", "test.input=relayed", "--json"});
  auto r = parsed(out);
  CHECK(r->message.kind == model::MessageKind::kResult);
  CHECK(r->message.columns.at(0).values.at(0).as_string() == "relayed");
  CHECK(r->message.find_metadatum("source.device")->value.as_string() ==
        "org.mplane.SupCi.Components.Probe-1");
}

TEST_CASE(
    "mplane supervisor: a client allowed one capability is denied the other, in listings "
    "and on POST",
    "[engine][supervisor][cli]") {
  Supervisor sup("SupAcl", {}, /*start_now=*/false);
  const std::string config = (fs::path(sup.domain.dir) / "supervisor.conf").string();
  std::ofstream(config) << "[TLS]\ncert = " << sup.own.cert_path << "\nkey = " << sup.own.key_path
                        << "\nca-chain = " << sup.domain.ca() << "\n"
                        << "[Roles]\norg.mplane.SupAcl.Clients.Client-1 = guest\n"
                        << "[Authorizations]\ntest-loopback = guest\n"
                        << "[supervisor]\nlisten = 127.0.0.1:" << sup.port
                        << "\nstate = " << sup.state << "\n";
  sup.args = {"supervisor", "--config", config};
  sup.start();
  const std::string other = R"({"capability":"measure","version":1,
    "registry":"http://mplane.corvid.ch/registry/loopback","label":"other-loopback",
    "when":"now ... future","results":["test.output"]})";
  std::string two(kRegistration);
  two.insert(two.find("[") + 1, other + ",");
  REQUIRE(must(sup.probe().request("POST", "/register/capability", kJson, two)).status == 200);
  auto client = sup.client();
  auto caps = parsed(must(client.request("GET", "/capabilities", "", "")).body);
  REQUIRE(caps->message.contents.size() == 1);
  CHECK(*caps->message.contents[0].label == "test-loopback");
  CHECK_THAT(must(client.request("GET", "/show/capability", "", "")).body,
             !Catch::Contains("other-loopback"));
  const std::string spec = R"({"specification":"measure","version":1,
    "registry":"http://mplane.corvid.ch/registry/loopback","label":"x","when":"now",
    "results":["test.output"]})";
  auto denied = must(client.request("POST", "/", kJson, spec));
  CHECK(denied.status == 200);  // the RI's convention on its paths
  CHECK_THAT(denied.body, Catch::Contains("User has no permission to request this capability"));
  auto fork = must(client.request("POST", "/register/specification", kJson,
                                  R"({"org.mplane.SupAcl.Components.Probe-1": )" + spec + "}"));
  CHECK(fork.status == 403);  // the fork's on its paths
  CHECK(sup.process->wait_for_err("denied org.mplane.SupAcl.Clients.Client-1"));
}

TEST_CASE(
    "mplane supervisor: the fork's tStat proxy registers and is listed with the fork's "
    "registry",
    "[engine][supervisor][cli]") {
  const std::string registry = (test::data_dir() / "mplane" / "fork-registry.json").string();
  Supervisor sup("SupTstat", {"--registry", registry});
  const std::string caps =
      test::read_file(test::data_dir() / "mplane" / "fork" / "tstat_capabilities_envelope.json");
  auto reg = must(sup.probe().request("POST", "/register/capability", kJson, caps));
  INFO(reg.body);
  REQUIRE(reg.status == 200);
  CHECK_THAT(reg.body, Catch::Contains("tstat-log_tcp_complete-core\":{\"registered\":\"ok\"}"));
  auto listed = must(sup.client().request("GET", "/capabilities", "", ""));
  CHECK_THAT(listed.body, Catch::Contains("tstat-log_tcp_complete-core"));
}

TEST_CASE("mplane supervisor: usage errors are one line and exit 2", "[engine][supervisor][cli]") {
  test::Process p({"supervisor", "--listen", "nowhere"}, "");
  CHECK(p.wait_for(10'000) == 2);
  test::Process no_tls({"supervisor"}, "");
  CHECK(no_tls.wait_for(10'000) == 2);
  test::TempDir dir;
  test::Process shards({"supervisor", "--insecure", "--shards", "many"}, dir.sub("shards"));
  CHECK(shards.wait_for(10'000) == 2);
  CHECK_THAT(shards.err(), Catch::Contains("--shards many"));
}

}  // namespace
}  // namespace mplane
