#include "engine/agent/netlink.h"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "engine/agent/netns.h"
#include "engine/agent/sys_error.h"

namespace mplane::agent {
namespace {

constexpr std::size_t kReceiveBufferBytes = std::size_t{32} * 1024;

Failure<NetlinkError> error(const std::string& what, int code) {
  return Failure<NetlinkError>{NetlinkError{what + ": " + errno_text(code), code}};
}

// A netlink message under construction: header, fixed payload, then attributes, each aligned.
class MessageBuilder {
 public:
  MessageBuilder(std::uint16_t type, std::uint16_t flags) {
    nlmsghdr h{};
    h.nlmsg_type = type;
    h.nlmsg_flags = flags;
    append(&h, sizeof h);
  }
  template <class T>
  void payload(const T& fixed) {
    append(&fixed, sizeof fixed);
  }
  void attribute(std::uint16_t type, const void* data, std::size_t size) {
    rtattr a{};
    a.rta_type = type;
    a.rta_len = static_cast<std::uint16_t>(RTA_LENGTH(size));
    append(&a, sizeof a);
    append(data, size);
  }
  std::vector<std::uint8_t> finish() && {
    auto* h = reinterpret_cast<nlmsghdr*>(bytes_.data());
    h->nlmsg_len = static_cast<std::uint32_t>(bytes_.size());
    return std::move(bytes_);
  }

 private:
  void append(const void* data, std::size_t size) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    bytes_.insert(bytes_.end(), p, p + size);
    bytes_.resize(NLMSG_ALIGN(bytes_.size()), 0);
  }
  std::vector<std::uint8_t> bytes_;
};

std::string address_text(int family, const void* bytes) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (::inet_ntop(family, bytes, text.data(), text.size()) == nullptr) return "?";
  return text.data();
}

std::string iface(int ifindex) { return "ifindex " + std::to_string(ifindex); }

// The attributes after a fixed payload of `fixed` bytes, calling fn(rtattr*) for each.
template <class Fn>
void for_each_attribute(const nlmsghdr* h, std::size_t fixed, Fn&& fn) {
  auto* a = reinterpret_cast<const rtattr*>(reinterpret_cast<const std::uint8_t*>(NLMSG_DATA(h)) +
                                            NLMSG_ALIGN(fixed));
  int left = static_cast<int>(h->nlmsg_len) - static_cast<int>(NLMSG_LENGTH(NLMSG_ALIGN(fixed)));
  for (; RTA_OK(a, left); a = RTA_NEXT(a, left)) fn(a);
}

}  // namespace

Result<RtNetlink, NetlinkError> RtNetlink::open(const std::string& netns) {
  auto scope = NetnsScope::enter(netns);
  if (!scope) return Failure<NetlinkError>{NetlinkError{scope.error(), ENOENT}};
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return error("rtnetlink socket", errno);
  timeval timeout{kReplyTimeoutMs / 1000, suseconds_t{kReplyTimeoutMs % 1000} * 1000};
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) {
    const int e = errno;
    ::close(fd);
    return error("rtnetlink receive timeout", e);
  }
  return RtNetlink(fd);
}

RtNetlink::RtNetlink(RtNetlink&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), seq_(other.seq_) {}

RtNetlink::~RtNetlink() {
  if (fd_ >= 0) ::close(fd_);
}

// Sends `message` (its header completed here) and calls fn(nlmsghdr*) for each reply that is not
// an error or the end of a dump, until the acknowledgement, NLMSG_DONE or an error.
template <class Fn>
Status<NetlinkError> RtNetlink::dump(std::vector<std::uint8_t>& message, const std::string& what,
                                     Fn&& fn) {
  auto* h = reinterpret_cast<nlmsghdr*>(message.data());
  h->nlmsg_seq = ++seq_;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd_, message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0) {
    return error(what, errno);
  }
  const bool is_dump = (h->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  std::vector<std::uint8_t> buffer(kReceiveBufferBytes);
  for (;;) {
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return error(what, errno == EAGAIN || errno == EWOULDBLOCK ? ETIMEDOUT : errno);
    }
    // NLMSG_OK/NLMSG_NEXT, without their signed/unsigned comparison.
    std::size_t left = static_cast<std::size_t>(n);
    for (auto* r = reinterpret_cast<nlmsghdr*>(buffer.data());
         left >= sizeof(nlmsghdr) && r->nlmsg_len >= sizeof(nlmsghdr) && r->nlmsg_len <= left;
         left -= std::min<std::size_t>(left, NLMSG_ALIGN(r->nlmsg_len)),
               r = reinterpret_cast<nlmsghdr*>(reinterpret_cast<std::uint8_t*>(r) +
                                               NLMSG_ALIGN(r->nlmsg_len))) {
      if (r->nlmsg_seq != seq_) continue;  // a late reply to an earlier, timed-out request
      if (r->nlmsg_type == NLMSG_DONE) return Ok{};
      if (r->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(r));
        if (e->error == 0) return Ok{};
        return error(what, -e->error);
      }
      fn(r);
      if (!is_dump) return Ok{};  // a GET of one object: its reply, no acknowledgement
    }
  }
}

Status<NetlinkError> RtNetlink::request(std::vector<std::uint8_t>& message,
                                        const std::string& what) {
  return dump(message, what, [](const nlmsghdr*) {});
}

Status<NetlinkError> RtNetlink::add_address_bytes(int ifindex, int family, const void* bytes,
                                                  std::size_t size, int prefix_length) {
  MessageBuilder b(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  ifaddrmsg ifa{};
  ifa.ifa_family = static_cast<std::uint8_t>(family);
  ifa.ifa_prefixlen = static_cast<std::uint8_t>(prefix_length);
  ifa.ifa_flags = family == AF_INET6 ? IFA_F_NODAD : 0;
  ifa.ifa_scope = RT_SCOPE_UNIVERSE;  // the kernel gives fe80::/10 link scope itself
  ifa.ifa_index = static_cast<std::uint32_t>(ifindex);
  b.payload(ifa);
  b.attribute(IFA_LOCAL, bytes, size);
  b.attribute(IFA_ADDRESS, bytes, size);
  auto message = std::move(b).finish();
  return request(message, "adding " + address_text(family, bytes) + "/" +
                              std::to_string(prefix_length) + " to " + iface(ifindex));
}

Status<NetlinkError> RtNetlink::add_address(int ifindex, const in_addr& address,
                                            int prefix_length) {
  return add_address_bytes(ifindex, AF_INET, &address, sizeof address, prefix_length);
}

Status<NetlinkError> RtNetlink::add_address(int ifindex, const in6_addr& address,
                                            int prefix_length) {
  return add_address_bytes(ifindex, AF_INET6, &address, sizeof address, prefix_length);
}

Status<NetlinkError> RtNetlink::set_mtu(int ifindex, std::uint32_t mtu) {
  MessageBuilder b(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  b.payload(ifi);
  b.attribute(IFLA_MTU, &mtu, sizeof mtu);
  auto message = std::move(b).finish();
  return request(message, "setting MTU " + std::to_string(mtu) + " on " + iface(ifindex));
}

Status<NetlinkError> RtNetlink::set_link_up(int ifindex) {
  MessageBuilder b(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  ifi.ifi_flags = IFF_UP;
  ifi.ifi_change = IFF_UP;
  b.payload(ifi);
  auto message = std::move(b).finish();
  return request(message, "setting " + iface(ifindex) + " up");
}

Result<LinkState, NetlinkError> RtNetlink::link_state(int ifindex) {
  MessageBuilder b(RTM_GETLINK, NLM_F_REQUEST);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  b.payload(ifi);
  auto message = std::move(b).finish();
  LinkState state;
  auto s = dump(message, "reading " + iface(ifindex), [&](const nlmsghdr* r) {
    if (r->nlmsg_type != RTM_NEWLINK) return;
    const auto* info = static_cast<const ifinfomsg*>(NLMSG_DATA(r));
    state.up = (info->ifi_flags & IFF_UP) != 0;
    for_each_attribute(r, sizeof(ifinfomsg), [&](const rtattr* a) {
      if (a->rta_type == IFLA_MTU) std::memcpy(&state.mtu, RTA_DATA(a), sizeof state.mtu);
    });
  });
  if (!s) return Failure<NetlinkError>{s.error()};
  return state;
}

Result<std::vector<InterfaceAddress>, NetlinkError> RtNetlink::addresses(int ifindex) {
  MessageBuilder b(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_UNSPEC;
  b.payload(ifa);
  auto message = std::move(b).finish();
  std::vector<InterfaceAddress> found;
  auto s = dump(message, "listing addresses", [&](const nlmsghdr* r) {
    const auto* info = static_cast<const ifaddrmsg*>(NLMSG_DATA(r));
    if (r->nlmsg_type != RTM_NEWADDR || static_cast<int>(info->ifa_index) != ifindex) return;
    InterfaceAddress address{
        info->ifa_family, {}, info->ifa_prefixlen, (info->ifa_flags & IFA_F_TENTATIVE) != 0};
    for_each_attribute(r, sizeof(ifaddrmsg), [&](const rtattr* a) {
      if (a->rta_type == IFA_ADDRESS || (a->rta_type == IFA_LOCAL && address.text.empty())) {
        address.text = address_text(info->ifa_family, RTA_DATA(a));
      }
    });
    found.push_back(std::move(address));
  });
  if (!s) return Failure<NetlinkError>{s.error()};
  return found;
}

Status<NetlinkError> RtNetlink::wait_until_usable(int ifindex, int timeout_ms) {
  constexpr int kPollMs = 5;
  for (int waited = 0;; waited += kPollMs) {
    auto list = addresses(ifindex);
    if (!list) return Failure<NetlinkError>{list.error()};
    bool tentative = false;
    for (const InterfaceAddress& a : *list) tentative = tentative || a.tentative;
    if (!tentative) return Ok{};
    if (waited >= timeout_ms)
      return error("addresses of " + iface(ifindex) + " still tentative", ETIMEDOUT);
    ::usleep(kPollMs * 1000);
  }
}

Status<NetlinkError> configure_tun(RtNetlink& netlink, int ifindex, const TunAddresses& a,
                                   std::optional<std::uint32_t> mtu) {
  if (mtu) {
    if (auto s = netlink.set_mtu(ifindex, *mtu); !s) return s;
  }
  if (auto s = netlink.set_link_up(ifindex); !s) return s;
  if (auto s = netlink.add_address(ifindex, a.ipv4, kIpv4PrefixLength); !s) return s;
  if (auto s = netlink.add_address(ifindex, a.ipv6_global, kIpv6PrefixLength); !s) return s;
  return netlink.add_address(ifindex, a.ipv6_link_local, kIpv6PrefixLength);
}

}  // namespace mplane::agent
