// Builds a large capture for the capture benchmark (issue 5) by replicating the shared captures:
// every IP packet of every input, COPIES times, each copy with its addresses rewritten (the
// first two bytes of both addresses XORed with a per-copy mask, so flows stay consistent within
// a copy and distinct across copies) and its times shifted after the previous copy. Written as
// Ethernet frames, whatever the inputs' link types. Non-IP frames are left out.
//
//   make_trace OUT.pcap COPIES INPUT.pcap...
#include <pcap/pcap.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "capture/packet/decoder.h"

namespace {

using mplane::capture::DecodedPacket;
using mplane::capture::DecodeStatus;
using mplane::capture::LinkType;

struct Packet {
  std::int64_t ts;               // relative to its file's first packet
  std::vector<std::uint8_t> ip;  // the captured IP packet
  std::uint32_t ip_len;
  std::uint8_t version;
};

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

// Where the IP header starts: the offset whose version nibble and length match the decoder's.
int ip_offset(const std::uint8_t* f, std::size_t n, const DecodedPacket& d) {
  for (std::size_t o = 0; o + 40 <= n && o < 96; ++o) {
    if (d.ip_version == 4 && f[o] >> 4 == 4 && be16(f + o + 2) == d.ip_len &&
        std::memcmp(f + o + 12, d.src.bytes.data(), 4) == 0) {
      return static_cast<int>(o);
    }
    if (d.ip_version == 6 && f[o] >> 4 == 6 && be16(f + o + 4) + 40u == d.ip_len &&
        std::memcmp(f + o + 8, d.src.bytes.data(), 16) == 0) {
      return static_cast<int>(o);
    }
  }
  return -1;
}

std::vector<Packet> load(const char* path, std::int64_t& span) {
  std::vector<Packet> out;
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, err);
  if (!p) {
    std::fprintf(stderr, "make_trace: %s\n", err);
    return out;
  }
  LinkType link;
  if (!mplane::capture::link_type_from_dlt(pcap_datalink(p), link)) {
    pcap_close(p);
    return out;
  }
  pcap_pkthdr* h;
  const u_char* bytes;
  std::int64_t first = -1, last = 0;
  DecodedPacket d;
  while (pcap_next_ex(p, &h, &bytes) == 1) {
    const DecodeStatus st = mplane::capture::decode_packet(link, {bytes, h->caplen}, h->len, d);
    if (st != DecodeStatus::kOk && st != DecodeStatus::kFragment) continue;
    const int o = ip_offset(bytes, h->caplen, d);
    if (o < 0) continue;
    const std::int64_t ts = std::int64_t{h->ts.tv_sec} * 1'000'000 + h->ts.tv_usec;
    if (first < 0) first = ts;
    last = std::max(last, ts);
    out.push_back({ts - first, std::vector<std::uint8_t>(bytes + o, bytes + h->caplen), d.ip_len,
                   d.ip_version});
  }
  // Captures spanning years (zeek__mixed-vlan-mpls) are squeezed into 10 minutes, in order:
  // pcap files keep 32-bit seconds, and hundreds of copies must fit.
  constexpr std::int64_t kMaxSpan = 600'000'000;
  span = last - first;
  if (span > kMaxSpan) {
    for (Packet& q : out) {
      q.ts = static_cast<std::int64_t>(static_cast<double>(q.ts) * kMaxSpan / span);
    }
    span = kMaxSpan;
  }
  pcap_close(p);
  return out;
}

void rewrite(std::vector<std::uint8_t>& ip, std::uint8_t version, unsigned copy) {
  const std::uint16_t mask = static_cast<std::uint16_t>((copy + 1) * 0x9e37u);
  const std::size_t src = version == 4 ? 12 : 8, dst = version == 4 ? 16 : 24;
  for (std::size_t at : {src, dst}) {
    ip[at] ^= static_cast<std::uint8_t>(mask >> 8);
    ip[at + 1] ^= static_cast<std::uint8_t>(mask);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: make_trace OUT.pcap COPIES INPUT.pcap...\n");
    return 2;
  }
  const unsigned copies = static_cast<unsigned>(std::atoi(argv[2]));
  std::vector<std::vector<Packet>> inputs;
  std::vector<std::int64_t> spans;
  for (int i = 3; i < argc; ++i) {
    std::int64_t span = 0;
    inputs.push_back(load(argv[i], span));
    spans.push_back(span);
  }
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 262144);
  pcap_dumper_t* out = pcap_dump_open(dead, argv[1]);
  if (!out) {
    std::fprintf(stderr, "make_trace: %s\n", pcap_geterr(dead));
    return 1;
  }
  std::int64_t base = 1'700'000'000'000'000;
  std::uint64_t packets = 0;
  std::vector<std::uint8_t> frame;
  for (unsigned c = 0; c < copies; ++c) {
    for (std::size_t f = 0; f < inputs.size(); ++f) {
      for (const Packet& p : inputs[f]) {
        std::vector<std::uint8_t> ip = p.ip;
        rewrite(ip, p.version, c);
        frame.assign(12, 0);
        frame.push_back(p.version == 4 ? 0x08 : 0x86);
        frame.push_back(p.version == 4 ? 0x00 : 0xdd);
        frame.insert(frame.end(), ip.begin(), ip.end());
        pcap_pkthdr h{};
        const std::int64_t ts = base + p.ts;
        h.ts.tv_sec = ts / 1'000'000;
        h.ts.tv_usec = ts % 1'000'000;
        h.caplen = static_cast<bpf_u_int32>(frame.size());
        h.len = 14 + p.ip_len;
        pcap_dump(reinterpret_cast<u_char*>(out), &h, frame.data());
        ++packets;
      }
      base += spans[f] + 1'000'000;
    }
  }
  pcap_dump_close(out);
  pcap_close(dead);
  std::printf("make_trace: %llu packets, %u copies of %zu captures\n",
              static_cast<unsigned long long>(packets), copies, inputs.size());
  return 0;
}
