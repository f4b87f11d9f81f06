#include "engine/component/result_spool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mplane::component {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSuffix = ".msg";
constexpr std::size_t kDigits = 20;

std::string errno_text() { return std::strerror(errno); }

// The sequence number of a spool file name, or 0 for any other name.
std::uint64_t seq_of(const std::string& name) {
  if (name.size() != kDigits + kSuffix.size() || !name.ends_with(kSuffix)) return 0;
  std::uint64_t seq = 0;
  for (std::size_t i = 0; i < kDigits; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return 0;
    seq = seq * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return seq;
}

// Writes all of `data` to `fd`, retrying short writes and EINTR.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// `tmp` written with `data`, fsynced and renamed to `final_path`, the directory fsynced.
Status<> write_durably(const std::string& dir, const std::string& tmp,
                       const std::string& final_path, std::string_view head,
                       std::string_view body) {
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail("cannot create " + tmp + ": " + errno_text());
  const bool ok = write_all(fd, head) && write_all(fd, body) && ::fsync(fd) == 0;
  const std::string why = errno_text();
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), final_path.c_str()) != 0) {
    const std::string reason = ok ? errno_text() : why;
    ::unlink(tmp.c_str());
    return fail("cannot write " + final_path + ": " + reason);
  }
  if (!fsync_dir(dir)) return fail("cannot fsync " + dir + ": " + errno_text());
  return Ok{};
}

}  // namespace

Result<std::unique_ptr<ResultSpool>> ResultSpool::open(const std::string& dir,
                                                       std::uint64_t max_bytes) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail("spool " + dir + ": cannot create: " + ec.message());
  const std::string lock = dir + "/.lock";
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail("spool " + dir + ": cannot open " + lock + ": " + errno_text());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return fail("spool " + dir + " is in use by another process (lock " + lock + ")");
  }
  std::unique_ptr<ResultSpool> spool(new ResultSpool(dir, max_bytes, fd));
  if (auto st = spool->load(); !st) return fail(st.error());
  return spool;
}

ResultSpool::ResultSpool(std::string dir, std::uint64_t max_bytes, int lock_fd)
    : dir_(std::move(dir)), max_bytes_(max_bytes), lock_fd_(lock_fd) {}

ResultSpool::~ResultSpool() { ::close(lock_fd_); }  // releases the lock

// Reads every `N.msg` file in sequence order; removes stray temporary files.
Status<> ResultSpool::load() {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(".tmp-")) {
      fs::remove(e.path(), ec);
      continue;
    }
    const std::uint64_t seq = seq_of(name);
    if (seq == 0) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return fail("spool " + dir_ + ": cannot read " + e.path().string());
    std::string all = text.str();
    const std::size_t nl = all.find('\n');
    Entry entry{seq, all.substr(0, nl), nl == std::string::npos ? "" : all.substr(nl + 1)};
    sizes_[seq] = all.size();
    bytes_ += all.size();
    loaded_.push_back(std::move(entry));
  }
  if (ec) return fail("spool " + dir_ + ": cannot list: " + ec.message());
  std::sort(loaded_.begin(), loaded_.end(),
            [](const Entry& a, const Entry& b) { return a.seq < b.seq; });
  if (!loaded_.empty()) next_seq_ = loaded_.back().seq + 1;
  return Ok{};
}

std::vector<ResultSpool::Entry> ResultSpool::take_loaded() {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::move(loaded_);
}

std::string ResultSpool::path_of(std::uint64_t seq) const {
  char name[kDigits + 1];
  std::snprintf(name, sizeof name, "%020" PRIu64, seq);
  return dir_ + "/" + name + std::string(kSuffix);
}

Result<std::uint64_t> ResultSpool::append(std::string_view target, std::string_view body) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::uint64_t size = target.size() + 1 + body.size();
  if (bytes_ + size > max_bytes_) {
    return fail("the spool " + dir_ + " is full (" + std::to_string(bytes_) + " of " +
                std::to_string(max_bytes_) + " bytes)");
  }
  const std::uint64_t seq = next_seq_++;
  const std::string head = std::string(target) + "\n";
  if (auto st =
          write_durably(dir_, dir_ + "/.tmp-" + std::to_string(seq), path_of(seq), head, body);
      !st) {
    return fail(st.error());
  }
  sizes_[seq] = size;
  bytes_ += size;
  return seq;
}

void ResultSpool::remove(std::uint64_t seq) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = sizes_.find(seq);
  if (it == sizes_.end()) return;
  ::unlink(path_of(seq).c_str());
  bytes_ -= it->second;
  sizes_.erase(it);
}

std::uint64_t ResultSpool::bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bytes_;
}

std::size_t ResultSpool::count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sizes_.size();
}

}  // namespace mplane::component
