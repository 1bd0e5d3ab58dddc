// Path MTU syscalls for the underlay socket (pmtu.cc): the socket option that forbids
// fragmentation, and the route MTU towards a peer (which includes a path MTU the kernel learned
// from ICMP "fragmentation needed"). Plain syscalls, no policy: what a "too big" refusal means is
// decided in TypeScript (src/msdl/udp-native.ts, src/msnl/pmtu.ts).
#pragma once

#include <stdint.h>

namespace msnl {

// IP_MTU_DISCOVER = IP_PMTUDISC_DO: DF on every datagram; the kernel never fragments, takes ICMP
// "fragmentation needed" into its route cache, and refuses a datagram larger than the path MTU
// it knows with EMSGSIZE (IPV6_MTU_DISCOVER too on an AF_INET6 socket). 0, or the errno.
int SetNoFragment(int fd, int family);

// The MTU of the route to address (host order) as the kernel knows it (the outgoing link's, or a
// lower path MTU it learned): a positive MTU, or -errno.
int RouteMtu(uint32_t address);
// The same towards the IPv6 address address[0, 16) (IPV6_MTU).
int RouteMtu6(const uint8_t* address);

}  // namespace msnl
