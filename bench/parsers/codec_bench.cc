// Message codec benchmarks: parse and write the four RI benchmark messages
// (shared/mplane/bench, with the RI's figures beside them), each beside its floor in the same run:
//   parse: simdjson DOM parse of the same bytes, and an On-Demand walk visiting every value;
//   stream parse (results fed in 64 KiB reads, rows handed over one by one): the whole parse;
//   write: a plain memcpy of the output size.
// Every benchmark validates its work once before timing it (STYLE C15).
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "conf/builtin.h"
#include "parsers/json/message_reader.h"
#include "parsers/json/message_writer.h"
#include "parsers/json/result_stream_reader.h"
#include "parsers/json/result_stream_writer.h"

namespace {

using namespace mplane;

const char* const kFiles[] = {"capability.json", "specification.json", "result-1row.json",
                              "result-10k-rows-x10cols.json"};

std::string read_input(int index) {
  std::ifstream in(std::string(MPLANE_BENCH_DATA) + "/" + kFiles[index], std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const model::RegistrySet& registries() {
  static const model::RegistrySet regs = [] {
    auto r = conf::load_registries({});
    if (!r) std::abort();
    return std::move(r.value());
  }();
  return regs;
}

void report(benchmark::State& st, std::size_t bytes) {
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * bytes));
  st.SetLabel(kFiles[st.range(0)]);
}

void BM_Parse(benchmark::State& st) {
  const simdjson::padded_string input(read_input(static_cast<int>(st.range(0))));
  json::MessageReader reader(registries());
  model::Arena arena;
  if (!reader.parse(input, arena).ok() || input.size() == 0) {
    st.SkipWithError("input does not parse");
    return;
  }
  for (auto _ : st) {
    auto m = reader.parse(input, arena);
    benchmark::DoNotOptimize(m);
    arena.clear();
  }
  report(st, input.size());
}

// Counts what the streaming reader hands over (the client's printer does the printing).
struct RowCounter final : json::ResultStreamHandler {
  std::size_t rows = 0, messages = 0;
  Status<> on_columns(std::span<const model::Element* const>) override { return Ok{}; }
  Status<> on_row(std::size_t, std::span<const model::Value> values) override {
    rows += !values.empty();
    return Ok{};
  }
  Status<> on_message(const model::Message&) override {
    ++messages;
    return Ok{};
  }
};

// The streaming reader fed 64 KiB reads, as from a socket (compare with BM_Parse: whole input).
void BM_StreamParse(benchmark::State& st) {
  const std::string input = read_input(static_cast<int>(st.range(0)));
  auto feed_all = [&](RowCounter& counter) {
    json::ResultStreamReader reader(registries(), counter);
    constexpr std::size_t kRead = std::size_t{64} * 1024;
    for (std::size_t at = 0; at < input.size(); at += kRead) {
      if (!reader.feed(std::string_view(input).substr(at, kRead))) return false;
    }
    return reader.finish().ok();
  };
  RowCounter check;
  if (!feed_all(check) || check.messages != 1) {
    st.SkipWithError("input does not stream-parse");
    return;
  }
  for (auto _ : st) {
    RowCounter counter;
    benchmark::DoNotOptimize(feed_all(counter));
  }
  report(st, input.size());
}

void BM_FloorSimdjsonDom(benchmark::State& st) {
  const simdjson::padded_string input(read_input(static_cast<int>(st.range(0))));
  simdjson::dom::parser parser;
  for (auto _ : st) {
    simdjson::dom::element doc;
    if (parser.parse(input).get(doc)) st.SkipWithError("simdjson error");
    benchmark::DoNotOptimize(doc);
  }
  report(st, input.size());
}

// On-Demand walk visiting every key and value, unescaping every string: the library floor of
// any On-Demand consumer (what the bench README calls "full walk").
std::size_t walk(simdjson::ondemand::value v);
std::size_t walk_object(simdjson::ondemand::object o) {
  std::size_t n = 0;
  for (auto field : o) {
    std::string_view key;
    simdjson::ondemand::value value;
    if (field.unescaped_key().get(key) || field.value().get(value)) return n;
    n += key.size() + walk(value);
  }
  return n;
}
std::size_t walk(simdjson::ondemand::value v) {
  simdjson::ondemand::json_type t;
  if (v.type().get(t)) return 0;
  switch (t) {
    case simdjson::ondemand::json_type::object: {
      simdjson::ondemand::object o;
      return v.get_object().get(o) ? 0 : walk_object(o);
    }
    case simdjson::ondemand::json_type::array: {
      std::size_t n = 0;
      simdjson::ondemand::array a;
      if (v.get_array().get(a)) return 0;
      for (auto item : a) {
        simdjson::ondemand::value iv;
        if (!item.get(iv)) n += walk(iv);
      }
      return n;
    }
    case simdjson::ondemand::json_type::string: {
      std::string_view s;
      return v.get_string().get(s) ? 0 : s.size();
    }
    default:
      return v.raw_json_token().size();
  }
}

void BM_FloorSimdjsonOnDemandWalk(benchmark::State& st) {
  const simdjson::padded_string input(read_input(static_cast<int>(st.range(0))));
  simdjson::ondemand::parser parser;
  for (auto _ : st) {
    simdjson::ondemand::document doc;
    simdjson::ondemand::object o;
    if (parser.iterate(input).get(doc) || doc.get_object().get(o))
      st.SkipWithError("simdjson error");
    benchmark::DoNotOptimize(walk_object(o));
  }
  report(st, input.size());
}

void BM_Write(benchmark::State& st) {
  const std::string text = read_input(static_cast<int>(st.range(0)));
  json::MessageReader reader(registries());
  auto owned = json::parse_owned(reader, text);
  if (!owned) {
    st.SkipWithError("input does not parse");
    return;
  }
  const model::Message& m = (*owned)->message;
  json::OutBuffer out(text.size() * 2);
  json::write_message(out, m);
  if (out.view().substr(0, out.size()) != std::string_view(text).substr(0, out.size())) {
    st.SkipWithError("output differs from the RI's bytes");
    return;
  }
  const std::size_t bytes = out.size();
  for (auto _ : st) {
    out.clear();
    json::write_message(out, m);
    benchmark::DoNotOptimize(out.view().data());
  }
  report(st, bytes);
}

void BM_StreamWrite(benchmark::State& st) {
  const std::string text = read_input(static_cast<int>(st.range(0)));
  json::MessageReader reader(registries());
  auto owned = json::parse_owned(reader, text);
  if (!owned) {
    st.SkipWithError("input does not parse");
    return;
  }
  const model::Message& m = (*owned)->message;
  std::vector<model::Value> row(m.columns.size());
  std::size_t bytes = 0;
  for (auto _ : st) {
    bytes = 0;
    json::ResultStreamWriter w(m, [&](std::string_view b) { bytes += b.size(); });
    for (std::size_t i = 0; i < m.row_count; ++i) {
      for (std::size_t j = 0; j < row.size(); ++j) row[j] = m.columns[j].values[i];
      w.add_row(row);
    }
    w.finish(*m.when);
  }
  report(st, bytes);
}

void BM_FloorMemcpy(benchmark::State& st) {
  const std::string text = read_input(static_cast<int>(st.range(0)));
  std::string dst(text.size(), '\0');
  for (auto _ : st) {
    std::memcpy(dst.data(), text.data(), text.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  report(st, text.size());
}

BENCHMARK(BM_Parse)->DenseRange(0, 3);
BENCHMARK(BM_StreamParse)->DenseRange(2, 3);
BENCHMARK(BM_FloorSimdjsonDom)->DenseRange(0, 3);
BENCHMARK(BM_FloorSimdjsonOnDemandWalk)->DenseRange(0, 3);
BENCHMARK(BM_Write)->DenseRange(0, 3);
BENCHMARK(BM_StreamWrite)->Arg(3);
BENCHMARK(BM_FloorMemcpy)->DenseRange(0, 3);

}  // namespace

BENCHMARK_MAIN();
