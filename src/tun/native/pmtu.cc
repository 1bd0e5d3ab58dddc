// Path MTU syscalls for the underlay socket (see pmtu.h), and routeMtu for JavaScript (IPv4 and IPv6).
#include "pmtu.h"

#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace msnl {

int SetNoFragment(int fd, int family) {
  int mode = IP_PMTUDISC_DO;
  // On an IPv6 socket IP_MTU_DISCOVER covers its IPv4-mapped peers, IPV6_MTU_DISCOVER the rest.
  if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &mode, sizeof mode) < 0 && family != AF_INET6) return errno;
  if (family == AF_INET6) {
    int mode6 = IPV6_PMTUDISC_DO;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &mode6, sizeof mode6) < 0) return errno;
  }
  return 0;
}

namespace {

// Connects a throwaway UDP socket to `sa` (which picks the route) and reads its MTU option.
int ConnectedMtu(int family, const struct sockaddr* sa, socklen_t salen, int level, int option) {
  int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int mtu = 0;
  socklen_t len = sizeof mtu;
  int result;
  if (connect(fd, sa, salen) < 0) result = -errno;
  else if (getsockopt(fd, level, option, &mtu, &len) < 0) result = -errno;
  else result = mtu;
  close(fd);
  return result;
}

}  // namespace

int RouteMtu(uint32_t address) {
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(address);
  sin.sin_port = htons(9);  // any port: connect only picks the route
  return ConnectedMtu(AF_INET, reinterpret_cast<struct sockaddr*>(&sin), sizeof sin, IPPROTO_IP, IP_MTU);
}

int RouteMtu6(const uint8_t* address) {
  struct sockaddr_in6 sin6;
  memset(&sin6, 0, sizeof sin6);
  sin6.sin6_family = AF_INET6;
  memcpy(&sin6.sin6_addr, address, 16);
  sin6.sin6_port = htons(9);
  return ConnectedMtu(AF_INET6, reinterpret_cast<struct sockaddr*>(&sin6), sizeof sin6, IPPROTO_IPV6, IPV6_MTU);
}

// routeMtu(address host-order IPv4) or routeMtu(octets, offset) for the IPv6 address
// octets[offset, +16) -> the route's MTU, or -errno (ENETUNREACH: no route).
Napi::Value RouteMtuOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() >= 2 && info[0].IsTypedArray() && info[1].IsNumber()) {
    Napi::TypedArray array = info[0].As<Napi::TypedArray>();
    int64_t offset = info[1].As<Napi::Number>().Int64Value();
    if (array.TypedArrayType() != napi_uint8_array || offset < 0 || offset + 16 > static_cast<int64_t>(array.ByteLength())) {
      ThrowType(env, "routeMtu: the IPv6 address must be 16 octets inside a Uint8Array");
      return env.Undefined();
    }
    const uint8_t* octets = static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset() + offset;
    return Napi::Number::New(env, RouteMtu6(octets));
  }
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowType(env, "routeMtu(address) or routeMtu(octets, offset)");
    return env.Undefined();
  }
  return Napi::Number::New(env, RouteMtu(info[0].As<Napi::Number>().Uint32Value()));
}

}  // namespace msnl
