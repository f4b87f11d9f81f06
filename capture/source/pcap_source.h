// Packet sources (issue 5, "Capture"): capture files (pcap and pcapng, whatever the extension
// says) and live interfaces through libpcap (large kernel buffer, immediate mode off, snaplen,
// promiscuous option, BPF filter). Classic pcap files are read through a memory map instead
// (MappedPcap: no copy per packet), with the BPF filter still compiled and run by libpcap.
// Frames are handed to a callback without copies; they are valid during the call only.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "capture/packet/decoder.h"
#include "capture/source/mapped_pcap.h"
#include "capture/source/mapped_pcapng.h"
#include "capture/source/offline_filter.h"
#include "parsers/base/result.h"

namespace mplane::capture {

struct SourceOptions {
  std::string file;       // a capture file, or
  std::string interface;  // a live interface
  std::string filter;     // BPF (tcpdump syntax); empty: everything
  int snaplen = 262144;
  bool promiscuous = true;
  int buffer_bytes = 64 * 1024 * 1024;  // live: the kernel ring
  int timeout_ms = 100;                 // live: how long the kernel may hold packets back
  int wait_ms = -1;                     // live: longest wait in read() (-1: timeout_ms)
  // Live: join this PACKET_FANOUT group (1..65535; 0: none). The kernel then splits the
  // interface's packets between the group's sockets by a symmetric flow hash (both directions
  // of a connection to one socket; fragments reassembled for the hash only): one source per
  // shard, each shard analysing whole flows.
  int fanout_group = 0;
};

// A capture file mapped for reading without copies (pcap or pcapng; also readable from any
// record boundary: SplitAnalysis), its link type checked, its filter compiled. `file` is null
// when the file is neither (libpcap reads it, or says why not).
struct MappedSource {
  std::unique_ptr<RecordFile> file;
  LinkType link = LinkType::kEthernet;
  std::unique_ptr<OfflineFilter> filter;  // null: no filter
};
Result<MappedSource> open_mapped_source(const SourceOptions& options);

class PcapSource {
 public:
  // `ts_us` is kBadTimestamp for a frame whose timestamp is out of range (frame_file.h):
  // Analyzer::packet() counts it and does nothing else; a function that uses `ts_us` itself
  // must skip it.
  using PacketFn = std::function<void(std::int64_t ts_us, std::span<const std::uint8_t> frame,
                                      std::uint32_t wire_len)>;

  // Errors name the file or interface and libpcap's reason.
  static Result<std::unique_ptr<PcapSource>> open(const SourceOptions& options);
  static std::unique_ptr<PcapSource> from_mapped(MappedSource mapped);
  ~PcapSource();
  PcapSource(const PcapSource&) = delete;
  PcapSource& operator=(const PcapSource&) = delete;

  LinkType link_type() const { return link_; }
  bool live() const { return live_; }
  // Reads up to `budget` frames (fewer if the file ends or, live, none comes within the
  // timeout: then 0). Returns how many; at_end() tells a finished file.
  Result<std::size_t> read(std::size_t budget, const PacketFn& fn);
  bool at_end() const { return at_end_; }
  // Stops a read() in progress from another thread or a signal handler (pcap_breakloop).
  void break_loop() {
    if (pcap_) pcap_breakloop(pcap_);
  }

  struct Stats {
    std::uint64_t received = 0, kernel_dropped = 0, interface_dropped = 0;
  };
  Stats stats() const;  // live sources; files: zeros
  // Files: bytes read so far and the file's size (progress).
  std::uint64_t file_position() const;
  std::uint64_t file_size() const { return file_size_; }

 private:
  explicit PcapSource(pcap_t* p) : pcap_(p) {}
  static void on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes) noexcept;
  Result<std::size_t> read_mapped(std::size_t budget, const PacketFn& fn);

  pcap_t* pcap_;  // live and pcapng; null for a mapped file
  std::unique_ptr<FrameFile> mapped_;
  std::unique_ptr<OfflineFilter> filter_;  // a mapped file's
  LinkType link_ = LinkType::kEthernet;
  bool live_ = false;
  bool at_end_ = false;
  std::uint64_t file_size_ = 0;
  int fd_ = -1;           // live: selectable descriptor
  int timeout_ms_ = 100;  // live: longest wait in read()
  const PacketFn* fn_ = nullptr;
};

}  // namespace mplane::capture
