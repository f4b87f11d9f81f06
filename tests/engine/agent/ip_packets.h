// ICMP echo packets for the tun tests, built by hand (IPv4 and IPv6, checksums included), and
// the checks that recognise the kernel's replies.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace mplane::test {

inline std::uint16_t checksum(std::span<const std::uint8_t> bytes, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (bytes.size() % 2 != 0) sum += bytes.back() << 8;
  while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

inline void put16(std::vector<std::uint8_t>& p, std::size_t at, std::uint16_t v) {
  p[at] = static_cast<std::uint8_t>(v >> 8);
  p[at + 1] = static_cast<std::uint8_t>(v);
}

inline std::vector<std::uint8_t> address_bytes(int family, const std::string& text) {
  std::vector<std::uint8_t> out(family == AF_INET ? 4 : 16);
  ::inet_pton(family, text.c_str(), out.data());
  return out;
}

// ICMP echo request `src` -> `dst` with identifier `id`, sequence 1 and `payload_size` bytes.
inline std::vector<std::uint8_t> echo_request4(const std::string& src, const std::string& dst,
                                               std::uint16_t id, std::size_t payload_size = 32) {
  std::vector<std::uint8_t> p(20 + 8 + payload_size, 0);
  p[0] = 0x45;
  put16(p, 2, static_cast<std::uint16_t>(p.size()));
  p[8] = 64;  // TTL
  p[9] = 1;   // ICMP
  std::memcpy(&p[12], address_bytes(AF_INET, src).data(), 4);
  std::memcpy(&p[16], address_bytes(AF_INET, dst).data(), 4);
  put16(p, 10, checksum({p.data(), 20}));
  p[20] = 8;  // echo request
  put16(p, 24, id);
  put16(p, 26, 1);
  for (std::size_t i = 0; i < payload_size; ++i) p[28 + i] = static_cast<std::uint8_t>(i);
  put16(p, 22, checksum({p.data() + 20, p.size() - 20}));
  return p;
}

inline std::vector<std::uint8_t> echo_request6(const std::string& src, const std::string& dst,
                                               std::uint16_t id, std::size_t payload_size = 32) {
  const std::size_t icmp_size = 8 + payload_size;
  std::vector<std::uint8_t> p(40 + icmp_size, 0);
  p[0] = 0x60;
  put16(p, 4, static_cast<std::uint16_t>(icmp_size));
  p[6] = 58;  // ICMPv6
  p[7] = 64;  // hop limit
  std::memcpy(&p[8], address_bytes(AF_INET6, src).data(), 16);
  std::memcpy(&p[24], address_bytes(AF_INET6, dst).data(), 16);
  p[40] = 128;  // echo request
  put16(p, 44, id);
  put16(p, 46, 1);
  for (std::size_t i = 0; i < payload_size; ++i) p[48 + i] = static_cast<std::uint8_t>(i);
  // Pseudo-header: addresses, upper-layer length, next header.
  std::uint32_t sum = 0;
  for (std::size_t i = 8; i < 40; i += 2) sum += (p[i] << 8) | p[i + 1];
  sum += static_cast<std::uint32_t>(icmp_size) + 58;
  put16(p, 42, checksum({p.data() + 40, icmp_size}, sum));
  return p;
}

// A UDP datagram `src`:5683 -> `dst`:5683 of `payload_size` bytes (IPv4 or IPv6 by the address
// text; UDP checksum 0: the capture reader does not verify it).
inline std::vector<std::uint8_t> udp_datagram(const std::string& src, const std::string& dst,
                                              std::size_t payload_size = 16) {
  const bool v6 = src.find(':') != std::string::npos;
  const std::size_t ip = v6 ? 40 : 20;
  std::vector<std::uint8_t> p(ip + 8 + payload_size, 0);
  if (v6) {
    p[0] = 0x60;
    put16(p, 4, static_cast<std::uint16_t>(8 + payload_size));
    p[6] = 17;
    p[7] = 64;
    std::memcpy(&p[8], address_bytes(AF_INET6, src).data(), 16);
    std::memcpy(&p[24], address_bytes(AF_INET6, dst).data(), 16);
  } else {
    p[0] = 0x45;
    put16(p, 2, static_cast<std::uint16_t>(p.size()));
    p[8] = 64;
    p[9] = 17;
    std::memcpy(&p[12], address_bytes(AF_INET, src).data(), 4);
    std::memcpy(&p[16], address_bytes(AF_INET, dst).data(), 4);
    put16(p, 10, checksum({p.data(), 20}));
  }
  put16(p, ip, 5683);
  put16(p, ip + 2, 5683);
  put16(p, ip + 4, static_cast<std::uint16_t>(8 + payload_size));
  return p;
}

// Whether `p` is an echo reply with identifier `id` (IPv4 type 0, IPv6 type 129).
inline bool is_echo_reply(std::span<const std::uint8_t> p, std::uint16_t id) {
  if (p.size() >= 28 && (p[0] >> 4) == 4 && p[9] == 1) {
    const std::size_t ihl = (p[0] & 0x0fU) * 4U;
    return p.size() >= ihl + 8 && p[ihl] == 0 && ((p[ihl + 4] << 8) | p[ihl + 5]) == id;
  }
  if (p.size() >= 48 && (p[0] >> 4) == 6 && p[6] == 58) {
    return p[40] == 129 && ((p[44] << 8) | p[45]) == id;
  }
  return false;
}

}  // namespace mplane::test
