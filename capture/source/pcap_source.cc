#include "capture/source/pcap_source.h"

#include <linux/if_packet.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace mplane::capture {
namespace {

Status<> apply_filter(pcap_t* p, const std::string& filter, const std::string& what) {
  if (filter.empty()) return Ok{};
  bpf_program program{};
  if (pcap_compile(p, &program, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    return fail(what + ": bad filter '" + filter + "': " + pcap_geterr(p));
  }
  const int rc = pcap_setfilter(p, &program);
  pcap_freecode(&program);
  if (rc != 0) return fail(what + ": cannot set filter: " + pcap_geterr(p));
  return Ok{};
}

// A live handle's socket joins the fanout group, flows hashed symmetrically (PACKET_FANOUT_HASH
// uses the kernel's symmetric flow hash; DEFRAG: fragments go with their flow).
Status<> join_fanout(pcap_t* p, const SourceOptions& o) {
  if (o.fanout_group == 0) return Ok{};
  if (o.fanout_group < 0 || o.fanout_group > 0xffff) {
    return fail(o.interface + ": fanout group " + std::to_string(o.fanout_group) +
                " is out of range (1 to 65535)");
  }
  const int arg = o.fanout_group | ((PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16);
  if (::setsockopt(pcap_fileno(p), SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0) {
    return fail(o.interface + ": cannot join fanout group " + std::to_string(o.fanout_group) +
                ": " + std::strerror(errno));
  }
  return Ok{};
}

Result<pcap_t*> open_live(const SourceOptions& o) {
  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_create(o.interface.c_str(), error);
  if (!p) return fail(o.interface + ": " + error);
  pcap_set_snaplen(p, o.snaplen);
  pcap_set_promisc(p, o.promiscuous ? 1 : 0);
  pcap_set_buffer_size(p, o.buffer_bytes);
  pcap_set_immediate_mode(p, 0);
  pcap_set_timeout(p, o.timeout_ms);
  const int rc = pcap_activate(p);
  if (rc < 0) {
    std::string why = rc == PCAP_ERROR ? pcap_geterr(p) : pcap_statustostr(rc);
    pcap_close(p);
    return fail(o.interface + ": cannot capture: " + why);
  }
  if (auto st = join_fanout(p, o); !st) {
    pcap_close(p);
    return fail(st.error());
  }
  return p;
}

}  // namespace

Result<MappedSource> open_mapped_source(const SourceOptions& o) {
  MappedSource m;
  auto map = FileMap::open(o.file);
  if (!map) return fail(map.error());
  m.file = MappedPcap::from(*map);
  if (!m.file) {
    auto pcapng = MappedPcapng::from(*map);
    if (!pcapng) return fail(pcapng.error());
    m.file = std::move(pcapng.value());
  }
  if (!m.file) return m;
  if (!link_type_from_dlt(m.file->link_type(), m.link)) {
    const char* name = pcap_datalink_val_to_name(m.file->link_type());
    return fail(o.file + ": link type " + std::string(name ? name : "?") +
                " is not supported (Ethernet, Linux cooked v1/v2, raw IP, BSD loopback)");
  }
  if (!o.filter.empty()) {
    auto filter = OfflineFilter::compile(o.filter, m.file->link_type(), m.file->snaplen(), o.file);
    if (!filter) return fail(filter.error());
    m.filter = std::move(filter.value());
  }
  return m;
}

std::unique_ptr<PcapSource> PcapSource::from_mapped(MappedSource mapped) {
  std::unique_ptr<PcapSource> s(new PcapSource(nullptr));
  s->link_ = mapped.link;
  s->file_size_ = mapped.file->size();
  s->mapped_ = std::move(mapped.file);
  s->filter_ = std::move(mapped.filter);
  return s;
}

// How often a batch gives the pages it has read back (FrameFile::release_read()): a batch of
// 65,536 frames spans tens of MiB of a file.
constexpr std::size_t kFramesPerRelease = 4096;

Result<std::size_t> PcapSource::read_mapped(std::size_t budget, const PacketFn& fn) {
  FrameFile::Frame f;
  std::size_t n = 0;
  while (n < budget) {
    if (!mapped_->next(f)) {
      at_end_ = true;
      if (!mapped_->error().empty()) return fail(mapped_->error());
      break;
    }
    if (filter_ && !filter_->accepts(f.bytes, f.wire_len)) continue;
    fn(f.ts_us, f.bytes, f.wire_len);
    if (++n % kFramesPerRelease == 0) mapped_->release_read();
  }
  mapped_->release_read();
  return n;
}

Result<std::unique_ptr<PcapSource>> PcapSource::open(const SourceOptions& o) {
  if (o.file.empty() == o.interface.empty()) return fail("give a capture file or an interface");
  if (!o.file.empty()) {
    auto mapped = open_mapped_source(o);
    if (!mapped) return fail(mapped.error());
    if (mapped->file) return from_mapped(std::move(mapped.value()));
  }
  pcap_t* p = nullptr;
  const std::string what = o.file.empty() ? o.interface : o.file;
  if (!o.file.empty()) {
    char error[PCAP_ERRBUF_SIZE] = {};
    p = pcap_open_offline_with_tstamp_precision(o.file.c_str(), PCAP_TSTAMP_PRECISION_MICRO, error);
    if (!p) return fail(o.file + ": " + error);
  } else {
    auto live = open_live(o);
    if (!live) return fail(live.error());
    p = *live;
  }
  std::unique_ptr<PcapSource> s(new PcapSource(p));
  s->live_ = o.file.empty();
  if (!link_type_from_dlt(pcap_datalink(p), s->link_)) {
    return fail(what + ": link type " +
                std::string(pcap_datalink_val_to_name(pcap_datalink(p))
                                ? pcap_datalink_val_to_name(pcap_datalink(p))
                                : "?") +
                " is not supported (Ethernet, Linux cooked v1/v2, raw IP, BSD loopback)");
  }
  if (auto st = apply_filter(p, o.filter, what); !st) return fail(st.error());
  if (s->live_) {
    // Non-blocking, with our own poll(): on Linux a blocking read can wait forever when no
    // packet comes at all (the kernel's block timeout only starts with a first packet).
    char error[PCAP_ERRBUF_SIZE] = {};
    s->fd_ = pcap_get_selectable_fd(p);
    if (s->fd_ < 0 || pcap_setnonblock(p, 1, error) != 0) {
      return fail(what + ": cannot read without blocking: " + error);
    }
    s->timeout_ms_ = o.wait_ms >= 0 ? o.wait_ms : o.timeout_ms;
  }
  if (!s->live_) {
    struct stat st {};
    if (::stat(o.file.c_str(), &st) == 0) s->file_size_ = static_cast<std::uint64_t>(st.st_size);
  }
  return s;
}

PcapSource::~PcapSource() {
  if (pcap_) pcap_close(pcap_);
}

// A C callback: nothing may throw through it (STYLE); the packet function does not.
void PcapSource::on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes) noexcept {
  auto* self = reinterpret_cast<PcapSource*>(user);
  // libpcap reads pcapng timestamps of any size into tv_sec (wrapped): kBadTimestamp then.
  const std::int64_t ts = checked_timestamp(h->ts.tv_sec, h->ts.tv_usec);
  (*self->fn_)(ts, std::span<const std::uint8_t>(bytes, h->caplen), h->len);
}

Result<std::size_t> PcapSource::read(std::size_t budget, const PacketFn& fn) {
  if (mapped_) return read_mapped(budget, fn);
  if (live_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms_) <= 0) return std::size_t{0};  // nothing yet, or a signal
  }
  fn_ = &fn;
  const int n =
      pcap_dispatch(pcap_, static_cast<int>(budget), &on_packet, reinterpret_cast<u_char*>(this));
  fn_ = nullptr;
  if (n == PCAP_ERROR) return fail(std::string("capture: ") + pcap_geterr(pcap_));
  if (n == PCAP_ERROR_BREAK) return std::size_t{0};
  if (n == 0 && !live_) at_end_ = true;
  return static_cast<std::size_t>(n);
}

PcapSource::Stats PcapSource::stats() const {
  Stats s;
  pcap_stat ps{};
  if (live_ && pcap_stats(pcap_, &ps) == 0) {
    s.received = ps.ps_recv;
    s.kernel_dropped = ps.ps_drop;
    s.interface_dropped = ps.ps_ifdrop;
  }
  return s;
}

std::uint64_t PcapSource::file_position() const {
  if (mapped_) return mapped_->position();
  if (live_) return 0;
  FILE* f = pcap_file(pcap_);
  const long pos = f ? std::ftell(f) : -1;
  return pos < 0 ? 0 : static_cast<std::uint64_t>(pos);
}

}  // namespace mplane::capture
