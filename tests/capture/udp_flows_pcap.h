// A classic pcap file of `flows` UDP flows (10.0.0.1:10000+k -> 10.0.0.2:53) of frames/flows
// packets each, one after the other, one packet a second: each flow goes idle (300 s) while
// the file is read, so its record comes before the end of the file.
#pragma once

#include <cstdint>
#include <string>

namespace mplane::test {

inline std::string udp_flows_pcap(std::uint32_t frames, std::uint32_t flows) {
  std::string pcap;
  auto put32 = [&](std::uint32_t v) { pcap.append(reinterpret_cast<const char*>(&v), 4); };
  for (std::uint32_t v : {0xa1b2c3d4u, 0x00040002u, 0u, 0u, 65535u, 1u}) put32(v);
  for (std::uint32_t i = 0; i < frames; ++i) {
    std::string f(42, '\0');  // Ethernet, IPv4, UDP, no payload
    f[12] = 0x08, f[14] = 0x45, f[17] = 28, f[22] = 64, f[23] = 17;
    f[26] = 10, f[29] = 1, f[30] = 10, f[33] = 2;
    const auto port = static_cast<std::uint16_t>(10000 + i / (frames / flows));
    f[34] = static_cast<char>(port >> 8), f[35] = static_cast<char>(port), f[37] = 53, f[39] = 8;
    for (std::uint32_t v : {1'700'000'000u + i, 0u, 42u, 42u}) put32(v);
    pcap += f;
  }
  return pcap;
}

}  // namespace mplane::test
