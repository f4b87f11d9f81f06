// Bounds on the jobs that wait or run, shared by every shard of a process: at most
// `max_jobs` in all (the documented global max-jobs), and at most `max_per_identity` for one
// identity, so that one client cannot take every slot and lock the others out.
//
// Thread-safe (a mutex: one lock per specification that starts a job, and one when it ends;
// never held while anything else runs). The identity of an unauthenticated peer (plaintext
// mode, one identity for everyone) is bounded by max_jobs only.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mplane::sched {

class JobAdmission {
 public:
  // `max_per_identity` 0: no per-identity bound.
  JobAdmission(std::size_t max_jobs, std::size_t max_per_identity);

  // Takes a slot for `identity`, or says which bound is reached (the text of the overload
  // exception; nothing is taken).
  std::optional<std::string> acquire(std::string_view identity);
  // Gives back a slot taken by acquire(identity).
  void release(std::string_view identity);

  std::size_t active() const;
  std::size_t active(std::string_view identity) const;

 private:
  const std::size_t max_jobs_;
  const std::size_t max_per_identity_;
  mutable std::mutex mutex_;
  std::size_t active_ = 0;
  std::unordered_map<std::string, std::size_t> per_identity_;  // only identities with jobs
};

// The identity every plaintext peer has (PROTOCOL.md §4.7).
inline constexpr std::string_view kUnauthenticatedIdentity = "Identity.Unauthenticated.Default";

}  // namespace mplane::sched
