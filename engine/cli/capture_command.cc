// `mplane capture (-r FILE | -i IFACE) [-f BPF] [--format table|csv|json] [--progress]`: the
// passive TCP/UDP flow analyser on a capture file or a live interface, one record per
// connection as it finishes (issue 5, "Command line").
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "capture/analyzer.h"
#include "capture/output/flow_columns.h"
#include "capture/source/pcap_source.h"
#include "capture/split_analysis.h"
#include "engine/cli/args.h"
#include "engine/cli/command.h"

namespace mplane::cli {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"read", "FILE", "read a capture file (pcap or pcapng; also -r FILE)"},
    {"interface", "IFACE", "capture live on an interface (also -i IFACE; needs root)"},
    {"filter", "BPF", "only packets matching this tcpdump-style filter (also -f BPF)"},
    {"format", "FMT",
     "table (default), csv (header line, then one line per flow) or json "
     "(one object per line)"},
    {"progress", "", "show progress and packets/s on stderr (files, when stderr is a terminal)"},
    {"snaplen", "BYTES", "live: bytes captured per packet (default 262144)"},
    {"no-promisc", "", "live: do not put the interface in promiscuous mode"},
    {"duration", "SECONDS", "live: stop after this long (default: until Ctrl-C)"},
    {"max-flows", "N",
     "flow table size; past it the least recently active flow is reported "
     "as evicted (default 131072)"},
    {"idle-timeout", "SECONDS", "a flow without packets this long is reported (default 300)"},
    {"active-timeout", "SECONDS",
     "a flow longer than this is reported (end state timeout) and "
     "goes on as a new record (default: never)"},
    {"shards", "N",
     "analyse on N threads, flows split by their symmetric hash (files: the "
     "threads decode the file in turn; interfaces: a kernel fanout group); records "
     "then come in no single time order"},
};

constexpr std::string_view kUsage =
    "usage: mplane capture (-r FILE | -i IFACE) [-f BPF] [--format table|csv|json] [--progress]\n"
    "Analyses TCP and UDP flows (tstat-like: bytes, retransmissions, RTT, end state) and prints\n"
    "one record per connection as it ends; open ones at the end of the file or on Ctrl-C. A\n"
    "summary of what was seen and skipped goes to stderr. Columns: see capture/README.md.\n";

std::atomic<capture::PcapSource*> g_source{nullptr};
volatile std::sig_atomic_t g_stop = 0;

void on_stop_signal(int) {
  g_stop = 1;
  if (capture::PcapSource* s = g_source.load()) s->break_loop();
}

// SIGINT/SIGTERM stop the capture (flows so far are reported) while it lives.
class StopSignals {
 public:
  explicit StopSignals(capture::PcapSource* live_source = nullptr) {
    g_stop = 0;
    g_source = live_source;
    old_int_ = std::signal(SIGINT, &on_stop_signal);
    old_term_ = std::signal(SIGTERM, &on_stop_signal);
  }
  ~StopSignals() {
    g_source = nullptr;
    std::signal(SIGINT, old_int_);
    std::signal(SIGTERM, old_term_);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  void (*old_int_)(int);
  void (*old_term_)(int);
};

// -r/-i/-f as their long forms (tcpdump's spelling, which users type).
std::vector<std::string> long_forms(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const std::string& a : args) {
    if (a == "-r")
      out.push_back("--read");
    else if (a == "-i")
      out.push_back("--interface");
    else if (a == "-f")
      out.push_back("--filter");
    else
      out.push_back(a);
  }
  return out;
}

enum class Format { kTable, kCsv, kJson };

struct Settings {
  capture::SourceOptions source;
  capture::FlowTableOptions table;
  Format format = Format::kTable;
  bool progress = false;
  double duration = 0;
  std::size_t shards = 1;
};

Result<Settings> settings(const ParsedArgs& args) {
  Settings s;
  s.source.file = args.get("read");
  s.source.interface = args.get("interface");
  s.source.filter = args.get("filter");
  if (s.source.file.empty() == s.source.interface.empty())
    return fail("give exactly one of -r FILE and -i IFACE");
  const std::string format = args.get("format", "table");
  if (format == "csv")
    s.format = Format::kCsv;
  else if (format == "json")
    s.format = Format::kJson;
  else if (format != "table")
    return fail("--format " + format + ": expected table, csv or json");
  auto snaplen = number_option(args, "snaplen", 262144, 64, 262144);
  auto flows = number_option(args, "max-flows", 131072, 1, 1e8);
  auto idle = number_option(args, "idle-timeout", 300, 0.001, 1e7);
  auto duration = number_option(args, "duration", 0, 0, 1e9);
  auto active = number_option(args, "active-timeout", 0, 0, 1e7);
  auto shards = number_option(args, "shards", 1, 1, 64);
  for (auto* r : {&snaplen, &flows, &idle, &duration, &shards, &active}) {
    if (!*r) return fail(r->error());
  }
  s.source.snaplen = static_cast<int>(*snaplen);
  s.source.promiscuous = !args.has("no-promisc");
  s.table.max_flows = static_cast<std::size_t>(*flows);
  s.table.idle_timeout = static_cast<capture::Micros>(*idle * 1e6);
  s.table.active_timeout = static_cast<capture::Micros>(*active * 1e6);
  s.duration = *duration;
  s.shards = static_cast<std::size_t>(*shards);
  s.progress = args.has("progress") && ::isatty(2);
  return s;
}

// Writes records as they come, in the chosen format, through one buffer flushed per batch.
// Formats records into a buffer and writes it out in 64 KiB pieces. Shards have one printer
// each, formatting on their own threads, with the header printed once before and the writes
// of whole pieces under one lock (`shared`).
class Printer {
 public:
  Printer(Format f, std::ostream& out, std::mutex* shared = nullptr, bool header = true)
      : format_(f), out_(out), shared_(shared) {
    if (header && f == Format::kCsv) capture::append_csv_header(buffer_);
    if (header && f == Format::kTable) capture::append_table_header(buffer_);
  }
  void add(const capture::FlowRecord& r) {
    ++records_;
    if (format_ == Format::kCsv) capture::append_csv_row(buffer_, r);
    if (format_ == Format::kJson) capture::append_json_row(buffer_, r);
    if (format_ == Format::kTable) capture::append_table_row(buffer_, r);
    if (buffer_.size() > std::size_t{64} * 1024) flush();
  }
  void flush() {
    std::unique_lock<std::mutex> lock;
    if (shared_) lock = std::unique_lock<std::mutex>(*shared_);
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    out_.flush();
    if (!out_) failed_ = true;  // e.g. a closed pipe (SIGPIPE is ignored: engine/main.cc)
    buffer_.clear();
  }
  std::uint64_t records() const { return records_; }
  // The output could not be written: the reading loop stops (a live capture would never end).
  bool failed() const { return failed_; }

 private:
  Format format_;
  std::ostream& out_;
  std::mutex* shared_;
  std::string buffer_;
  std::uint64_t records_ = 0;
  bool failed_ = false;
};

std::string summary(const capture::CaptureCounters& c, const capture::FlowTableStats& t,
                    std::uint64_t records) {
  std::string s = "mplane capture: " + std::to_string(c.packets) + " packets (" +
                  std::to_string(c.ip_packets) + " IP, " + std::to_string(c.non_ip) + " not IP, " +
                  std::to_string(c.fragments) + " non-first fragments, " +
                  std::to_string(c.other_protocols) + " other protocols, " +
                  std::to_string(c.malformed_total()) + " malformed";
  for (std::size_t i = 0; i < c.malformed.size(); ++i) {
    if (c.malformed[i] == 0) continue;
    s += " " + std::string(capture::malformed_name(static_cast<capture::Malformed>(i))) + "=" +
         std::to_string(c.malformed[i]);
  }
  s += "), " + std::to_string(records) + " flows (" + std::to_string(t.flows_evicted) +
       " evicted, " + std::to_string(t.tcp_reused) + " TCP 4-tuples reused)";
  if (c.kernel_dropped || c.interface_dropped) {
    s += ", dropped: " + std::to_string(c.kernel_dropped) + " by the kernel, " +
         std::to_string(c.interface_dropped) + " by the interface";
  } else {
    s += ", no drops reported";
  }
  return s + "\n";
}

void show_progress(std::uint64_t position, std::uint64_t size, std::uint64_t packets,
                   double seconds) {
  const double done = size > 0 ? static_cast<double>(position) / static_cast<double>(size) : 0;
  const int width = 30, filled = static_cast<int>(done * width);
  std::fprintf(stderr, "\r[%s%s] %3d%%  %llu packets  %.2f Mpkt/s ",
               std::string(filled, '#').c_str(), std::string(width - filled, ' ').c_str(),
               static_cast<int>(done * 100), static_cast<unsigned long long>(packets),
               seconds > 0 ? static_cast<double>(packets) / seconds / 1e6 : 0.0);
}

// The summary line, then the read error if the capture ended on one (exit 1).
int report(Io io, const capture::CaptureCounters& c, const capture::FlowTableStats& t,
           std::uint64_t records, const std::string& error) {
  io.err << summary(c, t, records);
  if (error.empty()) return kExitOk;
  io.err << "mplane capture: " << error << "\n";
  return kExitInvalid;
}

// Reads `src` into `analyzer` until the file ends, a stop signal, the duration or a read error
// (returned): one thread's loop. Live: idle flows expire on the wall clock and records are
// printed as they come; files: the progress bar if asked.
std::string drive(const Settings& s, capture::PcapSource& src, capture::Analyzer& analyzer,
                  Printer& printer) {
  const auto start = std::chrono::steady_clock::now();
  auto next_progress = start;
  const bool progress = s.progress && !src.live() && s.shards == 1;
  const capture::PcapSource::PacketFn fn = [&](std::int64_t ts, auto frame, std::uint32_t len) {
    analyzer.packet(ts, frame, len);
  };
  std::string error;
  while (!g_stop && !src.at_end()) {
    if (printer.failed()) {
      error = "cannot write the records to standard output (closed pipe?)";
      break;
    }
    auto n = src.read(4096, fn);
    if (!n) {
      error = n.error();
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - start).count();
    if (src.live()) {
      analyzer.expire(std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count());
      printer.flush();  // live: records as they come
      if (s.duration > 0 && elapsed >= s.duration) break;
    }
    if (progress && now >= next_progress) {
      show_progress(src.file_position(), src.file_size(), analyzer.counters().packets, elapsed);
      next_progress = now + std::chrono::milliseconds(200);
    }
  }
  if (progress) std::fputs("\n", stderr);
  return error;
}

// Drop counters of a live source, into its analyser's counters.
void add_drops(const capture::PcapSource& src, capture::Analyzer& analyzer) {
  const capture::PcapSource::Stats st = src.stats();
  analyzer.counters().kernel_dropped += st.kernel_dropped;
  analyzer.counters().interface_dropped += st.interface_dropped;
}

// The shards' analysers, each keeping the flows of its partition and printing its records
// through its own printer (the header first, once).
struct ShardSet {
  // `partitioned`: each analyser keeps its partition of flows; else (a kernel fanout group
  // split them already) whatever it is given.
  ShardSet(const Settings& s, capture::LinkType link, Io io, bool partitioned = true) {
    Printer(s.format, io.out).flush();  // the header
    for (std::size_t i = 0; i < s.shards; ++i) {
      printers.push_back(std::make_unique<Printer>(s.format, io.out, &write_lock, false));
      analyzers.push_back(std::make_unique<capture::Analyzer>(
          link, s.table, [p = printers.back().get()](const capture::FlowRecord& r) { p->add(r); },
          partitioned ? capture::Partition{i, s.shards} : capture::Partition{}));
    }
  }
  // Runs `body(i)` on one thread per shard, then every analyser's finish(); meanwhile the
  // calling thread calls `tick(seconds)` every 200 ms (progress).
  template <class Body>
  void run(Body&& body, const std::function<void(double)>& tick = {}) {
    std::atomic<std::size_t> running{analyzers.size()};
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < analyzers.size(); ++i) {
      threads.emplace_back([&, i] {
        body(i);
        analyzers[i]->finish();
        printers[i]->flush();
        running.fetch_sub(1, std::memory_order_release);
      });
    }
    const auto start = std::chrono::steady_clock::now();
    while (tick && running.load(std::memory_order_acquire) > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      tick(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    for (auto& t : threads) t.join();
    if (tick) std::fputs("\n", stderr);
  }
  int report(Io io, const std::vector<std::string>& errors) const {
    capture::CaptureCounters counters;
    capture::FlowTableStats table;
    std::uint64_t records = 0;
    for (std::size_t i = 0; i < analyzers.size(); ++i) {
      counters += analyzers[i]->counters();
      table.flows_evicted += analyzers[i]->table().stats().flows_evicted;
      table.tcp_reused += analyzers[i]->table().stats().tcp_reused;
      records += printers[i]->records();
    }
    const auto failed =
        std::find_if(errors.begin(), errors.end(), [](auto& e) { return !e.empty(); });
    return cli::report(io, counters, table, records, failed == errors.end() ? "" : *failed);
  }

  std::mutex write_lock;
  std::vector<std::unique_ptr<Printer>> printers;
  std::vector<std::unique_ptr<capture::Analyzer>> analyzers;
};

// A pcap or pcapng file on several threads (SplitAnalysis): each shard decodes a share of the
// file's chunks and analyses its own flows.
int analyse_split(const Settings& s, Io io, capture::MappedSource file) {
  ShardSet shards(s, file.link, io);
  std::vector<capture::Analyzer*> parts;
  for (auto& a : shards.analyzers) parts.push_back(a.get());
  capture::SplitAnalysis split(std::move(file.file), std::move(file.filter), parts);
  std::vector<std::string> errors(s.shards);
  StopSignals signals;
  std::function<void(double)> tick;
  if (s.progress) {
    tick = [&](double seconds) {
      show_progress(split.bytes_done(), split.file().size(), split.frames_done(), seconds);
    };
  }
  shards.run(
      [&](std::size_t i) {
        if (auto st = split.run(i, g_stop); !st) errors[i] = st.error();
      },
      tick);
  return shards.report(io, errors);
}

// Files only libpcap reads, on several threads: each reads every frame through libpcap and keeps
// the flows of its partition.
int analyse_sharded(const Settings& s, Io io) {
  auto mapped = capture::open_mapped_source(s.source);
  if (!mapped) {
    io.err << "mplane capture: " << mapped.error() << "\n";
    return kExitInvalid;
  }
  if (mapped->file) return analyse_split(s, io, std::move(mapped.value()));
  std::vector<std::unique_ptr<capture::PcapSource>> sources;
  for (std::size_t i = 0; i < s.shards; ++i) {
    auto src = capture::PcapSource::open(s.source);
    if (!src) {
      io.err << "mplane capture: " << src.error() << "\n";
      return kExitInvalid;
    }
    sources.push_back(std::move(src.value()));
  }
  ShardSet shards(s, sources[0]->link_type(), io);
  std::vector<std::string> errors(s.shards);
  StopSignals signals;
  shards.run([&](std::size_t i) {
    errors[i] = drive(s, *sources[i], *shards.analyzers[i], *shards.printers[i]);
  });
  return shards.report(io, errors);
}

// An interface on several threads: one source per shard in one PACKET_FANOUT group, so that
// the kernel hands each shard whole flows (a symmetric hash).
int analyse_live_sharded(const Settings& s, Io io) {
  std::vector<std::unique_ptr<capture::PcapSource>> sources;
  capture::SourceOptions o = s.source;
  o.fanout_group = static_cast<int>(::getpid() % 0xffff) + 1;  // one group per process
  for (std::size_t i = 0; i < s.shards; ++i) {
    auto src = capture::PcapSource::open(o);
    if (!src) {
      io.err << "mplane capture: " << src.error() << "\n";
      return kExitInvalid;
    }
    sources.push_back(std::move(src.value()));
  }
  ShardSet shards(s, sources[0]->link_type(), io, false);
  std::vector<std::string> errors(s.shards);
  StopSignals signals;
  shards.run([&](std::size_t i) {
    errors[i] = drive(s, *sources[i], *shards.analyzers[i], *shards.printers[i]);
  });
  for (std::size_t i = 0; i < s.shards; ++i) add_drops(*sources[i], *shards.analyzers[i]);
  return shards.report(io, errors);
}

int analyse(const Settings& s, Io io) {
  if (s.shards > 1) {
    return s.source.interface.empty() ? analyse_sharded(s, io) : analyse_live_sharded(s, io);
  }
  auto source = capture::PcapSource::open(s.source);
  if (!source) {
    io.err << "mplane capture: " << source.error() << "\n";
    return kExitInvalid;
  }
  capture::PcapSource& src = **source;
  Printer printer(s.format, io.out);
  capture::Analyzer analyzer(src.link_type(), s.table,
                             [&](const capture::FlowRecord& r) { printer.add(r); });
  std::optional<StopSignals> signals(std::in_place, &src);
  const std::string error = drive(s, src, analyzer, printer);
  signals.reset();
  analyzer.finish();
  printer.flush();
  add_drops(src, analyzer);
  return report(io, analyzer.counters(), analyzer.table().stats(), printer.records(), error);
}

}  // namespace

int run_capture(const std::vector<std::string>& raw, Io io) {
  auto args = parse_args(long_forms(raw), kOptions);
  if (!args) {
    io.err << "mplane capture: " << args.error() << "\n";
    return kExitUsage;
  }
  if (args->has("help")) {
    io.out << kUsage << "Options:\n" << format_options(kOptions);
    return kExitOk;
  }
  if (!args->positional.empty()) {
    io.err << "mplane capture: unexpected argument '" << args->positional[0] << "'\n";
    return kExitUsage;
  }
  auto s = settings(*args);
  if (!s) {
    io.err << "mplane capture: " << s.error() << "\n";
    return kExitUsage;
  }
  return analyse(*s, io);
}

}  // namespace mplane::cli
