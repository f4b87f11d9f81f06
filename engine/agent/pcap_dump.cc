#include "engine/agent/pcap_dump.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "engine/agent/sys_error.h"

namespace mplane::agent {
namespace {

constexpr std::uint32_t kMicroMagic = 0xa1b2c3d4;  // written in host order, as libpcap does

template <class T>
void put(std::vector<std::uint8_t>& out, T value) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(&value);
  out.insert(out.end(), p, p + sizeof value);
}

}  // namespace

Result<PcapDump> PcapDump::create(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("pcap dump " + path + ": " + errno_text(errno));
  PcapDump dump(fd, path);
  put<std::uint32_t>(dump.buffer_, kMicroMagic);
  put<std::uint16_t>(dump.buffer_, 2);  // version 2.4
  put<std::uint16_t>(dump.buffer_, 4);
  put<std::int32_t>(dump.buffer_, 0);   // thiszone
  put<std::uint32_t>(dump.buffer_, 0);  // sigfigs
  put<std::uint32_t>(dump.buffer_, kSnapLength);
  put<std::uint32_t>(dump.buffer_, kLinktypeRaw);
  if (auto s = dump.flush(); !s) return fail(s.error());
  return dump;
}

PcapDump::PcapDump(int fd, std::string path) : fd_(fd), path_(std::move(path)) {
  buffer_.reserve(kBufferBytes);
}

PcapDump::PcapDump(PcapDump&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      buffer_(std::move(other.buffer_)),
      packets_(other.packets_),
      error_(std::move(other.error_)) {}

PcapDump::~PcapDump() { (void)close(); }

Status<> PcapDump::write(std::span<const std::uint8_t> packet, loop::WallTime time) {
  if (!error_.empty()) return fail(error_);
  if (fd_ < 0) return fail("pcap dump " + path_ + ": closed");
  const std::size_t kept = packet.size() < kSnapLength ? packet.size() : kSnapLength;
  const std::int64_t us = time.time_since_epoch().count();
  if (buffer_.size() + 16 + kept > kBufferBytes) {
    if (auto s = flush(); !s) return s;
  }
  put<std::uint32_t>(buffer_, static_cast<std::uint32_t>(us / 1'000'000));
  put<std::uint32_t>(buffer_, static_cast<std::uint32_t>(us % 1'000'000));
  put<std::uint32_t>(buffer_, static_cast<std::uint32_t>(kept));
  put<std::uint32_t>(buffer_, static_cast<std::uint32_t>(packet.size()));
  buffer_.insert(buffer_.end(), packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(kept));
  ++packets_;
  return Ok{};
}

Status<> PcapDump::flush() {
  if (!error_.empty()) return fail(error_);
  if (fd_ < 0) return Ok{};
  auto s = write_out(buffer_.data(), buffer_.size());
  buffer_.clear();
  return s;
}

Status<> PcapDump::write_out(const std::uint8_t* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      error_ = "pcap dump " + path_ + ": " + errno_text(errno);
      return fail(error_);
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return Ok{};
}

Status<> PcapDump::close() {
  if (fd_ < 0) return error_.empty() ? Status<>(Ok{}) : Status<>(fail(error_));
  auto flushed = flush();
  if (::close(std::exchange(fd_, -1)) != 0 && flushed) {
    error_ = "pcap dump " + path_ + ": close: " + errno_text(errno);
    return fail(error_);
  }
  return flushed;
}

}  // namespace mplane::agent
