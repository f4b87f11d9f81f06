// The supervisor load generator (engine/client/supervisor_load.h): its summaries and messages on
// fixed inputs, and a short run against the Python RI's supervisor (a test peer from
// shared/peers/ri; skipped where it is absent, RESOURCE_LOCK ri_peer like tests/interop).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/client/supervisor_load.h"
#include "engine/client/supervisor_load_messages.h"
#include "tests/interop/ri_support.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

using client::load::ReplyKind;

TEST_CASE("supervisor load: latency summary of fixed latencies", "[supervisor_load]") {
  std::vector<std::uint64_t> ns;
  for (std::uint64_t ms = 1; ms <= 100; ++ms) ns.push_back(ms * 1'000'000);
  const auto s = client::summarize_latencies(ns);
  CHECK(s.p50 == Approx(50));  // index 49 of 0..99
  CHECK(s.p99 == Approx(99));
  CHECK(s.max == Approx(100));
  CHECK(s.mean == Approx(50.5));
  CHECK(ns.size() == 100);  // summarized on a copy

  const auto empty = client::summarize_latencies({});
  CHECK(empty.p50 == 0);
  CHECK(empty.max == 0);
}

TEST_CASE("supervisor load: where clients POST", "[supervisor_load]") {
  const std::string listing = R"({"envelope":"message","version":1,"contents":[
    {"capability":"measure","label":"test-loopback","link":"http://127.0.0.1:1/probe/a"},
    {"capability":"measure","label":"other","link":"http://127.0.0.1:1/probe/x"},
    {"capability":"measure","label":"test-loopback","link":"http://127.0.0.1:1/probe/b"},
    {"capability":"measure","label":"test-loopback","link":"http://127.0.0.1:1/probe/a"}]})";
  CHECK(client::specification_targets(200, listing, "test-loopback") ==
        std::vector<std::string>{"/probe/a", "/probe/b"});
  // The RI's supervisor has no /capabilities: POST to the face's root.
  CHECK(client::specification_targets(404, "<html>", "test-loopback") ==
        std::vector<std::string>{"/"});
  CHECK(client::specification_targets(200, "not json", "test-loopback") ==
        std::vector<std::string>{"/"});
  CHECK(client::specification_targets(200, listing, "absent") == std::vector<std::string>{"/"});
}

TEST_CASE("supervisor load: poll replies and the callback's delay", "[supervisor_load]") {
  simdjson::dom::parser parser;
  std::string error;
  const std::string reply = R"({"envelope":"message","version":1,"contents":[
    {"specification":"measure","label":"test-loopback-0","token":"t1","link":"",
     "parameters":{"test.input":"a\"b"}},
    {"interrupt":"measure","label":"x","token":"t0"},
    {"specification":"measure","label":"callback","when":"now + 5s"}]})";
  auto r = client::load::parse_poll_reply(parser, reply, error);
  REQUIRE(r);
  REQUIRE(r->work.size() == 1);
  CHECK(r->work[0].token == "t1");
  CHECK(r->work[0].input == "a\"b");
  CHECK(r->interrupts == 1);
  CHECK(r->callback_s == Approx(5));

  auto bare =
      client::load::parse_poll_reply(parser, R"([{"specification":"measure","token":"u"}])", error);
  REQUIRE(bare);
  CHECK(bare->work.size() == 1);
  CHECK(!bare->callback_s);

  CHECK(!client::load::parse_poll_reply(parser, "{}", error));
  CHECK(error == "poll reply is neither an envelope nor an array");
  CHECK(!client::load::parse_poll_reply(parser, "<html>", error));

  CHECK(client::load::callback_delay("now + 0s") == Approx(0));
  CHECK(client::load::callback_delay("now + 1.5 s") == Approx(1.5));
  CHECK(client::load::callback_delay("now") == Approx(0));
  CHECK(!client::load::callback_delay("now + 5m"));
  CHECK(!client::load::callback_delay("2026-01-01 00:00:00"));
}

TEST_CASE("supervisor load: messages are mPlane and carry the token", "[supervisor_load]") {
  const std::string result = client::load::result("test-loopback-0", "t\"1", "in");
  auto parsed = test::parse(result);
  REQUIRE(parsed);
  CHECK((*parsed)->message.kind == model::MessageKind::kResult);
  CHECK((*parsed)->message.token == "t\"1");
  REQUIRE(test::parse(client::load::registration("test-loopback", "abc")));
  REQUIRE(test::parse(client::load::specification("bench-c0-1", "abc", "x")));
  REQUIRE(test::parse(client::load::redemption("bench-c0-1", "abc", "x")));

  simdjson::dom::parser parser;
  CHECK(client::load::parse_client_reply(parser, result).kind == ReplyKind::kResult);
  CHECK(client::load::parse_client_reply(parser, R"({"receipt":"measure","token":"t"})").kind ==
        ReplyKind::kReceipt);
  const auto ex = client::load::parse_client_reply(parser, R"({"exception":"t","errmsg":"no"})");
  CHECK(ex.kind == ReplyKind::kException);
  CHECK(ex.detail == "no");
  CHECK(client::load::parse_client_reply(parser, "[]").kind == ReplyKind::kOther);
}

TEST_CASE("supervisor load: two probes and a client through the RI's supervisor",
          "[ri][supervisor_load]") {
  MPLANE_REQUIRE_PEER(interop::ri_dir() / "ri-run.py");
  interop::ScratchDir dir;
  const std::uint16_t component_port = test::free_loopback_port();
  const std::uint16_t client_port = test::free_loopback_port();
  {
    test::Process supervisor(
        interop::ri_program(dir, "ri-run.py"),
        {"mpsup", "supervisor.conf", "COMPONENT_FACE_PORT=" + std::to_string(component_port),
         "CLIENT_FACE_PORT=" + std::to_string(client_port)},
        dir.file("mpsup"));
    REQUIRE(interop::wait_for_port(component_port, supervisor));
    REQUIRE(interop::wait_for_port(client_port, supervisor));

    client::SupervisorLoadOptions o;
    o.component_face =
        transport::parse_http_url("http://127.0.0.1:" + std::to_string(component_port) + "/")
            .value();
    o.client_face =
        transport::parse_http_url("http://127.0.0.1:" + std::to_string(client_port) + "/").value();
    o.probes = 2;
    // The RI's supervisor holds each specification's POST up to 5 s (its immediate wait), its
    // whole loop with it, then relays at one-second polling: a round trip takes 6-7 s, one at a
    // time. One client and a window with room for two.
    o.clients = 1;
    o.seconds = 15;
    o.label_suffix = true;
    o.poll_interval_s = 0.2;
    o.redeem_interval_s = 0.1;
    o.ramp_s = 0;
    o.supervisor_pid = supervisor.pid();
    auto report = client::run_supervisor_load(o);
    REQUIRE(report);
    INFO("errors: " << report->errors.size()
                    << (report->errors.empty() ? std::string()
                                               : ", first: " + report->errors.begin()->first));
    CHECK(report->errors.empty());
    CHECK(!report->latencies_ns.empty());
    CHECK(report->registrations >= 2);
    CHECK(report->polls > 0);
    CHECK(report->targets == 1);  // no /capabilities on the RI: its root
    CHECK(report->supervisor_end.ok);
  }
}

TEST_CASE("supervisor load: three probes and two clients through mplane supervisor",
          "[supervisor_load]") {
  interop::ScratchDir dir;
  const std::uint16_t port = test::free_loopback_port();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  test::Process supervisor({"supervisor", "--insecure", "--listen",
                            "127.0.0.1:" + std::to_string(port), "--state", dir.file("state.db")},
                           dir.file("supervisor"));
  REQUIRE(interop::wait_for_port(port, supervisor));
  client::SupervisorLoadOptions o;
  o.component_face = o.client_face = transport::parse_http_url(url).value();
  o.probes = 3;
  o.clients = 2;
  o.idle_probes = 2;
  o.seconds = 2;
  o.ramp_s = 0;
  o.settle_s = 0.2;
  o.supervisor_pid = supervisor.pid();
  auto report = client::run_supervisor_load(o);
  REQUIRE(report);
  INFO("first error: " << (report->errors.empty() ? "" : report->errors.begin()->first));
  CHECK(report->errors.empty());
  CHECK(!report->latencies_ns.empty());
  CHECK(report->registrations == 5);
  CHECK(report->targets == 3);  // the probes' own paths, /probe/<identity>/, from the listing
  CHECK(report->results_posted > 0);
}

}  // namespace
}  // namespace mplane
