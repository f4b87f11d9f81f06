#include "engine/sched/job_admission.h"

namespace mplane::sched {

JobAdmission::JobAdmission(std::size_t max_jobs, std::size_t max_per_identity)
    : max_jobs_(max_jobs), max_per_identity_(max_per_identity) {}

std::optional<std::string> JobAdmission::acquire(std::string_view identity) {
  const bool shared = identity == kUnauthenticatedIdentity;
  std::lock_guard<std::mutex> lock(mutex_);
  if (active_ >= max_jobs_) {
    return "Overloaded: " + std::to_string(max_jobs_) +
           " jobs are waiting or running (max-jobs); retry later";
  }
  if (!shared && max_per_identity_ > 0) {
    auto it = per_identity_.find(std::string(identity));
    const std::size_t mine = it == per_identity_.end() ? 0 : it->second;
    if (mine >= max_per_identity_) {
      return "Overloaded: " + std::to_string(mine) + " jobs of " + std::string(identity) +
             " are waiting or running (max-jobs-per-identity); retry later";
    }
    if (it == per_identity_.end()) {
      per_identity_.emplace(std::string(identity), 1);
    } else {
      ++it->second;
    }
  }
  ++active_;
  return std::nullopt;
}

void JobAdmission::release(std::string_view identity) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (active_ > 0) --active_;
  if (identity == kUnauthenticatedIdentity || max_per_identity_ == 0) return;
  auto it = per_identity_.find(std::string(identity));
  if (it == per_identity_.end()) return;
  if (--it->second == 0) per_identity_.erase(it);
}

std::size_t JobAdmission::active() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return active_;
}

std::size_t JobAdmission::active(std::string_view identity) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = per_identity_.find(std::string(identity));
  return it == per_identity_.end() ? 0 : it->second;
}

}  // namespace mplane::sched
