// A BPF filter (tcpdump syntax) run on frames the caller reads itself, as from a memory-mapped
// file: compiled by libpcap for the file's link type, run with pcap_offline_filter. Const and
// safe to share between threads once compiled.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "parsers/base/result.h"

namespace mplane::capture {

class OfflineFilter {
 public:
  // Errors start with `what` (the file) and give libpcap's reason.
  static Result<std::unique_ptr<OfflineFilter>> compile(const std::string& expression, int dlt,
                                                        int snaplen, const std::string& what);
  ~OfflineFilter() { pcap_freecode(&program_); }
  OfflineFilter(const OfflineFilter&) = delete;
  OfflineFilter& operator=(const OfflineFilter&) = delete;

  bool accepts(std::span<const std::uint8_t> frame, std::uint32_t wire_len) const;

 private:
  OfflineFilter() = default;
  bpf_program program_{};
};

}  // namespace mplane::capture
