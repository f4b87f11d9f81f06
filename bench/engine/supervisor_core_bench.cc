// The supervisor's core without HTTP (issue 12): relayed specification -> result round trips per
// second through Supervisor, the work its home shard does for each (the client's specification
// parsed, relayed to a held long poll, the delivery reported, the probe's result parsed and
// answered to the waiting client, the store's transaction committed), with its SQLite state in a
// file (as run) and in memory, beside the floor in the same run: the same messages only parsed
// and written, which any relay must do.
#include <benchmark/benchmark.h>

#include <uv.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "conf/builtin.h"
#include "engine/supervisor/supervisor.h"
#include "parsers/json/message_reader.h"
#include "parsers/json/message_writer.h"

namespace {

using namespace mplane;
namespace fs = std::filesystem;

constexpr int kProbes = 1000;

const model::RegistrySet& registries() {
  static const model::RegistrySet regs = std::move(conf::load_registries({}).value());
  return regs;
}

constexpr std::string_view kRegistration = R"({"envelope":"message","version":1,"contents":[
  {"capability":"measure","version":1,"registry":"http://mplane.corvid.ch/registry/loopback",
   "label":"test-loopback","when":"now ... future","parameters":{"test.input":"*"},
   "results":["test.output"]},
  {"capability":"measure","version":1,"label":"callback","registry":"http://ict-mplane.eu/registry/core",
   "when":"now ... future","token":"cb"}]})";

std::string spec_json(int n) {
  return R"({"specification":"measure","version":1,"registry":"http://mplane.corvid.ch/registry/loopback",
    "label":"bench","when":"now","parameters":{"test.input":"in-)" +
         std::to_string(n) + R"("},"results":["test.output"]})";
}

std::string result_json(std::string_view token, int n) {
  return R"({"result":"measure","version":1,"registry":"http://mplane.corvid.ch/registry/loopback",
    "label":"test-loopback","token":")" +
         std::string(token) + R"(","when":"2026-12-02 12:00:00.000000",
    "parameters":{"test.input":"in-)" +
         std::to_string(n) + R"("},"results":["test.output"],"resultvalues":[["in-)" +
         std::to_string(n) + R"("]]})";
}

std::unique_ptr<json::OwnedMessage> parse(json::MessageReader& reader, std::string text) {
  return std::move(json::parse_owned_consuming(reader, std::move(text)).value());
}

// The component token of the one specification in a poll's answer (the callback comes last).
std::string first_token(const std::string& body) {
  constexpr std::string_view kKey = R"("token":")";
  const std::size_t at = body.find(kKey) + kKey.size();
  return body.substr(at, body.find('"', at) - at);
}

// A supervisor with kProbes registered probes on a loop that is never run: the benchmark calls
// what the server would, and commit() as the loop's check phase would after each step.
struct Core {
  explicit Core(const std::string& state) {
    uv_loop_init(&loop);
    store = std::move(supervisor::open_sqlite_store(state).value());
    supervisor::SupervisorOptions options;
    options.capability_link = "https://sup.example:8888/";
    core = std::make_unique<supervisor::Supervisor>(&loop, registries(), *store, options,
                                                    [this] { return now; });
    (void)core->start();
    for (int i = 0; i < kProbes; ++i) {
      probes.push_back("org.mplane.Bench.Components.Probe-" + std::to_string(i));
      (void)core->register_probe(probes.back(), parse(reader, std::string(kRegistration)), false);
    }
    core->commit();
  }
  ~Core() {
    core->close();
    uv_run(&loop, UV_RUN_NOWAIT);
    core.reset();
    store.reset();
    uv_loop_close(&loop);
  }
  // `k` relayed round trips, to k different probes, their steps interleaved as one loop
  // iteration would take them (group commit: one transaction per step for all k). Returns how
  // many clients got a result.
  int round_trips(int first, int k) {
    std::vector<std::optional<supervisor::Answer>> polls(static_cast<std::size_t>(k));
    std::vector<std::optional<supervisor::Answer>> replies(polls.size());
    for (int i = 0; i < k; ++i) {  // held long polls, then the clients' specifications
      core->poll(probe(first + i), std::chrono::seconds(20),
                 [&polls, i](supervisor::Answer a) { polls[i] = std::move(a); });
      auto spec = parse(reader, spec_json(first + i));
      core->specify("org.mplane.Bench.Clients.Client-1", spec->message, probe(first + i),
                    supervisor::Face::kRi,
                    [&replies, i](supervisor::Answer a) { replies[i] = std::move(a); });
    }
    core->commit();
    for (int i = 0; i < k; ++i) {  // the polls' answers written, the probes' results in
      auto& poll = polls[static_cast<std::size_t>(i)];
      if (!poll) continue;
      if (poll->on_written) poll->on_written(true);
      auto result = parse(reader, result_json(first_token(poll->body), first + i));
      (void)core->post_result(probe(first + i), result->message);
    }
    core->commit();
    int ok = 0;
    for (auto& reply : replies) {  // the results written to their clients: forgotten
      if (!reply) continue;
      if (reply->on_written) reply->on_written(true);
      ok += reply->body.find("\"result\"") != std::string::npos ? 1 : 0;
    }
    core->commit();
    now += 1000;
    return ok;
  }
  const std::string& probe(int n) const { return probes[static_cast<std::size_t>(n % kProbes)]; }

  uv_loop_t loop{};
  std::int64_t now = 1'800'000'000'000'000;
  json::MessageReader reader{registries()};
  std::unique_ptr<supervisor::StateStore> store;
  std::unique_ptr<supervisor::Supervisor> core;
  std::vector<std::string> probes;
};

// Arg: round trips per loop iteration (1: every step commits alone; 16: a loaded loop's batch).
void run_relay(benchmark::State& state, const std::string& path) {
  Core core(path);
  const int k = static_cast<int>(state.range(0));
  int n = 0;
  std::int64_t failed = 0;
  for (auto _ : state) {
    failed += k - core.round_trips(n, k);
    n += k;
  }
  if (failed > 0) state.SkipWithError("a round trip ended without a result");
  state.counters["round_trips/s"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
}

void BM_RelayRoundTrip_SqliteFile(benchmark::State& state) {
  const fs::path dir =
      fs::temp_directory_path() / ("mplane_core_bench_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  run_relay(state, (dir / "state.db").string());
  fs::remove_all(dir);
}
BENCHMARK(BM_RelayRoundTrip_SqliteFile)->Arg(1)->Arg(16);

void BM_RelayRoundTrip_SqliteMemory(benchmark::State& state) { run_relay(state, ":memory:"); }
BENCHMARK(BM_RelayRoundTrip_SqliteMemory)->Arg(1)->Arg(16);

// The floor: the client's specification and the probe's result parsed, the specification
// written southbound and the result northbound, with no state kept.
void BM_MessagesOnly(benchmark::State& state) {
  json::MessageReader reader(registries());
  int n = 0;
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto spec = parse(reader, spec_json(n));
    bytes += json::to_json(spec->message, {.pretty = false}).size();
    auto result = parse(reader, result_json("sup-0123456789abcdef", n));
    bytes += json::to_json(result->message, {.pretty = false}).size();
    ++n;
  }
  benchmark::DoNotOptimize(bytes);
  state.counters["round_trips/s"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MessagesOnly);

}  // namespace

BENCHMARK_MAIN();
