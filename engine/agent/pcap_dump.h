// A pcap file of the packets crossing the tunnel (`mplane agent --dump FILE.pcap`).
//
// Classic pcap, microsecond timestamps, link type LINKTYPE_RAW (101: each record is an IPv4 or
// IPv6 packet, told apart by its version nibble), snap length 65535: what `mplane capture -r`,
// tcpdump and Wireshark read. Written by hand rather than through pcap_dump() because libpcap's
// writer reports no write errors; here a failed write is returned, and the dump stops.
//
// Records are buffered (kBufferBytes) and reach the file on flush(), when the buffer fills, and
// on close()/destruction: call flush() now and then (the agent does on a timer) so that a killed
// process leaves a readable file. Not thread-safe: one loop owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/loop/clock.h"
#include "parsers/base/result.h"

namespace mplane::agent {

class PcapDump {
 public:
  static constexpr std::uint32_t kLinktypeRaw = 101;
  static constexpr std::uint32_t kSnapLength = 65535;
  static constexpr std::size_t kBufferBytes = 64 * 1024;

  // Creates (truncates) `path` and writes the file header. Errors: "pcap dump FILE: Permission
  // denied (EACCES)" and the like.
  [[nodiscard]] static Result<PcapDump> create(const std::string& path);
  PcapDump(PcapDump&& other) noexcept;
  PcapDump& operator=(PcapDump&&) = delete;
  PcapDump(const PcapDump&) = delete;
  ~PcapDump();  // flushes and closes; errors are lost: call close() to see them

  // Appends one packet taken at `time`. After a write error every call returns that error and
  // writes nothing.
  [[nodiscard]] Status<> write(std::span<const std::uint8_t> packet, loop::WallTime time);
  [[nodiscard]] Status<> flush();
  [[nodiscard]] Status<> close();

  std::uint64_t packets() const noexcept { return packets_; }
  const std::string& path() const noexcept { return path_; }

 private:
  PcapDump(int fd, std::string path);
  Status<> write_out(const std::uint8_t* data, std::size_t size);

  int fd_ = -1;
  std::string path_;
  std::vector<std::uint8_t> buffer_;
  std::uint64_t packets_ = 0;
  std::string error_;  // the first write error; sticky
};

}  // namespace mplane::agent
