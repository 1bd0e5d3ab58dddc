// See udp-msgs.h.
#include "udp-msgs.h"

#include <arpa/inet.h>
#include <netinet/udp.h>
#include <string.h>

namespace msnl {

MsgArena::MsgArena(int family)
    : family_(family),
      words_(family == AF_INET6 ? kWords6 : kWords4),
      namelen_(family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)),
      msgs_(kMaxBatch),
      iovs_(kMaxBatch),
      addrs_(kMaxBatch),
      control_(kMaxBatch),
      per_(kMaxBatch) {}

bool MsgArena::SameAddress(const uint32_t* addrs, size_t a, size_t b) const {
  return memcmp(addrs + a * words_, addrs + b * words_, words_ * sizeof(uint32_t)) == 0;
}

void MsgArena::SetAddress(size_t m, const uint32_t* addrs, size_t k, uint16_t port) {
  memset(&addrs_[m], 0, sizeof addrs_[m]);
  if (family_ == AF_INET6) {
    addrs_[m].sin6_family = AF_INET6;
    memcpy(&addrs_[m].sin6_addr, addrs + k * kWords6, 16);
    addrs_[m].sin6_port = htons(port);
    return;
  }
  struct sockaddr_in* sin = reinterpret_cast<struct sockaddr_in*>(&addrs_[m]);
  sin->sin_family = AF_INET;
  sin->sin_addr.s_addr = htonl(addrs[k]);
  sin->sin_port = htons(port);
}

size_t MsgArena::BuildSend(const SendArrays& in, size_t from, size_t end, bool gso) {
  size_t m = 0, iov = 0, k = from;
  while (k < end && iov < kMaxBatch) {
    size_t first = k;
    uint32_t seg = in.lengths[k];
    size_t total = seg;
    k++;
    if (gso && seg > 0) {
      while (k < end && k - first < kMaxSegments && iov + (k - first) < kMaxBatch && SameAddress(in.addrs, k, first) &&
             in.ports[k] == in.ports[first] && in.lengths[k] > 0 && in.lengths[k] <= seg && total + in.lengths[k] <= kMaxGsoBytes) {
        total += in.lengths[k];
        k++;
        if (in.lengths[k - 1] < seg) break;  // a shorter one ends the run
      }
    }
    size_t count = k - first;
    for (size_t i = 0; i < count; i++) {
      iovs_[iov + i].iov_base = in.slab + in.offsets[first + i];
      iovs_[iov + i].iov_len = in.lengths[first + i];
    }
    SetAddress(m, in.addrs, first, in.ports[first]);
    struct msghdr& h = msgs_[m].msg_hdr;
    memset(&h, 0, sizeof h);
    h.msg_name = &addrs_[m];
    h.msg_namelen = namelen_;
    h.msg_iov = &iovs_[iov];
    h.msg_iovlen = count;
    if (count > 1) {
      h.msg_control = control_[m].buf;
      h.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
      struct cmsghdr* c = CMSG_FIRSTHDR(&h);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      uint16_t size = static_cast<uint16_t>(seg);
      memcpy(CMSG_DATA(c), &size, sizeof size);
    }
    per_[m] = count;
    iov += count;
    m++;
  }
  return m;
}

void MsgArena::BuildRecv(uint8_t* slab, size_t slot, size_t n, bool control) {
  for (size_t i = 0; i < n; i++) {
    iovs_[i].iov_base = slab + i * slot;
    iovs_[i].iov_len = slot;
    struct msghdr& h = msgs_[i].msg_hdr;
    memset(&h, 0, sizeof h);
    h.msg_name = &addrs_[i];
    h.msg_namelen = sizeof addrs_[i];  // room for either family
    h.msg_iov = &iovs_[i];
    h.msg_iovlen = 1;
    if (control) {
      h.msg_control = control_[i].buf;
      h.msg_controllen = sizeof control_[i].buf;
    }
  }
}

void MsgArena::ReadRecv(int r, const RecvArrays& out, bool control) {
  struct timespec now = {0, 0};
  if (out.ages != nullptr) clock_gettime(CLOCK_REALTIME, &now);  // SO_TIMESTAMPNS stamps are CLOCK_REALTIME
  for (int i = 0; i < r; i++) {
    struct msghdr& h = msgs_[i].msg_hdr;
    bool trunc = (h.msg_flags & MSG_TRUNC) != 0;
    out.sizes[i] = trunc ? -1 : static_cast<int32_t>(msgs_[i].msg_len);
    if (family_ == AF_INET6) {
      memcpy(out.addrs + i * kWords6, &addrs_[i].sin6_addr, 16);
      out.ports[i] = ntohs(addrs_[i].sin6_port);
    } else {
      const struct sockaddr_in* sin = reinterpret_cast<const struct sockaddr_in*>(&addrs_[i]);
      out.addrs[i] = ntohl(sin->sin_addr.s_addr);
      out.ports[i] = ntohs(sin->sin_port);
    }
    int seg = 0;
    uint32_t age = kNoAge;
    if (control && h.msg_controllen > 0) {
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) memcpy(&seg, CMSG_DATA(c), sizeof seg);
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS && out.ages != nullptr) {
          struct timespec at;
          memcpy(&at, CMSG_DATA(c), sizeof at);
          int64_t us = (static_cast<int64_t>(now.tv_sec) - at.tv_sec) * 1000000 + (now.tv_nsec - at.tv_nsec) / 1000;
          age = us < 0 ? 0 : us >= static_cast<int64_t>(kNoAge) ? kNoAge - 1 : static_cast<uint32_t>(us);
        }
      }
    }
    if (out.ages != nullptr) out.ages[i] = age;
    if (out.segs != nullptr) out.segs[i] = (seg > 0 && static_cast<uint32_t>(seg) < msgs_[i].msg_len) ? static_cast<uint16_t>(seg) : 0;
  }
}

}  // namespace msnl
