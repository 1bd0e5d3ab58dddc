// The mmsghdr arrays behind UdpSocket (udp.cc): building sendmmsg messages (with UDP GSO runs) and
// recvmmsg messages (with UDP GRO control), and reading the results back into the caller's arrays.
// No N-API here: plain memory in, message counts out.
#pragma once

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <vector>

namespace msnl {

// UIO_MAXIOV: the kernel caps one sendmmsg/recvmmsg call at this many messages.
constexpr size_t kMaxBatch = 1024;
// UDP GSO: datagrams per segmented message (UDP_MAX_SEGMENTS is 64 on older kernels) and the
// payload bound of one message (it is one IPv4 datagram until segmented).
constexpr size_t kMaxSegments = 64;
constexpr size_t kMaxGsoBytes = 65000;

// Words per address in the addrs arrays: an IPv4 address is one host-order word; an IPv6 address is
// four words holding its 16 octets as they are in memory (network order).
constexpr size_t kWords4 = 1;
constexpr size_t kWords6 = 4;

// One send request: datagram k is slab[offsets[k], +lengths[k]) to the address at
// addrs[k * words] and ports[k] (host order).
struct SendArrays {
  uint8_t* slab;
  const uint32_t* offsets;
  const uint32_t* lengths;
  const uint32_t* addrs;
  const uint16_t* ports;
};

// Where received datagram i's length (-1: truncated), source, GRO segment size (0: none) and age
// go. The age is how long before the read the kernel received it (SO_TIMESTAMPNS), in
// microseconds, kNoAge when the kernel gave no receive time.
constexpr uint32_t kNoAge = 0xffffffffu;
struct RecvArrays {
  int32_t* sizes;
  uint32_t* addrs;
  uint16_t* ports;
  uint16_t* segs;  // may be null
  uint32_t* ages;  // may be null
};

class MsgArena {
 public:
  // family: AF_INET or AF_INET6, the family of every address of this arena's socket.
  explicit MsgArena(int family = AF_INET);
  // Fills messages for datagrams from..end-1 (at most kMaxBatch iovecs in all); with gso, a run to
  // one peer of one length (the last may be shorter) becomes one UDP_SEGMENT message. Returns the
  // message count; Datagrams(m) says how many datagrams message m carries.
  size_t BuildSend(const SendArrays& in, size_t from, size_t end, bool gso);
  // Fills n receive messages, message i into slab[i*slot, +slot); control (GRO or receive times
  // on) adds a control buffer.
  void BuildRecv(uint8_t* slab, size_t slot, size_t n, bool control);
  // Copies the first r received messages' lengths, sources, GRO segment sizes and ages out.
  void ReadRecv(int r, const RecvArrays& out, bool control);
  size_t Datagrams(size_t m) const { return per_[m]; }
  struct mmsghdr* msgs() { return msgs_.data(); }

 private:
  union Control {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct timespec))];
  };
  bool SameAddress(const uint32_t* addrs, size_t a, size_t b) const;
  void SetAddress(size_t m, const uint32_t* addrs, size_t k, uint16_t port);

  int family_;
  size_t words_;
  socklen_t namelen_;
  std::vector<struct mmsghdr> msgs_;
  std::vector<struct iovec> iovs_;
  std::vector<struct sockaddr_in6> addrs_;  // large enough for either family
  std::vector<Control> control_;
  std::vector<size_t> per_;
};

}  // namespace msnl
