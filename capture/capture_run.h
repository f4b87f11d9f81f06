// One whole capture analysed to its end: a file or a live interface, on one thread or on
// several (shards), each shard's records handed to its own output as flows finish. What
// `mplane capture` runs (engine/cli/capture_command.cc parses its options and prints).
//
// Shards (RunOptions::shards > 1): a pcap/pcapng file is split into chunks that the shards
// decode in turn (SplitAnalysis); a file only libpcap reads is read whole by every shard, each
// keeping the flows of its partition; an interface is opened once per shard in one kernel
// fanout group, which hands each shard whole flows. Threads: one per shard, started and joined
// here (the command has no event loop); shard i calls only outputs[i].
//
// Stopping: request_capture_stop() (async-signal-safe, for SIGINT/SIGTERM handlers) ends every
// shard's reading; the flows so far are then reported as usual.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "capture/analyzer.h"
#include "capture/source/pcap_source.h"

namespace mplane::capture {

// Where one shard's records go; called on that shard's thread only.
class RecordOutput {
 public:
  virtual ~RecordOutput() = default;
  virtual void add(const FlowRecord& r) = 0;
  // Writes what is buffered: after every read batch of a live capture, and at the end.
  virtual void flush() = 0;
  // The output cannot be written (e.g. a closed pipe): the shard stops reading.
  virtual bool failed() const = 0;
};

struct RunOptions {
  SourceOptions source;
  FlowTableOptions table;
  std::size_t shards = 1;
  double duration = 0;  // live: stop after this many seconds; 0: until stopped
};

// Progress of a file, for a progress bar: every 200 ms on the calling thread (one shard) or a
// watcher (several).
struct RunProgress {
  std::uint64_t position = 0;  // bytes of the file read
  std::uint64_t size = 0;
  std::uint64_t packets = 0;
  double seconds = 0;
};
using ProgressFn = std::function<void(const RunProgress&)>;

struct RunReport {
  CaptureCounters counters;  // all shards, kernel and interface drops included
  FlowTableStats table;      // evictions and reused 4-tuples, all shards
  std::string error;         // the read error that ended the capture, if any
};

// Runs the capture. `outputs` has one output per shard (options.shards of them). Errors: the
// source cannot be opened (the report is then empty). `progress` may be empty (files only).
Result<RunReport> run_capture(const RunOptions& options, std::span<RecordOutput* const> outputs,
                              const ProgressFn& progress = {});

// Ends the running capture's reading (from a signal handler).
void request_capture_stop() noexcept;

}  // namespace mplane::capture
