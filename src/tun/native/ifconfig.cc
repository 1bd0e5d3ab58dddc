// msnl_tun interface ioctls, as ifconfig(8) does them on an AF_INET datagram socket: MTU, the
// IPv4 address with netmask and point-to-point peer, the IFF_* flags (up/down), the ifindex.
// Functions take interface names; errors carry `errno` and `syscall` (common.h).
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace msnl {
namespace {

class IfSock {
 public:
  IfSock() : fd_(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
  ~IfSock() { if (fd_ >= 0) close(fd_); }
  // Runs one ioctl; on failure throws (errno, syscall) and returns false.
  bool Do(Napi::Env env, unsigned long req, struct ifreq* ifr, const char* syscall) {
    if (fd_ < 0) { ThrowSys(env, errno, "socket"); return false; }
    if (ioctl(fd_, req, ifr) < 0) { ThrowSys(env, errno, syscall); return false; }
    return true;
  }
  int fd() const { return fd_; }
 private:
  int fd_;
};

void InitReq(struct ifreq* ifr, const std::string& name) {
  memset(ifr, 0, sizeof *ifr);
  memcpy(ifr->ifr_name, name.data(), name.size());
}

void PutInet(struct sockaddr* sa, uint32_t hostOrder) {
  auto* sin = reinterpret_cast<struct sockaddr_in*>(sa);
  memset(sin, 0, sizeof *sin);
  sin->sin_family = AF_INET;
  sin->sin_addr.s_addr = htonl(hostOrder);
}

uint32_t GetInet(const struct sockaddr* sa) {
  return ntohl(reinterpret_cast<const struct sockaddr_in*>(sa)->sin_addr.s_addr);
}

}  // namespace

Napi::Value SetMtu(const Napi::CallbackInfo& info) {
  std::string name;
  if (!IfName(info, 0, &name)) return info.Env().Undefined();
  struct ifreq ifr;
  InitReq(&ifr, name);
  ifr.ifr_mtu = info[1].As<Napi::Number>().Int32Value();
  IfSock s;
  s.Do(info.Env(), SIOCSIFMTU, &ifr, "SIOCSIFMTU");
  return info.Env().Undefined();
}

Napi::Value GetMtu(const Napi::CallbackInfo& info) {
  std::string name;
  if (!IfName(info, 0, &name)) return info.Env().Undefined();
  struct ifreq ifr;
  InitReq(&ifr, name);
  IfSock s;
  if (!s.Do(info.Env(), SIOCGIFMTU, &ifr, "SIOCGIFMTU")) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), ifr.ifr_mtu);
}

// setAddress(name, address, prefixLength, peer | -1): ifconfig semantics (replaces the primary
// address); address 0 removes it.
Napi::Value SetAddress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  if (!IfName(info, 0, &name)) return env.Undefined();
  uint32_t addr = info[1].As<Napi::Number>().Uint32Value();
  uint32_t plen = info[2].As<Napi::Number>().Uint32Value();
  double peer = info[3].As<Napi::Number>().DoubleValue();
  IfSock s;
  struct ifreq ifr;
  InitReq(&ifr, name);
  PutInet(&ifr.ifr_addr, addr);
  if (!s.Do(env, SIOCSIFADDR, &ifr, "SIOCSIFADDR") || addr == 0) return env.Undefined();
  InitReq(&ifr, name);
  PutInet(&ifr.ifr_netmask, plen == 0 ? 0 : (0xffffffffu << (32 - plen)));
  if (!s.Do(env, SIOCSIFNETMASK, &ifr, "SIOCSIFNETMASK")) return env.Undefined();
  if (peer >= 0) {
    InitReq(&ifr, name);
    PutInet(&ifr.ifr_dstaddr, static_cast<uint32_t>(peer));
    s.Do(env, SIOCSIFDSTADDR, &ifr, "SIOCSIFDSTADDR");
  }
  return env.Undefined();
}

// getAddress(name) -> { address, prefixLength, peer? } or null when the interface has none.
Napi::Value GetAddress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  if (!IfName(info, 0, &name)) return env.Undefined();
  IfSock s;
  if (s.fd() < 0) { ThrowSys(env, errno, "socket"); return env.Undefined(); }
  struct ifreq ifr;
  InitReq(&ifr, name);
  if (ioctl(s.fd(), SIOCGIFADDR, &ifr) < 0) {
    if (errno == EADDRNOTAVAIL) return env.Null();
    ThrowSys(env, errno, "SIOCGIFADDR");
    return env.Undefined();
  }
  uint32_t addr = GetInet(&ifr.ifr_addr);
  InitReq(&ifr, name);
  if (!s.Do(env, SIOCGIFNETMASK, &ifr, "SIOCGIFNETMASK")) return env.Undefined();
  uint32_t mask = GetInet(&ifr.ifr_netmask);
  Napi::Object out = Napi::Object::New(env);
  out.Set("address", Napi::Number::New(env, addr));
  out.Set("prefixLength", Napi::Number::New(env, __builtin_popcount(mask)));
  InitReq(&ifr, name);
  if (ioctl(s.fd(), SIOCGIFDSTADDR, &ifr) == 0) {
    uint32_t dst = GetInet(&ifr.ifr_dstaddr);
    if (dst != addr && dst != 0) out.Set("peer", Napi::Number::New(env, dst));
  }
  return out;
}

Napi::Value GetFlags(const Napi::CallbackInfo& info) {
  std::string name;
  if (!IfName(info, 0, &name)) return info.Env().Undefined();
  struct ifreq ifr;
  InitReq(&ifr, name);
  IfSock s;
  if (!s.Do(info.Env(), SIOCGIFFLAGS, &ifr, "SIOCGIFFLAGS")) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), static_cast<uint16_t>(ifr.ifr_flags));
}

Napi::Value SetUp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  if (!IfName(info, 0, &name)) return env.Undefined();
  bool up = info[1].ToBoolean().Value();
  struct ifreq ifr;
  InitReq(&ifr, name);
  IfSock s;
  if (!s.Do(env, SIOCGIFFLAGS, &ifr, "SIOCGIFFLAGS")) return env.Undefined();
  if (up) ifr.ifr_flags |= IFF_UP; else ifr.ifr_flags &= ~IFF_UP;
  s.Do(env, SIOCSIFFLAGS, &ifr, "SIOCSIFFLAGS");
  return env.Undefined();
}

// ifindex(name) -> index, or 0 when no such interface exists.
Napi::Value IfIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  if (!IfName(info, 0, &name)) return env.Undefined();
  struct ifreq ifr;
  InitReq(&ifr, name);
  IfSock s;
  if (s.fd() < 0) { ThrowSys(env, errno, "socket"); return env.Undefined(); }
  if (ioctl(s.fd(), SIOCGIFINDEX, &ifr) < 0) {
    if (errno == ENODEV) return Napi::Number::New(env, 0);
    ThrowSys(env, errno, "SIOCGIFINDEX");
    return env.Undefined();
  }
  return Napi::Number::New(env, ifr.ifr_ifindex);
}

}  // namespace msnl
