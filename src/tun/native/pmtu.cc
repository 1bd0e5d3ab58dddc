// Path MTU syscalls for the underlay socket (see pmtu.h), and routeMtu for JavaScript. IPv4 only,
// like UdpSocket.
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

int RouteMtu(uint32_t address) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(address);
  sin.sin_port = htons(9);  // any port: connect only picks the route
  int mtu = 0;
  socklen_t len = sizeof mtu;
  int result;
  if (connect(fd, reinterpret_cast<struct sockaddr*>(&sin), sizeof sin) < 0) result = -errno;
  else if (getsockopt(fd, IPPROTO_IP, IP_MTU, &mtu, &len) < 0) result = -errno;
  else result = mtu;
  close(fd);
  return result;
}

// routeMtu(address host-order IPv4) -> the route's MTU, or -errno (ENETUNREACH: no route).
Napi::Value RouteMtuOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowType(env, "routeMtu(address)");
    return env.Undefined();
  }
  return Napi::Number::New(env, RouteMtu(info[0].As<Napi::Number>().Uint32Value()));
}

}  // namespace msnl
