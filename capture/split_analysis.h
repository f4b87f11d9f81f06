// A capture file (pcap or pcapng: a RecordFile) analysed by several shards at once, on one
// thread each, every frame read and decoded by one of them only (issue 5: "near-linear gain
// from a second shard"; when every shard walked the whole file itself, the walk alone took a
// third of the time of a packet and a second shard gained 25%, see bench/README.md).
//
// The file is cut into chunks of `chunk_bytes`. Shard s decodes chunks s, s+N, s+2N, …: it
// walks their records, runs the BPF filter, decodes and counts every frame (into the chunk),
// and lists each TCP or UDP packet for the shard that owns its flow (flow_partition of the
// flow hash). Every shard then runs its flow table on the packets listed for it, chunk after
// chunk: in file order, as if it had read the file alone.
//
// Where a chunk's first record lies is known only once the chunk before it has been walked, so
// its decoder guesses (the first offset from which several records chain plausibly). Each
// shard checks the guess against where the previous chunk really ended and, when the guess was
// wrong, walks that chunk itself: a wrong guess costs time, never a packet. Decoders read with
// the state at the file's first record; a structural record (a pcapng section header or
// interface description) after it voids that: the shards then walk the rest of the file
// themselves, each with its own state.
//
// Threads: run(i) is called once per shard, each on its own thread, all at the same time. They
// meet only in a ring of chunk slots (atomics, no lock) and wait for each other by yielding.
// Analyser i is used by run(i)'s thread only.
#pragma once

#include <atomic>
#include <csignal>
#include <cstdint>
#include <memory>
#include <vector>

#include "capture/analyzer.h"
#include "capture/source/offline_filter.h"
#include "capture/source/record_file.h"
#include "parsers/base/result.h"

namespace mplane::capture {

class SplitAnalysis {
 public:
  static constexpr std::size_t kDefaultChunkBytes = 1 << 20;

  // `shards[i]` is partition i of shards.size(); `filter` may be null. The file stays mapped
  // for the analysis' lifetime (decoded packets point into it).
  SplitAnalysis(std::unique_ptr<RecordFile> file, std::unique_ptr<OfflineFilter> filter,
                std::vector<Analyzer*> shards, std::size_t chunk_bytes = kDefaultChunkBytes);
  ~SplitAnalysis();
  SplitAnalysis(const SplitAnalysis&) = delete;
  SplitAnalysis& operator=(const SplitAnalysis&) = delete;

  // On shard `shard`'s thread: analyses its flows over the whole file (call finish() on its
  // analyser after). Ends with the file's error if a record is broken (after every packet
  // before it), or early, without error, once `stop` is set (by a signal handler, say).
  Status<> run(std::size_t shard, const volatile std::sig_atomic_t& stop);

  const RecordFile& file() const { return *file_; }
  // Chunks every shard walked itself: a first record guessed wrong, or a structural record in
  // them or before (statistics, tests).
  std::uint64_t walked_chunks() const { return walked_.load(); }
  // Progress, from any thread: the bytes and frames shard 0 has gone past.
  std::uint64_t bytes_done() const { return bytes_done_.load(std::memory_order_relaxed); }
  std::uint64_t frames_done() const { return frames_done_.load(std::memory_order_relaxed); }

 private:
  struct Chunk;
  struct Walk;
  struct Position;

  void decode_chunk(std::uint64_t number, std::size_t shard, Chunk& chunk) const;
  Status<> take(std::size_t shard, const Chunk& chunk) const;
  Walk walk(Position& at, std::uint64_t until, std::size_t shard) const;
  bool wait_for_slot(std::uint64_t number, const volatile std::sig_atomic_t& stop) const;
  std::uint64_t chunk_start(std::uint64_t number) const;
  Chunk& slot(std::uint64_t number) const;

  std::unique_ptr<RecordFile> file_;
  std::unique_ptr<OfflineFilter> filter_;
  std::vector<Analyzer*> shards_;
  std::uint64_t chunk_bytes_, chunks_ = 0;
  std::size_t slot_count_;
  std::unique_ptr<Chunk[]> slots_;
  mutable std::atomic<std::uint64_t> walked_{0};
  std::atomic<std::uint64_t> bytes_done_{0}, frames_done_{0};
};

}  // namespace mplane::capture
