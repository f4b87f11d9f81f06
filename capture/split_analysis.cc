#include "capture/split_analysis.h"

#include <algorithm>
#include <string>
#include <thread>

namespace mplane::capture {
namespace {

constexpr std::uint64_t kUnpublished = ~std::uint64_t{0};
constexpr int kRecordsToTrust = 8;             // records that must chain from a guessed start
constexpr std::uint64_t kWalkPrefetch = 4096;  // bytes ahead of a decoder's walk
constexpr std::uint64_t kRoundsAhead = 2;      // chunks decoded ahead of the one taken, per shard

using Record = RecordFile::Record;

struct Listed {
  Micros ts;
  std::uint64_t hash;
  DecodedPacket packet;
};

}  // namespace

// One slot of the ring: one decoded chunk, written by its decoder, then read by every shard.
// `published` (release) says which chunk the slot holds; `unread` counts the shards that have
// not taken it yet (the decoder of the chunk slot_count later waits for it to reach 0).
struct SplitAnalysis::Chunk {
  std::atomic<std::uint64_t> published{kUnpublished};
  std::atomic<std::size_t> unread{0};
  bool found = false;                // a first record was found (guessed) in the chunk
  bool broken = false;               // a broken record ends the file inside the chunk
  bool structural = false;           // a record that changes the reading state: the decode is void
  std::uint64_t start = 0, end = 0;  // the first record; the first record of the next chunk
  Micros latest = 0;                 // the latest timestamp of its frames (the capture's clock)
  std::string error;
  CaptureCounters counted;  // the chunk's frames, by kind (added once the start is confirmed)
  std::vector<std::vector<Listed>> packets;  // per shard: its flows' packets, in file order
};

struct SplitAnalysis::Walk {
  std::uint64_t end = 0;
  bool broken = false;
  std::string error;
};

// What a shard knows of the file as it goes, chunk after chunk, in order.
struct SplitAnalysis::Position {
  std::uint64_t expected;  // where the next chunk really starts
  ReadState state;         // the reading state there
  bool own_walk = false;   // a structural record was passed: every later chunk walked here
};

SplitAnalysis::SplitAnalysis(std::unique_ptr<RecordFile> file,
                             std::unique_ptr<OfflineFilter> filter, std::vector<Analyzer*> shards,
                             std::size_t chunk_bytes)
    : file_(std::move(file)),
      filter_(std::move(filter)),
      shards_(std::move(shards)),
      chunk_bytes_(std::max<std::size_t>(chunk_bytes, 1)),
      slot_count_(4 * shards_.size()),
      slots_(std::make_unique<Chunk[]>(slot_count_)) {
  const std::uint64_t records = file_->size() - file_->first_record();
  chunks_ = (records + chunk_bytes_ - 1) / chunk_bytes_;
  for (std::size_t i = 0; i < slot_count_; ++i) slots_[i].packets.resize(shards_.size());
}

SplitAnalysis::~SplitAnalysis() = default;

std::uint64_t SplitAnalysis::chunk_start(std::uint64_t number) const {
  return std::min(file_->first_record() + number * chunk_bytes_, file_->size());
}

SplitAnalysis::Chunk& SplitAnalysis::slot(std::uint64_t number) const {
  return slots_[number % slot_count_];
}

// Walks, filters, decodes and counts the records of chunk `number` (with `shard`'s analyser,
// into the chunk's counters), listing the flow packets for their owners.
void SplitAnalysis::decode_chunk(std::uint64_t number, std::size_t shard, Chunk& chunk) const {
  const std::uint64_t begin = chunk_start(number), limit = chunk_start(number + 1);
  for (auto& list : chunk.packets) list.clear();
  chunk.broken = chunk.structural = false;
  chunk.error.clear();
  chunk.found = number == 0;
  chunk.start = begin;
  chunk.latest = 0;
  for (std::uint64_t at = begin; !chunk.found && at < limit; ++at) {
    chunk.found = file_->plausible_records_at(at, kRecordsToTrust);
    chunk.start = at;
  }
  const Analyzer& analyzer = *shards_[shard];
  chunk.counted = CaptureCounters{};
  FrameFile::Frame f;
  DecodedPacket decoded;
  std::uint64_t at = chunk.start, hash = 0;
  ReadState state = file_->first_state();  // right unless a structural record came before
  for (std::uint64_t next = 0; chunk.found && at < limit; at = next) {
    __builtin_prefetch(file_->data() + std::min(at + kWalkPrefetch, file_->size() - 1));
    const auto record = file_->record_at(state, at, f, next, chunk.error);
    if (record == Record::kEnd) break;
    if (record == Record::kBroken) {
      chunk.broken = true;
      break;
    }
    if (record == Record::kStructural) {
      chunk.structural = true;
      break;
    }
    if (record == Record::kSkip) continue;
    if (filter_ && !filter_->accepts(f.bytes, f.wire_len)) continue;
    chunk.latest = std::max(chunk.latest, f.ts_us);
    if (!analyzer.decode(f.ts_us, f.bytes, f.wire_len, decoded, hash, &chunk.counted)) continue;
    chunk.packets[flow_partition(hash, shards_.size())].push_back({f.ts_us, hash, decoded});
  }
  chunk.end = at;
}

Status<> SplitAnalysis::take(std::size_t shard, const Chunk& chunk) const {
  Analyzer& analyzer = *shards_[shard];
  if (shard == 0) analyzer.counters() += chunk.counted;
  for (const Listed& p : chunk.packets[shard]) analyzer.add(p.ts, p.packet, p.hash);
  analyzer.advance(chunk.latest);  // the others' frames move the clock too
  if (chunk.broken) return fail(chunk.error);
  return Ok{};
}

// A chunk that its decoder could not read for the shards (its start guessed wrong, or a
// structural record in it or before), walked by every shard itself from where it really starts
// with its own reading state: each keeps its own flows' packets; shard 0 counts the frames.
SplitAnalysis::Walk SplitAnalysis::walk(Position& at, std::uint64_t until,
                                        std::size_t shard) const {
  Analyzer& analyzer = *shards_[shard];
  Walk w;
  FrameFile::Frame f;
  DecodedPacket decoded;
  std::uint64_t next = 0, hash = 0;
  for (w.end = at.expected; w.end < until; w.end = next) {
    const auto record = file_->record_at(at.state, w.end, f, next, w.error);
    if (record == Record::kEnd) break;
    if (record == Record::kBroken) {
      w.broken = true;
      break;
    }
    if (record == Record::kStructural) at.own_walk = true;
    if (record != Record::kFrame) continue;
    if (filter_ && !filter_->accepts(f.bytes, f.wire_len)) continue;
    analyzer.advance(f.ts_us);
    CaptureCounters* counted = shard == 0 ? &analyzer.counters() : nullptr;
    if (!analyzer.decode(f.ts_us, f.bytes, f.wire_len, decoded, hash, counted)) continue;
    if (flow_partition(hash, shards_.size()) == shard) analyzer.add(f.ts_us, decoded, hash);
  }
  at.expected = w.end;
  return w;
}

// Waits until the slot of chunk `number` is free: its previous chunk taken by every shard.
bool SplitAnalysis::wait_for_slot(std::uint64_t number,
                                  const volatile std::sig_atomic_t& stop) const {
  const Chunk& c = slot(number);
  const std::uint64_t previous = number >= slot_count_ ? number - slot_count_ : kUnpublished;
  while (c.published.load(std::memory_order_acquire) != previous ||
         c.unread.load(std::memory_order_acquire) != 0) {
    if (stop) return false;
    std::this_thread::yield();
  }
  return true;
}

Status<> SplitAnalysis::run(std::size_t shard, const volatile std::sig_atomic_t& stop) {
  const std::size_t n = shards_.size();
  Position at{file_->first_record(), file_->first_state()};
  std::uint64_t own = shard;  // the next chunk this shard decodes
  for (std::uint64_t k = 0; k < chunks_ && !stop; ++k) {
    // Decode this shard's chunks a few rounds ahead, so that the others rarely wait.
    for (; own < chunks_ && own < k + kRoundsAhead * n; own += n) {
      if (!wait_for_slot(own, stop)) return Ok{};
      Chunk& c = slot(own);
      decode_chunk(own, shard, c);
      c.unread.store(n, std::memory_order_relaxed);
      c.published.store(own, std::memory_order_release);
    }
    Chunk& c = slot(k);
    while (c.published.load(std::memory_order_acquire) != k) {
      if (stop) return Ok{};
      std::this_thread::yield();
    }
    Status<> status = Ok{};
    if (!at.own_walk && !c.structural && c.found && c.start == at.expected) {
      status = take(shard, c);
      at.expected = c.end;
    } else {
      if (shard == 0) walked_.fetch_add(1, std::memory_order_relaxed);
      Walk w = walk(at, chunk_start(k + 1), shard);
      if (w.broken) status = fail(std::move(w.error));
    }
    c.unread.fetch_sub(1, std::memory_order_acq_rel);
    if (shard == 0) {
      bytes_done_.store(at.expected, std::memory_order_relaxed);
      frames_done_.store(shards_[0]->counters().packets, std::memory_order_relaxed);
    }
    if (!status || stop) return status;
  }
  return Ok{};
}

}  // namespace mplane::capture
