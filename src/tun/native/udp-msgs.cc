// See udp-msgs.h.
#include "udp-msgs.h"

#include <arpa/inet.h>
#include <netinet/udp.h>
#include <string.h>

namespace msnl {

MsgArena::MsgArena() : msgs_(kMaxBatch), iovs_(kMaxBatch), addrs_(kMaxBatch), control_(kMaxBatch), per_(kMaxBatch) {}

size_t MsgArena::BuildSend(const SendArrays& in, size_t from, size_t end, bool gso) {
  size_t m = 0, iov = 0, k = from;
  while (k < end && iov < kMaxBatch) {
    size_t first = k;
    uint32_t seg = in.lengths[k];
    size_t total = seg;
    k++;
    if (gso && seg > 0) {
      while (k < end && k - first < kMaxSegments && iov + (k - first) < kMaxBatch && in.addrs[k] == in.addrs[first] &&
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
    memset(&addrs_[m], 0, sizeof addrs_[m]);
    addrs_[m].sin_family = AF_INET;
    addrs_[m].sin_addr.s_addr = htonl(in.addrs[first]);
    addrs_[m].sin_port = htons(in.ports[first]);
    struct msghdr& h = msgs_[m].msg_hdr;
    memset(&h, 0, sizeof h);
    h.msg_name = &addrs_[m];
    h.msg_namelen = sizeof addrs_[m];
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

void MsgArena::BuildRecv(uint8_t* slab, size_t slot, size_t n, bool gro) {
  for (size_t i = 0; i < n; i++) {
    iovs_[i].iov_base = slab + i * slot;
    iovs_[i].iov_len = slot;
    struct msghdr& h = msgs_[i].msg_hdr;
    memset(&h, 0, sizeof h);
    h.msg_name = &addrs_[i];
    h.msg_namelen = sizeof addrs_[i];
    h.msg_iov = &iovs_[i];
    h.msg_iovlen = 1;
    if (gro) {
      h.msg_control = control_[i].buf;
      h.msg_controllen = sizeof control_[i].buf;
    }
  }
}

void MsgArena::ReadRecv(int r, const RecvArrays& out, bool gro) {
  for (int i = 0; i < r; i++) {
    struct msghdr& h = msgs_[i].msg_hdr;
    bool trunc = (h.msg_flags & MSG_TRUNC) != 0;
    out.sizes[i] = trunc ? -1 : static_cast<int32_t>(msgs_[i].msg_len);
    out.addrs[i] = ntohl(addrs_[i].sin_addr.s_addr);
    out.ports[i] = ntohs(addrs_[i].sin_port);
    if (out.segs == nullptr) continue;
    int seg = 0;
    if (gro && h.msg_controllen > 0) {
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) memcpy(&seg, CMSG_DATA(c), sizeof seg);
      }
    }
    out.segs[i] = (seg > 0 && static_cast<uint32_t>(seg) < msgs_[i].msg_len) ? static_cast<uint16_t>(seg) : 0;
  }
}

}  // namespace msnl
