#include "capture/source/offline_filter.h"

namespace mplane::capture {

Result<std::unique_ptr<OfflineFilter>> OfflineFilter::compile(const std::string& expression,
                                                              int dlt, int snaplen,
                                                              const std::string& what) {
  pcap_t* dead = pcap_open_dead(dlt, snaplen > 0 ? snaplen : 262144);
  if (!dead) return fail(what + ": cannot compile a filter for link type " + std::to_string(dlt));
  std::unique_ptr<OfflineFilter> f(new OfflineFilter);
  const int rc = pcap_compile(dead, &f->program_, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN);
  std::string reason = rc != 0 ? pcap_geterr(dead) : "";
  pcap_close(dead);
  if (rc != 0) return fail(what + ": bad filter '" + expression + "': " + reason);
  return f;
}

bool OfflineFilter::accepts(std::span<const std::uint8_t> frame, std::uint32_t wire_len) const {
  pcap_pkthdr h{};
  h.caplen = static_cast<bpf_u_int32>(frame.size());
  h.len = wire_len;
  return pcap_offline_filter(&program_, &h, frame.data()) != 0;
}

}  // namespace mplane::capture
