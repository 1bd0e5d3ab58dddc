// rtnetlink half of msnl_tun: kernel link counters (RTM_GETLINK, IFLA_STATS64) and the IPv4
// address-change monitor (RTMGRP_IPV4_IFADDR), read non-blocking; readiness comes from FdPoll.
#include "common.h"

#include <errno.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace msnl {

namespace {

struct GetLinkRequest {
  struct nlmsghdr nh;
  struct ifinfomsg ifi;
  char attrs[64];
};

void PutCounters(Napi::Env env, Napi::Object out, const struct rtnl_link_stats64& s) {
  out.Set("rxPackets", Napi::Number::New(env, static_cast<double>(s.rx_packets)));
  out.Set("txPackets", Napi::Number::New(env, static_cast<double>(s.tx_packets)));
  out.Set("rxBytes", Napi::Number::New(env, static_cast<double>(s.rx_bytes)));
  out.Set("txBytes", Napi::Number::New(env, static_cast<double>(s.tx_bytes)));
  out.Set("rxErrors", Napi::Number::New(env, static_cast<double>(s.rx_errors)));
  out.Set("txErrors", Napi::Number::New(env, static_cast<double>(s.tx_errors)));
  out.Set("rxDropped", Napi::Number::New(env, static_cast<double>(s.rx_dropped)));
  out.Set("txDropped", Napi::Number::New(env, static_cast<double>(s.tx_dropped)));
}

}  // namespace

// linkStats(name) -> { rxPackets, txPackets, rxBytes, txBytes, rxErrors, txErrors, rxDropped,
// txDropped } as the kernel counts them for the interface (rx = written into the TUN fd).
Napi::Value LinkStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  if (!IfName(info, 0, &name)) return env.Undefined();
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) { ThrowSys(env, errno, "socket(NETLINK_ROUTE)"); return env.Undefined(); }
  GetLinkRequest req;
  memset(&req, 0, sizeof req);
  req.nh.nlmsg_type = RTM_GETLINK;
  req.nh.nlmsg_flags = NLM_F_REQUEST;
  req.nh.nlmsg_seq = 1;
  req.ifi.ifi_family = AF_UNSPEC;
  auto* rta = reinterpret_cast<struct rtattr*>(req.attrs);
  rta->rta_type = IFLA_IFNAME;
  rta->rta_len = RTA_LENGTH(name.size() + 1);
  memcpy(RTA_DATA(rta), name.c_str(), name.size() + 1);
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof req.ifi) + RTA_ALIGN(rta->rta_len);
  if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
    int err = errno;
    close(fd);
    ThrowSys(env, err, "send(RTM_GETLINK)");
    return env.Undefined();
  }
  alignas(struct nlmsghdr) char buf[16384];
  ssize_t r;
  do { r = recv(fd, buf, sizeof buf, 0); } while (r < 0 && errno == EINTR);
  int err = errno;
  close(fd);
  if (r < 0) { ThrowSys(env, err, "recv(RTM_GETLINK)"); return env.Undefined(); }
  for (auto* nh = reinterpret_cast<struct nlmsghdr*>(buf); NLMSG_OK(nh, r); nh = NLMSG_NEXT(nh, r)) {
    if (nh->nlmsg_type == NLMSG_ERROR) {
      auto* e = static_cast<struct nlmsgerr*>(NLMSG_DATA(nh));
      ThrowSys(env, e->error < 0 ? -e->error : EIO, "RTM_GETLINK");
      return env.Undefined();
    }
    if (nh->nlmsg_type != RTM_NEWLINK) continue;
    auto* ifi = static_cast<struct ifinfomsg*>(NLMSG_DATA(nh));
    int len = static_cast<int>(IFLA_PAYLOAD(nh));
    for (auto* a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
      if (a->rta_type != IFLA_STATS64 || RTA_PAYLOAD(a) < sizeof(struct rtnl_link_stats64)) continue;
      struct rtnl_link_stats64 s;
      memcpy(&s, RTA_DATA(a), sizeof s);
      Napi::Object out = Napi::Object::New(env);
      PutCounters(env, out, s);
      return out;
    }
  }
  ThrowSys(env, ENODATA, "RTM_GETLINK");
  return env.Undefined();
}

// addrMonitorOpen() -> fd of a non-blocking rtnetlink socket subscribed to RTMGRP_IPV4_IFADDR.
Napi::Value AddrMonitorOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd < 0) { ThrowSys(env, errno, "socket(NETLINK_ROUTE)"); return env.Undefined(); }
  struct sockaddr_nl sa;
  memset(&sa, 0, sizeof sa);
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_IPV4_IFADDR;
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) < 0) {
    int err = errno;
    close(fd);
    ThrowSys(env, err, "bind(RTMGRP_IPV4_IFADDR)");
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

// addrMonitorRead(fd) -> array of { kind: 'added'|'removed'|'overrun', ifindex, ifname, address,
// prefixLength, peer? } for every queued message; [] when nothing is queued.
Napi::Value AddrMonitorRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Array events = Napi::Array::New(env);
  uint32_t count = 0;
  alignas(struct nlmsghdr) char buf[16384];
  for (int rounds = 0; rounds < 256; rounds++) {
    ssize_t r = recv(fd, buf, sizeof buf, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == ENOBUFS) {  // the kernel dropped messages: the reader must resynchronise
        Napi::Object ev = Napi::Object::New(env);
        ev.Set("kind", "overrun");
        events.Set(count++, ev);
        continue;
      }
      ThrowSys(env, errno, "recv(rtnetlink)");
      return env.Undefined();
    }
    for (auto* nh = reinterpret_cast<struct nlmsghdr*>(buf); NLMSG_OK(nh, r); nh = NLMSG_NEXT(nh, r)) {
      if (nh->nlmsg_type != RTM_NEWADDR && nh->nlmsg_type != RTM_DELADDR) continue;
      auto* ifa = static_cast<struct ifaddrmsg*>(NLMSG_DATA(nh));
      if (ifa->ifa_family != AF_INET) continue;
      int len = static_cast<int>(IFA_PAYLOAD(nh));
      bool hasLocal = false, hasAddress = false;
      uint32_t local = 0, address = 0;
      std::string label;
      for (auto* a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == IFA_LOCAL && RTA_PAYLOAD(a) >= 4) {
          memcpy(&local, RTA_DATA(a), 4);
          hasLocal = true;
        } else if (a->rta_type == IFA_ADDRESS && RTA_PAYLOAD(a) >= 4) {
          memcpy(&address, RTA_DATA(a), 4);
          hasAddress = true;
        } else if (a->rta_type == IFA_LABEL && RTA_PAYLOAD(a) > 0) {
          label.assign(static_cast<const char*>(RTA_DATA(a)), strnlen(static_cast<const char*>(RTA_DATA(a)), RTA_PAYLOAD(a)));
        }
      }
      if (!hasLocal && !hasAddress) continue;
      char ifname[IF_NAMESIZE] = {0};
      if (label.empty() && if_indextoname(ifa->ifa_index, ifname) != nullptr) label = ifname;
      Napi::Object ev = Napi::Object::New(env);
      ev.Set("kind", nh->nlmsg_type == RTM_NEWADDR ? "added" : "removed");
      ev.Set("ifindex", Napi::Number::New(env, ifa->ifa_index));
      ev.Set("ifname", Napi::String::New(env, label));
      uint32_t mine = hasLocal ? local : address;
      ev.Set("address", Napi::Number::New(env, ntohl(mine)));
      ev.Set("prefixLength", Napi::Number::New(env, ifa->ifa_prefixlen));
      if (hasLocal && hasAddress && address != local) ev.Set("peer", Napi::Number::New(env, ntohl(address)));
      events.Set(count++, ev);
    }
  }
  return events;
}

}  // namespace msnl
