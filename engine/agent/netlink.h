// rtnetlink configuration of an interface (no shelling out to ip(8)): addresses, MTU, link up,
// and reading them back. The socket belongs to the namespace it was opened in (netns.h), so a
// tun made inside a namespace is configured with a socket opened inside the same namespace.
//
// Requests are synchronous: one request, then its acknowledgement, on a blocking socket with a
// receive timeout (kReplyTimeoutMs), so a call never waits longer than that. Meant for start-up
// and tests, not for a loop's hot path. Not thread-safe: one RtNetlink per thread.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/agent/tun_addresses.h"
#include "parsers/base/result.h"

namespace mplane::agent {

// What failed and the kernel's errno: "adding 10.2.0.1/24 to ifindex 7: File exists (EEXIST)".
struct NetlinkError {
  std::string message;
  int code = 0;  // errno (EEXIST, EPERM, ENODEV...); ETIMEDOUT when no reply came in time
};

// An address as the kernel lists it.
struct InterfaceAddress {
  int family = 0;    // AF_INET or AF_INET6
  std::string text;  // "10.2.0.1", "bbbb::1"
  int prefix_length = 0;
  bool tentative = false;  // IFA_F_TENTATIVE: IPv6 not usable yet (packets to it are dropped)
};

struct LinkState {
  std::uint32_t mtu = 0;
  bool up = false;  // IFF_UP
};

class RtNetlink {
 public:
  static constexpr int kReplyTimeoutMs = 2000;

  // Opens a NETLINK_ROUTE socket inside namespace `netns` (empty: the caller's namespace).
  [[nodiscard]] static Result<RtNetlink, NetlinkError> open(const std::string& netns);
  RtNetlink(RtNetlink&& other) noexcept;
  RtNetlink& operator=(RtNetlink&&) = delete;
  RtNetlink(const RtNetlink&) = delete;
  ~RtNetlink();

  // RTM_NEWADDR with NLM_F_EXCL: EEXIST when the address is already there. IPv6 addresses are
  // added with IFA_F_NODAD (usable at once; a tun does no DAD anyway, being NOARP).
  [[nodiscard]] Status<NetlinkError> add_address(int ifindex, const in_addr& address,
                                                 int prefix_length);
  [[nodiscard]] Status<NetlinkError> add_address(int ifindex, const in6_addr& address,
                                                 int prefix_length);
  [[nodiscard]] Status<NetlinkError> set_mtu(int ifindex, std::uint32_t mtu);
  [[nodiscard]] Status<NetlinkError> set_link_up(int ifindex);

  [[nodiscard]] Result<LinkState, NetlinkError> link_state(int ifindex);
  [[nodiscard]] Result<std::vector<InterfaceAddress>, NetlinkError> addresses(int ifindex);

  // Polls until no address of `ifindex` is tentative. Even with IFA_F_NODAD the kernel finishes
  // an IPv6 address in a work queue after the request returns, so a packet sent to it at once
  // may be dropped; call this before announcing the tun as ready. ETIMEDOUT after `timeout_ms`.
  [[nodiscard]] Status<NetlinkError> wait_until_usable(int ifindex, int timeout_ms);

 private:
  explicit RtNetlink(int fd) : fd_(fd) {}
  Status<NetlinkError> request(std::vector<std::uint8_t>& message, const std::string& what);
  template <class Fn>
  Status<NetlinkError> dump(std::vector<std::uint8_t>& message, const std::string& what, Fn&& fn);
  Status<NetlinkError> add_address_bytes(int ifindex, int family, const void* bytes,
                                         std::size_t size, int prefix_length);

  int fd_;
  std::uint32_t seq_ = 0;
};

// The tun configuration of WIRE.md §1.6, in the original's order: MTU (if given; the original
// leaves 1500), link up, IPv4 A/24, IPv6 P::H/64, fe80::H/64 (no routes: the kernel adds the
// connected ones; the original's `ip route add` always failed). The first failure is returned,
// naming the step.
[[nodiscard]] Status<NetlinkError> configure_tun(RtNetlink& netlink, int ifindex,
                                                 const TunAddresses& addresses,
                                                 std::optional<std::uint32_t> mtu);

}  // namespace mplane::agent
