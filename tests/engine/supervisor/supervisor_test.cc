// The supervisor's core without HTTP: registration and listing, relay of a client's
// specification to the probe's poll and of the probe's result back to the client in its terms,
// long polls, callback pacing, fan-out to several probes, access control, withdrawal of a silent
// probe, undelivered answers kept, and a restart from the store losing nothing.
#include <catch2/catch.hpp>

#include <filesystem>
#include <optional>

#include "engine/supervisor/supervisor.h"
#include "parsers/json/message_writer.h"
#include "parsers/mplane/token.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

namespace fs = std::filesystem;
using supervisor::Answer;
using supervisor::Face;

constexpr const char* kCapability = R"({"capability":"measure","version":1,
  "registry":"http://mplane.corvid.ch/registry/loopback","label":"test-loopback",
  "when":"now ... future","parameters":{"test.input":"*"},"results":["test.output"]})";
constexpr const char* kOther = R"({"capability":"measure","version":1,
  "registry":"http://mplane.corvid.ch/registry/loopback","label":"other-loopback",
  "when":"now ... future","results":["test.output"]})";
constexpr const char* kCallback = R"({"capability":"measure","version":1,"label":"callback",
  "registry":"http://ict-mplane.eu/registry/core","when":"now ... future","token":"comp-cb1"})";

std::string spec(const std::string& input, const std::string& label = "my-test") {
  return R"({"specification":"measure","version":1,"registry":"http://mplane.corvid.ch/registry/loopback",
    "label":")" +
         label + R"(","when":"now","parameters":{"test.input":")" + input +
         R"("},"results":["test.output"]})";
}

std::string result_for(const std::string& token, const std::string& value) {
  return R"({"result":"measure","version":1,"registry":"http://mplane.corvid.ch/registry/loopback",
    "label":"probe-label","token":")" +
         token + R"(","when":"2026-12-02 12:00:00.000000",
    "parameters":{"test.input":")" +
         value + R"("},"results":["test.output"],"resultvalues":[[")" + value + R"("]]})";
}

std::unique_ptr<json::OwnedMessage> parsed(const std::string& text) {
  auto m = test::parse(text);
  if (!m) FAIL(m.error().describe(text));
  return std::move(m.value());
}

// A registration: an envelope of `members`.
std::string envelope_of(const std::string& members) {
  return R"({"envelope":"message","version":1,"contents":[)" + members + "]}";
}

struct Fixture {
  explicit Fixture(std::function<void(supervisor::SupervisorOptions&)> setup = {}) {
    dir = fs::temp_directory_path() /
          ("mplane_sup_" + std::to_string(::getpid()) + "_" + std::to_string(++counter));
    fs::create_directories(dir);
    uv_loop_init(&loop);
    options.capability_link = "https://sup.example:8888/";
    if (setup) setup(options);
    open();
  }
  ~Fixture() {
    close();
    uv_loop_close(&loop);
    fs::remove_all(dir);
  }
  void open() {
    auto s = supervisor::open_sqlite_store((dir / "state.db").string());
    if (!s) FAIL(s.error());
    store = std::move(s.value());
    core = std::make_unique<supervisor::Supervisor>(&loop, test::registries(), *store, options,
                                                    [this] { return now; });
    REQUIRE(core->start().ok());
  }
  void close() {  // as a clean stop
    if (!core) return;
    core->close();
    uv_run(&loop, UV_RUN_NOWAIT);
    core.reset();
    store.reset();
  }
  void crash() {    // as `kill -9`: nothing answered, nothing closed but what the OS would
    core->close();  // (the timer handle must go before the loop; no state is written by it)
    uv_run(&loop, UV_RUN_NOWAIT);
    core.reset();
    store.reset();
  }

  Answer register_probe(const std::string& identity, const std::string& members) {
    return core->register_probe(identity, parsed(envelope_of(members)), false);
  }
  // The answer to a poll, if it came at once (else held).
  std::optional<Answer> poll(const std::string& identity,
                             std::optional<std::chrono::milliseconds> wait = std::nullopt) {
    auto out = std::make_shared<std::optional<Answer>>();
    core->poll(identity, wait, [out](Answer a) { *out = std::move(a); });
    last_poll = out;
    return *out;
  }
  std::optional<Answer> specify(const std::string& client, const std::string& text,
                                const std::string& probe = "", Face face = Face::kRi) {
    auto m = parsed(text);
    auto out = std::make_shared<std::optional<Answer>>();
    core->specify(client, m->message, probe, face, [out](Answer a) { *out = std::move(a); });
    last_specify = out;
    return *out;
  }
  Answer post(const std::string& identity, const std::string& text) {
    auto m = parsed(text);
    return core->post_result(identity, m->message);
  }
  Answer redeem(const std::string& client, const std::string& token, Face face = Face::kRi) {
    Answer out;
    core->redeem(client, token, face, [&](Answer a) { out = std::move(a); });
    if (out.on_written) out.on_written(true);
    return out;
  }

  fs::path dir;
  uv_loop_t loop{};
  std::int64_t now = 1'700'000'000'000'000;
  supervisor::SupervisorOptions options;
  std::unique_ptr<supervisor::StateStore> store;
  std::unique_ptr<supervisor::Supervisor> core;
  std::shared_ptr<std::optional<Answer>> last_poll, last_specify;
  static inline int counter = 0;
};

// The specifications in a poll's answer (the callback excluded), delivered.
std::vector<std::unique_ptr<json::OwnedMessage>> specs_in(Answer a,
                                                          std::string* callback_when = nullptr) {
  REQUIRE(a.status == 200);
  auto m = parsed(a.body);
  std::vector<std::unique_ptr<json::OwnedMessage>> out;
  for (const model::Message& member : m->message.contents) {
    if (member.label && *member.label == "callback") {
      if (callback_when) *callback_when = model::summarize(member);
      continue;
    }
    out.push_back(parsed(json::to_json(member)));
  }
  if (a.on_written) a.on_written(true);
  return out;
}

TEST_CASE(
    "supervisor: a client's specification goes to the probe, its result comes back in the "
    "client's terms",
    "[engine][supervisor]") {
  Fixture f;
  Answer reg = f.register_probe("Probe-1", std::string(kCapability) + "," + kCallback);
  REQUIRE(reg.status == 200);
  CHECK(reg.body == R"({"test-loopback":{"registered":"ok"},"callback":{"registered":"ok"}})");
  // Listed with the probe's link, the callback capability not listed.
  const std::string listing = f.core->capabilities_envelope("Client-1");
  auto listed = parsed(listing);
  REQUIRE(listed->message.contents.size() == 1);
  CHECK(*listed->message.contents[0].link == "https://sup.example:8888/probe/Probe-1/");

  auto receipt = f.specify("Client-1", spec("hi"));  // waits for the result (immediate_wait)
  CHECK_FALSE(receipt.has_value());
  auto poll = f.poll("Probe-1");
  REQUIRE(poll.has_value());
  std::string callback;
  auto specs = specs_in(std::move(*poll), &callback);
  REQUIRE(specs.size() == 1);
  const model::Message& southbound = specs[0]->message;
  CHECK(*southbound.label == "my-test");  // no `-<digits>` needed, none added
  CHECK(*southbound.link == "");
  const std::string component_token(*southbound.token);
  CHECK(component_token.starts_with("sup-"));
  CHECK_THAT(callback, Catch::Contains("now + 1s"));  // work was delivered: soon

  REQUIRE(f.post("Probe-1", result_for(component_token, "hi")).status == 200);
  REQUIRE(f.last_specify->has_value());  // the waiting client got it
  Answer& result = **f.last_specify;
  auto r = parsed(result.body);
  CHECK(r->message.kind == model::MessageKind::kResult);
  CHECK(*r->message.label == "my-test");
  CHECK(*r->message.token == *model::effective_token(parsed(spec("hi"))->message));
  const model::Metadatum* device = r->message.find_metadatum("source.device");
  REQUIRE(device != nullptr);
  CHECK(device->value.as_string() == "Probe-1");  // which probe produced it
  REQUIRE(result.on_written);
  result.on_written(true);  // collected: forgotten
  CHECK(f.core->relays().size() == 0);
}

TEST_CASE("supervisor: a held long poll is answered as soon as work arrives",
          "[engine][supervisor]") {
  Fixture f;
  REQUIRE(f.register_probe("Probe-1", kCapability).status == 200);
  CHECK_FALSE(f.poll("Probe-1", std::chrono::seconds(20)).has_value());  // held
  CHECK_FALSE(f.specify("Client-1", spec("x")).has_value());
  REQUIRE(f.last_poll->has_value());  // woken by the specification
  std::string callback;
  auto specs = specs_in(std::move(**f.last_poll), &callback);
  CHECK(specs.size() == 1);
  CHECK_THAT(callback, Catch::Contains("now + 0s"));  // a long poller comes back at once

  // A held poll with nothing to do ends at its hold time (the shorter of the probe's wish and
  // ours), and the long poller comes back at once: the hold paces it.
  CHECK_FALSE(f.poll("Probe-1", std::chrono::seconds(2)).has_value());
  f.now += 1'000'000;
  f.core->tick();
  CHECK_FALSE(f.last_poll->has_value());
  f.now += 1'500'000;
  f.core->tick();
  REQUIRE(f.last_poll->has_value());
  specs_in(std::move(**f.last_poll), &callback);
  CHECK_THAT(callback, Catch::Contains("now + 0s"));
  // A probe that does not long-poll is paced by the callback: idle, 5 s ± 20%.
  auto idle = f.poll("Probe-1");
  REQUIRE(idle.has_value());
  specs_in(std::move(*idle), &callback);
  CHECK_THAT(callback, Catch::Contains("now + 4s") || Catch::Contains("now + 5s") ||
                           Catch::Contains("now + 6s"));
}

TEST_CASE(
    "supervisor: the receipt after immediate_wait, then redemption, and a client's "
    "measurements are its own",
    "[engine][supervisor]") {
  Fixture f;
  REQUIRE(f.register_probe("Probe-1", kCapability).status == 200);
  f.specify("Client-1", spec("later"));
  f.now += 6'000'000;
  f.core->tick();
  REQUIRE(f.last_specify->has_value());
  auto receipt = parsed((*f.last_specify)->body);
  CHECK(receipt->message.kind == model::MessageKind::kReceipt);
  const std::string token(*receipt->message.token);

  Answer other = f.redeem("Client-2", token);  // another client's token: unknown to it
  CHECK_THAT(other.body, Catch::Contains("Unknown job"));
  CHECK(f.redeem("Client-2", token, Face::kFork).status == 403);

  auto specs = specs_in(*f.poll("Probe-1"));
  CHECK(parsed(f.redeem("Client-1", token).body)->message.kind == model::MessageKind::kReceipt);
  REQUIRE(f.post("Probe-1", result_for(std::string(*specs[0]->message.token), "later")).status ==
          200);
  CHECK(parsed(f.redeem("Client-1", token).body)->message.kind == model::MessageKind::kResult);
  CHECK_THAT(f.redeem("Client-1", token).body, Catch::Contains("Unknown job"));  // collected
}

TEST_CASE("supervisor: bad and unexpected messages change nothing", "[engine][supervisor]") {
  Fixture f;
  CHECK(f.poll("Probe-1")->status == 428);  // not registered
  REQUIRE(f.register_probe("Probe-1", kCallback).status == 200);
  CHECK(f.poll("Probe-1")->status == 428);  // a callback alone is no registration (RI)
  Answer bare = f.core->register_probe("Probe-1", parsed(kCapability), false);
  CHECK(bare.status == 400);
  REQUIRE(f.register_probe("Probe-1", kCapability).status == 200);
  Answer unknown = f.post("Probe-1", result_for("sup-never-sent", "x"));
  CHECK(unknown.status == 403);
  CHECK_THAT(unknown.body, Catch::Contains("Unexpected result"));
  // A result for another probe's measurement is refused too.
  f.specify("Client-1", spec("a"));
  auto specs = specs_in(*f.poll("Probe-1"));
  REQUIRE(f.register_probe("Probe-2", kCapability).status == 200);
  CHECK(f.post("Probe-2", result_for(std::string(*specs[0]->message.token), "a")).status == 403);
  CHECK(f.core->relays().pending() == 1);
  // No probe offers it.
  auto none = f.specify("Client-1", R"({"specification":"measure","version":1,
    "registry":"http://ict-mplane.eu/registry/core","label":"x","when":"now",
    "parameters":{"source.ip4":"1.2.3.4"},"results":["delay.twoway.icmp.us"]})");
  REQUIRE(none.has_value());
  CHECK_THAT(none->body, Catch::Contains("No registered probe"));
}

TEST_CASE("supervisor: one probe addressed, or several at once", "[engine][supervisor]") {
  Fixture f([](supervisor::SupervisorOptions& o) { o.immediate_wait = std::chrono::hours(1); });
  REQUIRE(f.register_probe("Probe-1", kCapability).status == 200);
  REQUIRE(f.register_probe("Probe-2", kCapability).status == 200);
  CHECK(parsed(f.core->capabilities_envelope("C"))->message.contents.size() == 2);

  f.specify("C", spec("one"), "Probe-2");
  CHECK(specs_in(*f.poll("Probe-1")).empty());
  CHECK(specs_in(*f.poll("Probe-2")).size() == 1);

  f.specify("C", spec("both"));  // every probe that offers it
  auto s1 = specs_in(*f.poll("Probe-1"));
  auto s2 = specs_in(*f.poll("Probe-2"));
  REQUIRE(s1.size() == 1);
  REQUIRE(s2.size() == 1);
  CHECK(*s1[0]->message.token != *s2[0]->message.token);
  REQUIRE(f.post("Probe-1", result_for(std::string(*s1[0]->message.token), "both")).status == 200);
  CHECK_FALSE(f.last_specify->has_value());  // one of two
  REQUIRE(f.post("Probe-2", result_for(std::string(*s2[0]->message.token), "both")).status == 200);
  REQUIRE(f.last_specify->has_value());
  auto envelope = parsed((*f.last_specify)->body);
  REQUIRE(envelope->message.kind == model::MessageKind::kEnvelope);
  REQUIRE(envelope->message.contents.size() == 2);
  CHECK(envelope->message.contents[0].find_metadatum("source.device")->value.as_string() ==
        "Probe-1");
  CHECK(envelope->message.contents[1].find_metadatum("source.device")->value.as_string() ==
        "Probe-2");
}

TEST_CASE("supervisor: access control in listings and on specifications, per face",
          "[engine][supervisor]") {
  Fixture f([](supervisor::SupervisorOptions& o) {
    o.access = [](std::string_view client, std::string_view label, std::string_view) {
      return client == "Client-1" || label == "other-loopback";
    };
  });
  REQUIRE(f.register_probe("Probe-1", std::string(kCapability) + "," + kOther).status == 200);
  CHECK(parsed(f.core->capabilities_envelope("Client-1"))->message.contents.size() == 2);
  auto listed = parsed(f.core->capabilities_envelope("Client-2"));
  REQUIRE(listed->message.contents.size() == 1);
  CHECK(*listed->message.contents[0].label == "other-loopback");
  CHECK_THAT(f.core->fork_capabilities("Client-2"), !Catch::Contains("\"test-loopback\""));

  auto denied = f.specify("Client-2", spec("x"));
  REQUIRE(denied.has_value());
  CHECK(denied->status == 200);  // the RI's convention
  CHECK_THAT(denied->body, Catch::Contains("User has no permission"));
  auto fork = f.specify("Client-2", spec("x"), "", Face::kFork);
  REQUIRE(fork.has_value());
  CHECK(fork->status == 403);  // the fork's
  CHECK(f.core->counters().denied == 2);
  CHECK(f.core->relays().size() == 0);
}

TEST_CASE("supervisor: a silent probe is withdrawn, its queued work fails, it comes back",
          "[engine][supervisor]") {
  Fixture f([](supervisor::SupervisorOptions& o) { o.immediate_wait = std::chrono::hours(1); });
  REQUIRE(f.register_probe("Probe-1", kCapability).status == 200);
  f.specify("Client-1", spec("lost"));
  f.now += 31'000'000;
  f.core->tick();
  CHECK(f.core->probes().size() == 0);
  CHECK(parsed(f.core->capabilities_envelope("Client-1"))->message.contents.empty());
  REQUIRE(f.last_specify->has_value());
  CHECK_THAT((*f.last_specify)->body, Catch::Contains("stopped polling"));
  CHECK(f.poll("Probe-1")->status == 428);  // re-register
  REQUIRE(f.register_probe("Probe-1", kCapability).status == 200);
  CHECK(f.poll("Probe-1")->status == 200);
}

TEST_CASE("supervisor: an answer that never reaches the probe is queued again",
          "[engine][supervisor]") {
  Fixture f;
  REQUIRE(f.register_probe("Probe-1", kCapability).status == 200);
  f.specify("Client-1", spec("again"));
  auto lost = f.poll("Probe-1");
  REQUIRE(lost->on_written);
  lost->on_written(false);  // the connection broke
  CHECK(specs_in(*f.poll("Probe-1")).size() == 1);
}

TEST_CASE("supervisor: a restart from the store loses nothing", "[engine][supervisor]") {
  Fixture f([](supervisor::SupervisorOptions& o) { o.immediate_wait = std::chrono::hours(1); });
  REQUIRE(f.register_probe("Probe-1", kCapability).status == 200);
  f.specify("Client-1", spec("queued"));    // queued, not yet polled
  f.specify("Client-1", spec("answered"));  // polled and answered before the crash
  const std::string queued_token = *model::effective_token(parsed(spec("queued"))->message);
  const std::string answered_token = *model::effective_token(parsed(spec("answered"))->message);
  auto specs = specs_in(*f.poll("Probe-1"));
  REQUIRE(specs.size() == 2);
  REQUIRE(f.post("Probe-1", result_for(std::string(*specs[1]->message.token), "answered")).status ==
          200);
  // Re-queue the first one as if that poll's answer had not been delivered: it must survive.
  f.crash();
  f.open();
  CHECK(f.core->probes().size() == 1);  // still registered
  // The result received before the crash is redeemed after it.
  auto r = parsed(f.redeem("Client-1", answered_token).body);
  CHECK(r->message.kind == model::MessageKind::kResult);
  // The other measurement is still known, and its result, posted after the restart, arrives.
  CHECK(parsed(f.redeem("Client-1", queued_token).body)->message.kind ==
        model::MessageKind::kReceipt);
  REQUIRE(f.post("Probe-1", result_for(std::string(*specs[0]->message.token), "queued")).status ==
          200);
  CHECK(parsed(f.redeem("Client-1", queued_token).body)->message.kind ==
        model::MessageKind::kResult);
}

TEST_CASE("supervisor: queued work survives a restart before the probe polls",
          "[engine][supervisor]") {
  Fixture f;
  REQUIRE(f.register_probe("Probe-1", kCapability).status == 200);
  f.specify("Client-1", spec("waiting"));
  f.crash();
  f.open();
  auto specs = specs_in(*f.poll("Probe-1"));
  REQUIRE(specs.size() == 1);
  CHECK(*specs[0]->message.label == "my-test");
}

TEST_CASE("supervisor: an answer leaves only once what it acknowledges is committed",
          "[engine][supervisor]") {
  Fixture f;
  f.core->commit();
  bool sent = false;
  f.core->after_commit([&] { sent = true; });
  CHECK(sent);                                                      // nothing pending: at once
  REQUIRE(f.register_probe("Probe-1", kCapability).status == 200);  // written: a batch is open
  sent = false;
  f.core->after_commit([&] { sent = true; });
  CHECK_FALSE(sent);
  f.core->commit();  // the loop's check phase
  CHECK(sent);
  // Committed: another store on the same file sees it (read after the batch).
  f.crash();
  f.open();
  CHECK(f.core->probes().size() == 1);
}

TEST_CASE("supervisor: an interrupt goes through to the probe", "[engine][supervisor]") {
  Fixture f([](supervisor::SupervisorOptions& o) { o.immediate_wait = std::chrono::hours(1); });
  REQUIRE(f.register_probe("Probe-1", kCapability).status == 200);
  f.specify("Client-1", spec("long"));
  auto specs = specs_in(*f.poll("Probe-1"));
  REQUIRE(specs.size() == 1);
  const std::string component_token(*specs[0]->message.token);
  const std::string client_token = *model::effective_token(parsed(spec("long"))->message);
  Answer now = f.core->interrupt("Client-1", client_token, Face::kRi);
  CHECK(parsed(now.body)->message.kind == model::MessageKind::kReceipt);
  CHECK_THAT(f.core->interrupt("Client-2", client_token, Face::kRi).body,
             Catch::Contains("Unknown job"));  // not another client's to stop
  auto poll = f.poll("Probe-1");
  auto m = parsed(poll->body);
  REQUIRE(m->message.contents.size() == 2);  // the interrupt, then the callback
  CHECK(m->message.contents[0].kind == model::MessageKind::kInterrupt);
  CHECK(*m->message.contents[0].token == component_token);
}

// ---- limits against hostile peers (WIRE.md "Limits") -----------------------------------------

TEST_CASE(
    "supervisor: a registration flood beyond max_probes gets 503, earlier probes keep working",
    "[engine][supervisor][hostile]") {
  Fixture f([](supervisor::SupervisorOptions& o) { o.max_probes = 3; });
  for (int i = 0; i < 3; ++i) {
    REQUIRE(f.register_probe("Probe-" + std::to_string(i), kCapability).status == 200);
  }
  for (int i = 3; i < 50; ++i) {  // the flood: every new identity refused
    Answer refused = f.register_probe("Probe-" + std::to_string(i), kCapability);
    CHECK(refused.status == 503);
    CHECK_THAT(refused.body,
               Catch::Contains("\"exception\"") && Catch::Contains("Too many probes registered"));
  }
  CHECK(f.register_probe("Probe-9", kCallback).status == 503);  // not even an empty entry
  CHECK(f.core->probes().size() == 3);
  CHECK(f.core->counters().refused == 48);
  // A known probe re-registers, polls and is relayed to as before.
  REQUIRE(f.register_probe("Probe-0", kCapability).status == 200);
  f.specify("Client-1", spec("still"), "Probe-0");
  CHECK(specs_in(*f.poll("Probe-0")).size() == 1);
  // A withdrawn probe makes room.
  f.now += 31'000'000;
  f.core->tick();
  CHECK(f.register_probe("Probe-3", kCapability).status == 200);
}

TEST_CASE("supervisor: a registration too large, or with too many capabilities, gets 413",
          "[engine][supervisor][hostile]") {
  Fixture f([](supervisor::SupervisorOptions& o) {
    o.max_capabilities_per_probe = 1;
    o.max_registration_bytes = 2000;
    o.max_registered_bytes = envelope_of(kCapability).size() * 3 / 2;  // one, not two
  });
  Answer many = f.register_probe("Probe-1", std::string(kCapability) + "," + kOther);
  CHECK(many.status == 413);
  CHECK_THAT(many.body, Catch::Contains("A registration of 2 capabilities is too large"));
  const std::string padding(2000, ' ');
  Answer large = f.register_probe("Probe-1", std::string(kCapability) + padding);
  CHECK(large.status == 413);
  CHECK_THAT(large.body, Catch::Contains("bytes is too large"));
  CHECK(f.core->probes().size() == 0);
  // Registrations in all: the first fits, a second probe's does not, a replacement does.
  REQUIRE(f.register_probe("Probe-1", kCapability).status == 200);
  CHECK(f.core->probes().registered_bytes() == envelope_of(kCapability).size());
  Answer full = f.register_probe("Probe-2", kCapability);
  CHECK(full.status == 503);
  CHECK_THAT(full.body, Catch::Contains("Too many registered capabilities"));
  REQUIRE(f.register_probe("Probe-1", kOther).status == 200);  // replaces its own
  CHECK(f.core->probes().registered_bytes() == envelope_of(kOther).size());
  f.now += 31'000'000;  // withdrawn: its bytes are free again
  f.core->tick();
  CHECK(f.core->probes().registered_bytes() == 0);
  CHECK(f.register_probe("Probe-2", kCapability).status == 200);
}

TEST_CASE("supervisor: queued work and measurements are bounded, per probe, per client and in all",
          "[engine][supervisor][hostile]") {
  Fixture f([](supervisor::SupervisorOptions& o) {
    o.immediate_wait = std::chrono::milliseconds(0);
    o.max_queued_per_probe = 2;
    o.max_relays = 5;
    o.max_relays_per_client = 3;
  });
  REQUIRE(f.register_probe("Probe-1", kCapability).status == 200);
  REQUIRE(f.register_probe("Probe-2", kCapability).status == 200);
  auto status = [&](const std::string& client, const std::string& input, const std::string& probe) {
    auto a = f.specify(client, spec(input), probe);
    REQUIRE(a.has_value());
    return a->status;
  };
  CHECK(status("Client-1", "a", "Probe-1") == 200);
  CHECK(status("Client-1", "b", "Probe-1") == 200);
  auto full = f.specify("Client-1", spec("c"), "Probe-1");  // Probe-1's queue is full
  CHECK(full->status == 503);
  CHECK_THAT(full->body, Catch::Contains("Probe Probe-1 has too much queued work"));
  CHECK(status("Client-1", "c", "Probe-2") == 200);         // another probe is not blocked
  auto mine = f.specify("Client-1", spec("d"), "Probe-2");  // Client-1 holds 3 measurements
  CHECK(mine->status == 503);
  CHECK_THAT(mine->body, Catch::Contains("Too many measurements pending for Client-1"));
  CHECK(status("Client-2", "d", "Probe-2") == 200);  // another client is not blocked
  CHECK(status("Client-2", "e", "Probe-2") == 503);  // Probe-2's queue: 2
  // Polled, the queues are free again; the relays (5 in all) are not until collected.
  CHECK(specs_in(*f.poll("Probe-1")).size() == 2);
  auto two = specs_in(*f.poll("Probe-2"));
  REQUIRE(two.size() == 2);
  CHECK(status("Client-2", "f", "Probe-1") == 200);
  auto all = f.specify("Client-3", spec("g"), "Probe-1");
  CHECK(all->status == 503);
  CHECK_THAT(all->body, Catch::Contains("Too many measurements pending"));
  CHECK(f.core->relays().size() == 5);
  // A result collected makes room.
  REQUIRE(f.post("Probe-2", result_for(std::string(*two[0]->message.token), "c")).status == 200);
  const std::string token = *model::effective_token(parsed(spec("c"))->message);
  CHECK(parsed(f.redeem("Client-1", token).body)->message.kind == model::MessageKind::kResult);
  CHECK(status("Client-3", "g", "Probe-1") == 200);
}

TEST_CASE("supervisor: specification and queued bytes are bounded",
          "[engine][supervisor][hostile]") {
  Fixture f([](supervisor::SupervisorOptions& o) {
    o.immediate_wait = std::chrono::milliseconds(0);
    o.max_specification_bytes = 4096;
    o.max_queued_bytes = 3000;
  });
  REQUIRE(f.register_probe("Probe-1", kCapability).status == 200);
  auto large = f.specify("Client-1", spec(std::string(5000, 'x')));
  REQUIRE(large.has_value());
  CHECK(large->status == 413);
  CHECK_THAT(large->body, Catch::Contains("bytes is too large"));
  CHECK(f.specify("Client-1", spec(std::string(1000, 'a')))->status == 200);
  CHECK(f.specify("Client-1", spec(std::string(1000, 'b')))->status == 200);
  CHECK(f.core->probes().queued_bytes() > 2000);
  auto full = f.specify("Client-1", spec(std::string(1000, 'c')));
  CHECK(full->status == 503);
  CHECK_THAT(full->body, Catch::Contains("Too much work queued for probes"));
  CHECK(specs_in(*f.poll("Probe-1")).size() == 2);
  CHECK(f.core->probes().queued_bytes() == 0);
  CHECK(f.specify("Client-1", spec(std::string(1000, 'c')))->status == 200);
}

TEST_CASE("supervisor: replies held for clients are bounded in bytes, the probe sends again later",
          "[engine][supervisor][hostile]") {
  Fixture f([](supervisor::SupervisorOptions& o) {
    o.immediate_wait = std::chrono::milliseconds(0);
    o.max_reply_bytes = 4000;
  });
  REQUIRE(f.register_probe("Probe-1", kCapability).status == 200);
  REQUIRE(f.specify("Client-1", spec("first"))->status == 200);
  REQUIRE(f.specify("Client-1", spec("second"))->status == 200);
  auto specs = specs_in(*f.poll("Probe-1"));
  REQUIRE(specs.size() == 2);
  const std::string value(1000, 'x');  // each result holds it twice: over 2000 bytes
  REQUIRE(f.post("Probe-1", result_for(std::string(*specs[0]->message.token), value)).status ==
          200);
  const std::string second = result_for(std::string(*specs[1]->message.token), value);
  Answer refused = f.post("Probe-1", second);
  CHECK(refused.status == 503);
  CHECK_THAT(refused.body, Catch::Contains("send it again later"));
  CHECK(f.core->relays().reply_bytes() < 4000);
  // Once the client collects the first, the second fits.
  const std::string token = *model::effective_token(parsed(spec("first"))->message);
  CHECK(parsed(f.redeem("Client-1", token).body)->message.kind == model::MessageKind::kResult);
  CHECK(f.post("Probe-1", second).status == 200);
}

TEST_CASE("supervisor: a client interrupting again and again queues one interrupt",
          "[engine][supervisor][hostile]") {
  Fixture f([](supervisor::SupervisorOptions& o) { o.immediate_wait = std::chrono::hours(1); });
  REQUIRE(f.register_probe("Probe-1", kCapability).status == 200);
  f.specify("Client-1", spec("long"));
  REQUIRE(specs_in(*f.poll("Probe-1")).size() == 1);
  const std::string token = *model::effective_token(parsed(spec("long"))->message);
  for (int i = 0; i < 100; ++i) f.core->interrupt("Client-1", token, Face::kRi);
  CHECK(f.core->probes().all().at("Probe-1").queue.size() == 1);
}

}  // namespace
}  // namespace mplane
