// The on-disk queue of a component-initiated component (issue 12): the receipts, results and
// exceptions that could not be delivered to the supervisor, kept until it is reachable again,
// across a restart of the component too, so that nothing measured is lost.
//
// A spool is a directory of one file per message, named by a sequence number
// (`00000000000000000042.msg`): the delivery order. A file holds the target (an URL, or nothing
// for the supervisor's result path) on its first line, then the message. A file is written as
// `.tmp-N`, fsynced, renamed into place and the directory fsynced: a crash leaves either the whole
// message or none of it (stray `.tmp-*` files are removed at open). The spool is bounded in bytes:
// past max_bytes a message is refused (the caller logs it). An exclusive lock (flock on `.lock`)
// keeps two processes from sharing a spool.
//
// Thread-safe: the initiator's shard appends and removes; a job's shard appends directly when the
// initiator's shard has stopped (a result of a job interrupted at shutdown). The I/O is blocking
// (a few small writes and two fsyncs): it happens only while the supervisor is unreachable.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/base/result.h"

namespace mplane::component {

class ResultSpool {
 public:
  struct Entry {
    std::uint64_t seq = 0;
    std::string target;  // empty: the supervisor's result path
    std::string body;
  };

  // Opens `dir` (created with its parents if missing), locks it and reads what a previous run
  // left there (see loaded()). Errors name the directory: cannot create, in use by another
  // process, unreadable.
  static Result<std::unique_ptr<ResultSpool>> open(const std::string& dir, std::uint64_t max_bytes);
  ~ResultSpool();
  ResultSpool(const ResultSpool&) = delete;
  ResultSpool& operator=(const ResultSpool&) = delete;

  // The entries found at open, oldest first (moved out: call once).
  std::vector<Entry> take_loaded();

  // Writes one message durably; returns its sequence number. Errors: the spool is full (the
  // text says so, with the bound), or the write failed (the system error).
  Result<std::uint64_t> append(std::string_view target, std::string_view body);
  // Deletes a delivered message (a missing file is not an error).
  void remove(std::uint64_t seq);

  std::uint64_t bytes() const;
  std::size_t count() const;
  const std::string& dir() const { return dir_; }

 private:
  ResultSpool(std::string dir, std::uint64_t max_bytes, int lock_fd);
  Status<> load();
  std::string path_of(std::uint64_t seq) const;

  const std::string dir_;
  const std::uint64_t max_bytes_;
  const int lock_fd_;
  mutable std::mutex mutex_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t bytes_ = 0;
  std::map<std::uint64_t, std::uint64_t> sizes_;  // seq -> bytes, of the files in the spool
  std::vector<Entry> loaded_;
};

}  // namespace mplane::component
