// The supervisor's SQLite store: what is stored survives closing and reopening the file (a
// restart), queues are dequeued once and in order, a second supervisor on the same file is
// refused, a bad file is a clear error.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "engine/supervisor/state_store.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

namespace fs = std::filesystem;

// A fresh directory for one database, removed afterwards.
struct TempDir {
  TempDir()
      : path(fs::temp_directory_path() /
             ("mplane_store_" + std::to_string(::getpid()) + "_" + std::to_string(++counter))) {
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
  fs::path path;
  static inline int counter = 0;
};

std::unique_ptr<supervisor::StateStore> open(const std::string& path) {
  auto s = supervisor::open_sqlite_store(path);
  if (!s) FAIL(s.error());
  return std::move(s.value());
}

TEST_CASE("sqlite store: probes, queues, relay and results survive a restart",
          "[engine][supervisor][store]") {
  TempDir dir;
  const std::string db = dir.file("state.db");
  {
    auto store = open(db);
    REQUIRE(store->put_probe({"Probe-1", R"({"envelope": "message"})", 10, 10}).ok());
    REQUIRE(store->put_probe({"Probe-2", "{}", 11, 11}).ok());
    REQUIRE(store->touch_probe("Probe-1", 20).ok());
    REQUIRE(store->enqueue("Probe-1", "spec-a", 30).ok());
    REQUIRE(store->enqueue("Probe-1", "spec-b", 31).ok());
    REQUIRE(store->enqueue("Probe-2", "spec-c", 32).ok());
    REQUIRE(store->put_relay({"comp-token", "client-token", "Client-1", "Probe-1", "ping", "", 35})
                .ok());
    REQUIRE(store->set_reply("comp-token", "result-json", 40).ok());
    REQUIRE(store->put_relay({"other", "t2", "Client-2", "Probe-2", "x", "", 36}).ok());
    REQUIRE(store->remove_relay("other").ok());
  }  // closed as a kill would leave it: every call was committed when it returned
  auto store = open(db);
  auto probes = store->probes();
  REQUIRE(probes.ok());
  REQUIRE(probes->size() == 2);
  CHECK((*probes)[0].identity == "Probe-1");
  CHECK((*probes)[0].capabilities_json == R"({"envelope": "message"})");
  CHECK((*probes)[0].last_poll_us == 20);

  auto all = store->queued();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  CHECK((*all)[2].identity == "Probe-2");

  auto queued = store->dequeue_all("Probe-1");
  REQUIRE(queued.ok());
  REQUIRE(queued->size() == 2);
  CHECK((*queued)[0].json == "spec-a");
  CHECK((*queued)[1].json == "spec-b");
  CHECK((*queued)[0].id < (*queued)[1].id);
  auto again = store->dequeue_all("Probe-1");
  REQUIRE(again.ok());
  CHECK(again->empty());  // dequeued once

  auto relay = store->relay_for_component_token("comp-token");
  REQUIRE(relay.ok());
  REQUIRE(relay->has_value());
  CHECK((*relay)->client_token == "client-token");
  CHECK((*relay)->client_label == "ping");
  auto none = store->relay_for_component_token("unknown");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());

  CHECK((*relay)->reply_json == "result-json");
  CHECK((*relay)->updated_us == 40);
  auto relays = store->relays();
  REQUIRE(relays.ok());
  REQUIRE(relays->size() == 1);  // the removed one stays removed
  CHECK((*relays)[0].client_identity == "Client-1");
}

TEST_CASE("sqlite store: a transaction commits its calls together, or none of them",
          "[engine][supervisor][store]") {
  TempDir dir;
  auto store = open(dir.file("state.db"));
  auto failed = store->transaction([&]() -> Status<> {
    REQUIRE(store->enqueue("Probe-1", "spec", 1).ok());
    REQUIRE(store->transaction([&]() -> Status<> {
                   return store->put_probe({"P", "{}", 1, 1});
                 })
                .ok());  // nested: joins
    return fail(std::string("changed my mind"));
  });
  REQUIRE_FALSE(failed.ok());
  CHECK(store->queued()->empty());
  CHECK(store->probes()->empty());
  auto ok = store->transaction([&]() -> Status<> {
    auto id = store->enqueue("Probe-1", "a", 1);
    if (!id) return fail(id.error());
    auto b = store->enqueue("Probe-1", "b", 2);
    if (!b) return fail(b.error());
    return Ok{};
  });
  REQUIRE(ok.ok());
  auto q = store->queued();
  REQUIRE(q->size() == 2);
  REQUIRE(store->drop_queued("Probe-1", (*q)[0].id).ok());
  REQUIRE(store->queued()->size() == 1);
  CHECK(store->queued()->front().json == "b");
}

TEST_CASE("sqlite store: withdrawing a probe drops its queue, and replies expire",
          "[engine][supervisor][store]") {
  TempDir dir;
  auto store = open(dir.file("state.db"));
  REQUIRE(store->put_probe({"Probe-1", "{}", 1, 1}).ok());
  REQUIRE(store->enqueue("Probe-1", "spec", 2).ok());
  REQUIRE(store->remove_probe("Probe-1").ok());
  CHECK(store->probes()->empty());
  CHECK(store->dequeue_all("Probe-1")->empty());

  REQUIRE(store->put_relay({"c1", "t1", "C", "Probe-1", "l", "old", 100}).ok());
  REQUIRE(store->put_relay({"c2", "t2", "C", "Probe-1", "l", "new", 200}).ok());
  auto expired = store->expire_relays(150);
  REQUIRE(expired.ok());
  CHECK(*expired == 1);
  CHECK_FALSE(store->relay_for_component_token("c1")->has_value());
  CHECK(store->relay_for_component_token("c2")->has_value());
}

TEST_CASE("sqlite store: one supervisor per file, and a bad file is a clear error",
          "[engine][supervisor][store]") {
  TempDir dir;
  const std::string db = dir.file("state.db");
  auto first = open(db);
  auto second = supervisor::open_sqlite_store(db);
  REQUIRE_FALSE(second.ok());
  CHECK_THAT(second.error(), Catch::Contains(db));
  CHECK_THAT(second.error(), Catch::Contains("locked"));

  const std::string garbage = dir.file("garbage.db");
  std::ofstream(garbage) << std::string(4096, 'x');
  auto bad = supervisor::open_sqlite_store(garbage);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error(), Catch::Contains("garbage.db"));

  auto missing = supervisor::open_sqlite_store(dir.file("no/such/dir/state.db"));
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error(), Catch::Contains("no/such/dir"));
}

}  // namespace
}  // namespace mplane
