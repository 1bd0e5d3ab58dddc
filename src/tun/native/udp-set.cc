// msnl_tun UdpSocketSet: many connected IPv4 UDP sockets (one local port each, all to one remote
// address) watched through one epoll descriptor, so a load generator with 10 000 distinct peers
// pays one libuv watch and one N-API call per batch instead of one of each per socket and datagram.
// Each socket is a real kernel UDP socket (its own port, its own receive queue); only the
// readiness is shared. recvBatch drains the ready sockets into caller-owned slots and names each
// datagram's socket; sendBatch sends each datagram on the socket it names (one send each: the
// sockets differ). Used by bench/swarm.ts (bench/swarm-sockets.ts types it); msnld does not use it.
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace msnl {
namespace {

constexpr size_t kMaxEvents = 256;
constexpr size_t kMaxRun = 64;  // datagrams one recvmmsg takes from one socket

std::string Name(uint32_t hostOrder, uint32_t port) {
  char text[INET_ADDRSTRLEN] = "?";
  struct in_addr a;
  a.s_addr = htonl(hostOrder);
  inet_ntop(AF_INET, &a, text, sizeof text);
  return std::string(text) + ":" + std::to_string(port);
}

void ThrowSet(Napi::Env env, int err, const char* syscall, const std::string& what) {
  Napi::Error e = Napi::Error::New(env, "failed to " + what + ": " + strerror(err));
  e.Value().Set("errno", Napi::Number::New(env, err));
  e.Value().Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
}

// new UdpSocketSet(localAddress, basePort, count, remoteAddress, remotePort, receiveBuffer,
// callback(status, events)): socket i is bound to localAddress:basePort+i and connected to
// remoteAddress:remotePort (host-order IPv4 numbers); receiveBuffer > 0 sizes each one's
// SO_RCVBUF. Throws (closing what it opened) when a socket cannot be made, bound or connected.
class UdpSocketSet : public Napi::ObjectWrap<UdpSocketSet> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "UdpSocketSet",
                       {InstanceMethod("recvBatch", &UdpSocketSet::RecvBatch),
                        InstanceMethod("sendBatch", &UdpSocketSet::SendBatch),
                        InstanceMethod("size", &UdpSocketSet::Size),
                        InstanceMethod("close", &UdpSocketSet::Close)});
  }

  explicit UdpSocketSet(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UdpSocketSet>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 7 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsNumber() ||
        !info[4].IsNumber() || !info[5].IsNumber() || !info[6].IsFunction()) {
      ThrowType(env, "UdpSocketSet(localAddress, basePort, count, remoteAddress, remotePort, receiveBuffer, callback)");
      return;
    }
    uint32_t local = info[0].As<Napi::Number>().Uint32Value();
    uint32_t base = info[1].As<Napi::Number>().Uint32Value();
    uint32_t count = info[2].As<Napi::Number>().Uint32Value();
    uint32_t remote = info[3].As<Napi::Number>().Uint32Value();
    uint32_t remotePort = info[4].As<Napi::Number>().Uint32Value();
    int rcv = info[5].As<Napi::Number>().Int32Value();
    if (count == 0 || base == 0 || base + count - 1 > 65535 || remotePort == 0 || remotePort > 65535) {
      ThrowType(env, "ports must be 1..65535 and count positive");
      return;
    }
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) {
      ThrowSet(env, errno, "epoll_create1", "create an epoll descriptor");
      return;
    }
    struct sockaddr_in to;
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(remote);
    to.sin_port = htons(static_cast<uint16_t>(remotePort));
    fds_.reserve(count);
    for (uint32_t i = 0; i < count; i++) {
      const char* syscall = "";
      int err = OpenOne(local, base + i, to, rcv, i, &syscall);
      if (err != 0) {
        Shutdown();
        ThrowSet(env, err, syscall, std::string(syscall) + " UDP socket " + Name(local, base + i));
        return;
      }
    }
    const char* syscall = "";
    int rc = poll_.Start(env, epoll_, info[6].As<Napi::Function>(), "msnl_udp_set_poll", &syscall);
    if (rc != 0) {
      Shutdown();
      ThrowSet(env, -rc, syscall, "watch the epoll descriptor");
    }
  }

  ~UdpSocketSet() override { Shutdown(); }

 private:
  int OpenOne(uint32_t local, uint32_t port, const struct sockaddr_in& to, int rcv, uint32_t index, const char** syscall) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      *syscall = "socket";
      return errno;
    }
    if (rcv > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0) {
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    }
    struct sockaddr_in me;
    memset(&me, 0, sizeof me);
    me.sin_family = AF_INET;
    me.sin_addr.s_addr = htonl(local);
    me.sin_port = htons(static_cast<uint16_t>(port));
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.u32 = index;
    int err = 0;
    if (bind(fd, reinterpret_cast<const struct sockaddr*>(&me), sizeof me) < 0) {
      err = errno;
      *syscall = "bind";
    } else if (connect(fd, reinterpret_cast<const struct sockaddr*>(&to), sizeof to) < 0) {
      err = errno;
      *syscall = "connect";
    } else if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) < 0) {
      err = errno;
      *syscall = "epoll_ctl";
    }
    if (err != 0) {
      close(fd);
      return err;
    }
    fds_.push_back(fd);
    return 0;
  }

  void Shutdown() {
    poll_.Stop();
    for (int fd : fds_) close(fd);
    fds_.clear();
    if (epoll_ >= 0) close(epoll_);
    epoll_ = -1;
  }

  bool Open(Napi::Env env) {
    if (epoll_ >= 0) return true;
    ThrowSet(env, EBADF, "use", "use a closed UDP socket set");
    return false;
  }

  // recvBatch(slab, slotSize, sizes Int32Array, sockets Uint32Array) -> n: datagram k lands at
  // slab[k*slotSize..], sizes[k] is its length (-1: longer than a slot, truncated) and sockets[k]
  // the index of the socket it came to. Drains ready sockets until the slots are full or none is
  // ready (n below the slots: nothing was left waiting). A socket's error (an ICMP report) is
  // consumed and skipped.
  Napi::Value RecvBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Open(env)) return env.Undefined();
    uint8_t* slab;
    int32_t* sizes;
    uint32_t* sockets;
    size_t slabLen, nSizes, nSockets;
    if (!View(info, 0, napi_uint8_array, &slab, &slabLen, "slab must be a Uint8Array") ||
        !View(info, 2, napi_int32_array, &sizes, &nSizes, "sizes must be an Int32Array") ||
        !View(info, 3, napi_uint32_array, &sockets, &nSockets, "sockets must be a Uint32Array")) {
      return env.Undefined();
    }
    uint32_t slot = info[1].As<Napi::Number>().Uint32Value();
    if (slot == 0) {
      ThrowType(env, "slotSize must be positive");
      return env.Undefined();
    }
    size_t cap = slabLen / slot;
    if (nSizes < cap) cap = nSizes;
    if (nSockets < cap) cap = nSockets;
    size_t n = 0;
    struct epoll_event events[kMaxEvents];
    struct mmsghdr msgs[kMaxRun];
    struct iovec iov[kMaxRun];
    while (n < cap) {
      int ready = epoll_wait(epoll_, events, kMaxEvents, 0);
      if (ready <= 0) break;
      for (int e = 0; e < ready && n < cap; e++) {
        uint32_t index = events[e].data.u32;
        size_t run = cap - n < kMaxRun ? cap - n : kMaxRun;
        for (size_t j = 0; j < run; j++) {
          iov[j].iov_base = slab + (n + j) * slot;
          iov[j].iov_len = slot;
          memset(&msgs[j], 0, sizeof msgs[j]);
          msgs[j].msg_hdr.msg_iov = &iov[j];
          msgs[j].msg_hdr.msg_iovlen = 1;
        }
        int r = recvmmsg(fds_[index], msgs, static_cast<unsigned>(run), MSG_DONTWAIT, nullptr);
        if (r < 0) {
          if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            int ignored = 0;
            socklen_t len = sizeof ignored;
            getsockopt(fds_[index], SOL_SOCKET, SO_ERROR, &ignored, &len);
          }
          continue;
        }
        for (int j = 0; j < r; j++) {
          bool cut = (msgs[j].msg_hdr.msg_flags & MSG_TRUNC) != 0;
          sizes[n] = cut ? -1 : static_cast<int32_t>(msgs[j].msg_len);
          sockets[n] = index;
          n++;
        }
      }
    }
    return Napi::Number::New(env, static_cast<double>(n));
  }

  // sendBatch(slab, offsets Uint32Array, lengths Uint32Array, sockets Uint32Array, start, end) ->
  // how many of start..end-1 were handled: datagram k (slab[offsets[k], +lengths[k])) goes out on
  // socket sockets[k]. One refused for want of send buffer (EAGAIN) or for a pending error is
  // dropped (a load generator's datagram: the protocol retransmits) and counted in dropped[0]
  // when that Int32Array is given.
  Napi::Value SendBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Open(env)) return env.Undefined();
    uint8_t* slab;
    uint32_t* offsets;
    uint32_t* lengths;
    uint32_t* sockets;
    int32_t* dropped = nullptr;
    size_t slabLen, nOff, nLen, nSockets, nDropped = 0;
    if (!View(info, 0, napi_uint8_array, &slab, &slabLen, "slab must be a Uint8Array") ||
        !View(info, 1, napi_uint32_array, &offsets, &nOff, "offsets must be a Uint32Array") ||
        !View(info, 2, napi_uint32_array, &lengths, &nLen, "lengths must be a Uint32Array") ||
        !View(info, 3, napi_uint32_array, &sockets, &nSockets, "sockets must be a Uint32Array")) {
      return env.Undefined();
    }
    if (info.Length() > 6 && !info[6].IsUndefined() &&
        !View(info, 6, napi_int32_array, &dropped, &nDropped, "dropped must be an Int32Array")) {
      return env.Undefined();
    }
    if (nDropped == 0) dropped = nullptr;
    size_t start = info[4].As<Napi::Number>().Uint32Value();
    size_t end = info[5].As<Napi::Number>().Uint32Value();
    if (end > nOff) end = nOff;
    if (end > nLen) end = nLen;
    if (end > nSockets) end = nSockets;
    for (size_t k = start; k < end; k++) {
      if (static_cast<uint64_t>(offsets[k]) + lengths[k] > slabLen || sockets[k] >= fds_.size()) {
        ThrowType(env, "a datagram is beyond the slab or names no socket of the set");
        return env.Undefined();
      }
    }
    for (size_t k = start; k < end; k++) {
      ssize_t r;
      do {
        r = send(fds_[sockets[k]], slab + offsets[k], lengths[k], MSG_DONTWAIT);
      } while (r < 0 && errno == EINTR);
      if (r < 0 && dropped != nullptr) dropped[0]++;
    }
    return Napi::Number::New(env, static_cast<double>(end > start ? end - start : 0));
  }

  Napi::Value Size(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(fds_.size())); }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  int epoll_ = -1;
  std::vector<int> fds_;
  PollWatcher poll_;
};

}  // namespace

Napi::Function DefineUdpSocketSet(Napi::Env env) { return UdpSocketSet::Define(env); }

}  // namespace msnl
