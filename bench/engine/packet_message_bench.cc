// The tun agent's packet bodies (engine/agent/packet_message.h): writing and reading the original
// agent's JSON (a list of decimal integers, ~4.6 bytes per packet byte) and the raw format, for
// packet sizes from a ping to a full 1500-byte MTU. Reports packet bytes/s. Each benchmark checks
// once that its output round-trips before timing.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "engine/agent/packet_message.h"

namespace {

using mplane::agent::PacketFields;
using mplane::agent::PacketFormat;
using mplane::agent::PacketMessageReader;

std::vector<std::uint8_t> random_packet(std::size_t size) {
  std::mt19937 rng(42);
  std::vector<std::uint8_t> p(size);
  for (auto& b : p) b = static_cast<std::uint8_t>(rng());
  p[0] = 0x45;
  return p;
}

void BM_WriteJson(benchmark::State& st) {
  const auto packet = random_packet(static_cast<std::size_t>(st.range(0)));
  mplane::json::OutBuffer out;
  for (auto _ : st) {
    out.clear();
    mplane::agent::write_packet_json(out, PacketFields{packet, "tun0", 1795319734});
    benchmark::DoNotOptimize(out.view().data());
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * packet.size()));
  st.counters["body_bytes"] = static_cast<double>(out.size());
}

template <PacketFormat kFormat>
void BM_Read(benchmark::State& st) {
  const auto packet = random_packet(static_cast<std::size_t>(st.range(0)));
  mplane::json::OutBuffer out;
  mplane::agent::write_packet_body(out, kFormat, PacketFields{packet, "tun0", 1795319734});
  const std::string body = out.str();
  PacketMessageReader reader;
  const auto check = reader.parse(kFormat, body);
  if (!check || !std::equal(check->data.begin(), check->data.end(), packet.begin(), packet.end())) {
    st.SkipWithError("the body does not round-trip");
    return;
  }
  for (auto _ : st) {
    auto r = reader.parse(kFormat, body);
    benchmark::DoNotOptimize(r);
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * packet.size()));
}

BENCHMARK(BM_WriteJson)->Arg(64)->Arg(1400)->Arg(1500);
BENCHMARK(BM_Read<PacketFormat::kJson>)->Arg(64)->Arg(1400)->Arg(1500);
BENCHMARK(BM_Read<PacketFormat::kRaw>)->Arg(1400);

}  // namespace

BENCHMARK_MAIN();
