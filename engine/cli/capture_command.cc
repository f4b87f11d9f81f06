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

#include "capture/capture_run.h"
#include "capture/output/flow_columns.h"
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

void on_stop_signal(int) { capture::request_capture_stop(); }

// SIGINT/SIGTERM stop the capture (flows so far are reported) while it lives.
class StopSignals {
 public:
  StopSignals() {
    old_int_ = std::signal(SIGINT, &on_stop_signal);
    old_term_ = std::signal(SIGTERM, &on_stop_signal);
  }
  ~StopSignals() {
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
  capture::RunOptions run;
  Format format = Format::kTable;
  bool progress = false;
};

Result<Settings> settings(const ParsedArgs& args) {
  Settings s;
  capture::SourceOptions& source = s.run.source;
  source.file = args.get("read");
  source.interface = args.get("interface");
  source.filter = args.get("filter");
  if (source.file.empty() == source.interface.empty())
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
  source.snaplen = static_cast<int>(*snaplen);
  source.promiscuous = !args.has("no-promisc");
  s.run.table.max_flows = static_cast<std::size_t>(*flows);
  s.run.table.idle_timeout = static_cast<capture::Micros>(*idle * 1e6);
  s.run.table.active_timeout = static_cast<capture::Micros>(*active * 1e6);
  s.run.duration = *duration;
  s.run.shards = static_cast<std::size_t>(*shards);
  s.progress = args.has("progress") && ::isatty(2);
  return s;
}

// Writes records as they come, in the chosen format, through one buffer flushed per batch.
// Formats records into a buffer and writes it out in 64 KiB pieces. Shards have one printer
// each, formatting on their own threads, with the header printed once before and the writes
// of whole pieces under one lock (`shared`).
class Printer final : public capture::RecordOutput {
 public:
  Printer(Format f, std::ostream& out, std::mutex* shared = nullptr, bool header = true)
      : format_(f), out_(out), shared_(shared) {
    if (header && f == Format::kCsv) capture::append_csv_header(buffer_);
    if (header && f == Format::kTable) capture::append_table_header(buffer_);
  }
  void add(const capture::FlowRecord& r) override {
    ++records_;
    if (format_ == Format::kCsv) capture::append_csv_row(buffer_, r);
    if (format_ == Format::kJson) capture::append_json_row(buffer_, r);
    if (format_ == Format::kTable) capture::append_table_row(buffer_, r);
    if (buffer_.size() > std::size_t{64} * 1024) flush();
  }
  void flush() override {
    std::unique_lock<std::mutex> lock;
    if (shared_) lock = std::unique_lock<std::mutex>(*shared_);
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    out_.flush();
    if (!out_) failed_ = true;  // e.g. a closed pipe (SIGPIPE is ignored: engine/main.cc)
    buffer_.clear();
  }
  std::uint64_t records() const { return records_; }
  // The output could not be written: the reading loop stops (a live capture would never end).
  bool failed() const override { return failed_; }

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

void show_progress(const capture::RunProgress& p) {
  const double done =
      p.size > 0 ? static_cast<double>(p.position) / static_cast<double>(p.size) : 0;
  const int width = 30, filled = static_cast<int>(done * width);
  std::fprintf(stderr, "\r[%s%s] %3d%%  %llu packets  %.2f Mpkt/s ",
               std::string(filled, '#').c_str(), std::string(width - filled, ' ').c_str(),
               static_cast<int>(done * 100), static_cast<unsigned long long>(p.packets),
               p.seconds > 0 ? static_cast<double>(p.packets) / p.seconds / 1e6 : 0.0);
}

// Prints the records (the header once, then each shard through its own printer), the summary
// line, then the read error if the capture ended on one (exit 1).
int analyse(const Settings& s, Io io) {
  const std::size_t shards = s.run.shards;
  std::mutex write_lock;
  std::vector<std::unique_ptr<Printer>> printers;
  if (shards > 1) Printer(s.format, io.out).flush();  // the header, once
  for (std::size_t i = 0; i < shards; ++i) {
    printers.push_back(std::make_unique<Printer>(s.format, io.out,
                                                 shards > 1 ? &write_lock : nullptr, shards == 1));
  }
  std::vector<capture::RecordOutput*> outputs;
  outputs.reserve(printers.size());
  for (auto& p : printers) outputs.push_back(p.get());
  bool shown = false;
  const capture::ProgressFn progress = [&shown](const capture::RunProgress& p) {
    shown = true;
    show_progress(p);
  };
  StopSignals signals;
  auto report = capture::run_capture(s.run, outputs, s.progress ? progress : capture::ProgressFn());
  if (shown) std::fputs("\n", stderr);
  if (!report) {
    io.err << "mplane capture: " << report.error() << "\n";
    return kExitInvalid;
  }
  std::uint64_t records = 0;
  for (const auto& p : printers) records += p->records();
  io.err << summary(report->counters, report->table, records);
  if (report->error.empty()) return kExitOk;
  io.err << "mplane capture: " << report->error << "\n";
  return kExitInvalid;
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
