#include "capture/capture_run.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <thread>
#include <vector>

#include "capture/split_analysis.h"

namespace mplane::capture {
namespace {

// The stop request (set from a signal handler) and the live source whose blocking read it must
// break: the only state shared with a handler, hence globals of plain/atomic types.
volatile std::sig_atomic_t g_stop = 0;
std::atomic<PcapSource*> g_live_source{nullptr};

// The live source that request_capture_stop() breaks, while one shard reads it.
class LiveSourceSlot {
 public:
  explicit LiveSourceSlot(PcapSource* live) { g_live_source = live; }
  ~LiveSourceSlot() { g_live_source = nullptr; }
  LiveSourceSlot(const LiveSourceSlot&) = delete;
  LiveSourceSlot& operator=(const LiveSourceSlot&) = delete;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Reads `src` into `analyzer` until the file ends, a stop request, the duration or a read error
// (returned): one thread's loop. Live: idle flows expire on the wall clock and records are
// flushed as they come.
std::string drive(const RunOptions& o, PcapSource& src, Analyzer& analyzer, RecordOutput& out,
                  const ProgressFn& progress) {
  const auto start = std::chrono::steady_clock::now();
  auto next_progress = start;
  const PcapSource::PacketFn fn = [&](std::int64_t ts, auto frame, std::uint32_t len) {
    analyzer.packet(ts, frame, len);
  };
  while (!g_stop && !src.at_end()) {
    if (out.failed()) return "cannot write the records to standard output (closed pipe?)";
    auto n = src.read(4096, fn);
    if (!n) return n.error();
    if (src.live()) {
      analyzer.expire(std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count());
      out.flush();  // live: records as they come
      if (o.duration > 0 && seconds_since(start) >= o.duration) break;
    }
    if (progress && !src.live() && std::chrono::steady_clock::now() >= next_progress) {
      progress({src.file_position(), src.file_size(), analyzer.counters().packets,
                seconds_since(start)});
      next_progress = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    }
  }
  return "";
}

void add_drops(const PcapSource& src, Analyzer& analyzer) {
  const PcapSource::Stats st = src.stats();
  analyzer.counters().kernel_dropped += st.kernel_dropped;
  analyzer.counters().interface_dropped += st.interface_dropped;
}

// The shards' analysers, each handing its records to its own output.
struct ShardSet {
  // `partitioned`: each analyser keeps its partition of flows; else (a kernel fanout group
  // split them already) whatever it is given.
  ShardSet(const RunOptions& o, LinkType link, std::span<RecordOutput* const> outs,
           bool partitioned)
      : outputs(outs), errors(o.shards) {
    for (std::size_t i = 0; i < o.shards; ++i) {
      analyzers.push_back(std::make_unique<Analyzer>(
          link, o.table, [out = outs[i]](const FlowRecord& r) { out->add(r); },
          partitioned ? Partition{i, o.shards} : Partition{}));
    }
  }
  // Runs `body(i)` on one thread per shard, then every analyser's finish(); meanwhile the
  // calling thread calls `tick(seconds)` every 200 ms.
  template <class Body>
  void run(Body&& body, const std::function<void(double)>& tick = {}) {
    std::atomic<std::size_t> running{analyzers.size()};
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < analyzers.size(); ++i) {
      threads.emplace_back([&, i] {
        body(i);
        analyzers[i]->finish();
        outputs[i]->flush();
        running.fetch_sub(1, std::memory_order_release);
      });
    }
    const auto start = std::chrono::steady_clock::now();
    while (tick && running.load(std::memory_order_acquire) > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      tick(seconds_since(start));
    }
    for (auto& t : threads) t.join();
  }
  RunReport report() const {
    RunReport r;
    for (const auto& a : analyzers) {
      r.counters += a->counters();
      r.table.flows_evicted += a->table().stats().flows_evicted;
      r.table.tcp_reused += a->table().stats().tcp_reused;
    }
    for (const std::string& e : errors) {
      if (r.error.empty()) r.error = e;
    }
    return r;
  }

  std::span<RecordOutput* const> outputs;
  std::vector<std::unique_ptr<Analyzer>> analyzers;
  std::vector<std::string> errors;
};

// A pcap or pcapng file on several threads (SplitAnalysis): each shard decodes a share of the
// file's chunks and analyses its own flows.
RunReport run_split(const RunOptions& o, std::span<RecordOutput* const> outputs, MappedSource file,
                    const ProgressFn& progress) {
  ShardSet shards(o, file.link, outputs, true);
  std::vector<Analyzer*> parts;
  for (auto& a : shards.analyzers) parts.push_back(a.get());
  SplitAnalysis split(std::move(file.file), std::move(file.filter), parts);
  std::function<void(double)> tick;
  if (progress) {
    tick = [&](double seconds) {
      progress({split.bytes_done(), split.file().size(), split.frames_done(), seconds});
    };
  }
  shards.run(
      [&](std::size_t i) {
        if (auto st = split.run(i, g_stop); !st) shards.errors[i] = st.error();
      },
      tick);
  return shards.report();
}

Result<std::vector<std::unique_ptr<PcapSource>>> open_sources(const SourceOptions& o,
                                                              std::size_t n) {
  std::vector<std::unique_ptr<PcapSource>> sources;
  for (std::size_t i = 0; i < n; ++i) {
    auto src = PcapSource::open(o);
    if (!src) return fail(src.error());
    sources.push_back(std::move(src.value()));
  }
  return sources;
}

// Several shards on sources of their own: files only libpcap reads (every shard reads every
// frame and keeps its partition's flows), or an interface in one fanout group per process.
Result<RunReport> run_on_sources(const RunOptions& o, std::span<RecordOutput* const> outputs) {
  const bool live = !o.source.interface.empty();
  SourceOptions so = o.source;
  if (live) so.fanout_group = static_cast<int>(::getpid() % 0xffff) + 1;
  auto sources = open_sources(so, o.shards);
  if (!sources) return fail(sources.error());
  ShardSet shards(o, (*sources)[0]->link_type(), outputs, !live);
  shards.run([&](std::size_t i) {
    shards.errors[i] = drive(o, *(*sources)[i], *shards.analyzers[i], *outputs[i], {});
  });
  for (std::size_t i = 0; i < o.shards; ++i) add_drops(*(*sources)[i], *shards.analyzers[i]);
  return shards.report();
}

Result<RunReport> run_one(const RunOptions& o, RecordOutput& out, const ProgressFn& progress) {
  auto source = PcapSource::open(o.source);
  if (!source) return fail(source.error());
  PcapSource& src = **source;
  Analyzer analyzer(src.link_type(), o.table, [&](const FlowRecord& r) { out.add(r); });
  RunReport report;
  {
    LiveSourceSlot slot(src.live() ? &src : nullptr);
    report.error = drive(o, src, analyzer, out, progress);
  }
  analyzer.finish();
  out.flush();
  add_drops(src, analyzer);
  report.counters = analyzer.counters();
  report.table = analyzer.table().stats();
  return report;
}

}  // namespace

Result<RunReport> run_capture(const RunOptions& o, std::span<RecordOutput* const> outputs,
                              const ProgressFn& progress) {
  if (outputs.size() != o.shards || o.shards == 0) return fail("one output per shard is needed");
  g_stop = 0;
  if (o.shards == 1) return run_one(o, *outputs[0], progress);
  if (o.source.interface.empty()) {
    auto mapped = open_mapped_source(o.source);
    if (!mapped) return fail(mapped.error());
    if (mapped->file) return run_split(o, outputs, std::move(mapped.value()), progress);
  }
  return run_on_sources(o, outputs);
}

void request_capture_stop() noexcept {
  g_stop = 1;
  if (PcapSource* s = g_live_source.load()) s->break_loop();
}

}  // namespace mplane::capture
