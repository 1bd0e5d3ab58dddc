// msnl_tun UdpSocket: a non-blocking UDP socket (IPv4 or IPv6) for the underlay, moved in batches.
// recvmmsg fills caller-owned slots (one datagram per slot) and sendmmsg sends a caller-owned slab
// described by offset/length/address/port arrays, so a batch of 64 datagrams is one N-API call and
// one or two syscalls instead of 64 of each. Runs of one size to one peer go as one UDP GSO message
// and, with coalescing on, arrive as one UDP GRO slot (udp-msgs.cc builds the messages).
// Readiness comes from a PollWatcher (poll.cc); the JS side asks for UV_WRITABLE only while a send
// was cut short by EAGAIN. Policy stays in TypeScript (src/msdl/udp-batch.ts): when the kernel
// refuses a GSO message this file sends the run plainly and reports the errno; whether GSO goes off
// is decided by src/msdl/gso.ts. Errors carry `errno` and `syscall` and name the socket.
#include "common.h"
#include "pmtu.h"
#include "udp-msgs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <string>

namespace msnl {
namespace {

std::string Endpoint(uint32_t hostOrder, uint32_t port) {
  char text[INET_ADDRSTRLEN] = "?";
  struct in_addr a;
  a.s_addr = htonl(hostOrder);
  inet_ntop(AF_INET, &a, text, sizeof text);
  return std::string(text) + ":" + std::to_string(port);
}

std::string Endpoint6(const struct in6_addr& address, uint32_t port) {
  char text[INET6_ADDRSTRLEN] = "?";
  inet_ntop(AF_INET6, &address, text, sizeof text);
  return "[" + std::string(text) + "]:" + std::to_string(port);
}

// Throws Error("failed to <what> UDP socket <endpoint>: <strerror>") with errno and syscall.
void ThrowSock(Napi::Env env, int err, const char* syscall, const char* what, const std::string& endpoint) {
  std::string message = std::string("failed to ") + what + " UDP socket " + endpoint + ": " + strerror(err);
  Napi::Error e = Napi::Error::New(env, message);
  e.Value().Set("errno", Napi::Number::New(env, err));
  e.Value().Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
}

// new UdpSocket(address, port, receiveBuffer, sendBuffer, callback(status, events)): binds
// address:port and watches it for UV_READABLE. address is a host-order IPv4 number (an AF_INET
// socket) or the 16 octets of an IPv6 address in a Uint8Array (an AF_INET6 socket, dual-stack when
// it is ::); port 0 picks one. The family decides the addrs layout of recvBatch/sendBatch: one word
// per datagram for IPv4, four (the 16 octets as they are in memory) for IPv6.
class UdpSocket : public Napi::ObjectWrap<UdpSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "UdpSocket",
                       {InstanceMethod("recvBatch", &UdpSocket::RecvBatch),
                        InstanceMethod("sendBatch", &UdpSocket::SendBatch),
                        InstanceMethod("watchWritable", &UdpSocket::WatchWritable),
                        InstanceMethod("setSegmentation", &UdpSocket::SetSegmentation),
                        InstanceMethod("segmentation", &UdpSocket::Segmentation),
                        InstanceMethod("setCoalescing", &UdpSocket::SetCoalescing),
                        InstanceMethod("setReceiveTimes", &UdpSocket::SetReceiveTimes),
                        InstanceMethod("local", &UdpSocket::Local),
                        InstanceMethod("bufferSizes", &UdpSocket::BufferSizes),
                        InstanceMethod("family", &UdpSocket::Family),
                        InstanceMethod("ref", &UdpSocket::Ref),
                        InstanceMethod("close", &UdpSocket::Close)});
  }

  explicit UdpSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UdpSocket>(info) {
    Napi::Env env = info.Env();
    bool v6 = info.Length() > 0 && info[0].IsTypedArray();
    if (info.Length() < 5 || (!info[0].IsNumber() && !v6) || !info[1].IsNumber() || !info[2].IsNumber() ||
        !info[3].IsNumber() || !info[4].IsFunction()) {
      ThrowType(env, "UdpSocket(address, port, receiveBuffer, sendBuffer, callback)");
      return;
    }
    struct sockaddr_in6 bound;
    memset(&bound, 0, sizeof bound);
    uint32_t port = info[1].As<Napi::Number>().Uint32Value();
    if (port > 65535) {
      ThrowType(env, "port must be 0..65535");
      return;
    }
    if (v6) {
      uint8_t* octets;
      size_t length;
      if (!View(info, 0, napi_uint8_array, &octets, &length, "an IPv6 address must be a Uint8Array")) return;
      if (length != 16) {
        ThrowType(env, "an IPv6 address must be 16 octets");
        return;
      }
      family_ = AF_INET6;
      words_ = kWords6;
      bound.sin6_family = AF_INET6;
      memcpy(&bound.sin6_addr, octets, 16);
      bound.sin6_port = htons(static_cast<uint16_t>(port));
      name_ = Endpoint6(bound.sin6_addr, port);
    } else {
      struct sockaddr_in* sin = reinterpret_cast<struct sockaddr_in*>(&bound);
      uint32_t address = info[0].As<Napi::Number>().Uint32Value();
      sin->sin_family = AF_INET;
      sin->sin_addr.s_addr = htonl(address);
      sin->sin_port = htons(static_cast<uint16_t>(port));
      name_ = Endpoint(address, port);
    }
    arena_ = MsgArena(family_);
    const char* syscall = "";
    int err = OpenBound(bound, info[2].As<Napi::Number>().Int32Value(), info[3].As<Napi::Number>().Int32Value(), &syscall);
    if (err != 0) {
      ThrowSock(env, err, syscall, strcmp(syscall, "bind") == 0 ? "bind" : "create", name_);
      return;
    }
    int rc = poll_.Start(env, fd_, info[4].As<Napi::Function>(), "msnl_udp_poll", &syscall);
    if (rc != 0) {
      Shutdown();
      ThrowSock(env, -rc, syscall, "watch", name_);
    }
  }

  ~UdpSocket() override { Shutdown(); }

 private:
  // Creates the socket, sizes its buffers, binds address:port and learns the name it got: 0, or
  // an errno with *syscall naming the call that failed (nothing is left open then).
  int OpenBound(struct sockaddr_in6& bound, int rcv, int snd, const char** syscall) {
    int fd = socket(family_, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      *syscall = "socket";
      return errno;
    }
    SizeBuffers(fd, rcv, snd);
    int dfErr = SetNoFragment(fd, family_);  // DF: never fragment, too big is EMSGSIZE (pmtu.h)
    if (dfErr != 0) {
      close(fd);
      *syscall = "setsockopt";
      return dfErr;
    }
    socklen_t len = SockLen();
    if (bind(fd, reinterpret_cast<struct sockaddr*>(&bound), len) < 0) {
      int err = errno;
      close(fd);
      *syscall = "bind";
      return err;
    }
    if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&bound), &len) == 0) name_ = Name(bound);
    fd_ = fd;
    return 0;
  }

  socklen_t SockLen() const { return family_ == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in); }

  std::string Name(const struct sockaddr_in6& a) const {
    if (family_ == AF_INET6) return Endpoint6(a.sin6_addr, ntohs(a.sin6_port));
    const struct sockaddr_in& sin = reinterpret_cast<const struct sockaddr_in&>(a);
    return Endpoint(ntohl(sin.sin_addr.s_addr), ntohs(sin.sin_port));
  }

  // SO_RCVBUF / SO_SNDBUF: the FORCE variants pass rmem_max/wmem_max when privileged; otherwise
  // the kernel caps the plain request. 0 or less leaves the default.
  static void SizeBuffers(int fd, int rcv, int snd) {
    if (rcv > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0) {
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    }
    if (snd > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof snd) < 0) {
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
    }
  }

  // Stops watching before the fd goes (libuv requires it); the watcher frees its state later.
  void Shutdown() {
    poll_.Stop();
    if (fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
  }

  bool Open(Napi::Env env) {
    if (fd_ >= 0) return true;
    ThrowSock(env, EBADF, "use", "use", name_ + " (closed)");
    return false;
  }

  // recvBatch(slab, slotSize, sizes Int32Array, addrs Uint32Array, ports Uint16Array[, segs
  // Uint16Array[, ages Uint32Array]]) -> n, or -errno when nothing was read because of an error. Datagram i lands at
  // slab[i*slotSize..]; its source is addrs[i*words..] (one word, or four for IPv6) and ports[i];
  // sizes[i] is its length, or -1 when it was longer than a slot (truncated:
  // drop it). With coalescing on, slot i may hold several datagrams from one peer: segs[i] is then
  // their size (the last may be shorter), 0 when the slot holds one datagram. With receive times on
  // (setReceiveTimes), ages[i] is how many microseconds before this call the kernel received it
  // (0xffffffff: no time given).
  Napi::Value RecvBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Open(env)) return env.Undefined();
    uint8_t* slab;
    int32_t* sizes;
    uint32_t* addrs;
    uint16_t* ports;
    uint16_t* segs = nullptr;
    uint32_t* ages = nullptr;
    size_t slabLen, nSizes, nAddrs, nPorts, nSegs = 0, nAges = 0;
    if (!View(info, 0, napi_uint8_array, &slab, &slabLen, "slab must be a Uint8Array") ||
        !View(info, 2, napi_int32_array, &sizes, &nSizes, "sizes must be an Int32Array") ||
        !View(info, 3, napi_uint32_array, &addrs, &nAddrs, "addrs must be a Uint32Array") ||
        !View(info, 4, napi_uint16_array, &ports, &nPorts, "ports must be a Uint16Array")) {
      return env.Undefined();
    }
    // Given (not undefined) arrays cap the batch by their length even when empty: an empty typed
    // array may have no data pointer at all.
    bool hasSegs = info.Length() > 5 && !info[5].IsUndefined();
    bool hasAges = info.Length() > 6 && !info[6].IsUndefined();
    if (hasSegs && !View(info, 5, napi_uint16_array, &segs, &nSegs, "segs must be a Uint16Array")) {
      return env.Undefined();
    }
    if (hasAges && !View(info, 6, napi_uint32_array, &ages, &nAges, "ages must be a Uint32Array")) {
      return env.Undefined();
    }
    uint32_t slot = info[1].As<Napi::Number>().Uint32Value();
    if (slot == 0) {
      ThrowType(env, "slotSize must be positive");
      return env.Undefined();
    }
    size_t n = slabLen / slot;
    if (nSizes < n) n = nSizes;
    if (nAddrs / words_ < n) n = nAddrs / words_;
    if (nPorts < n) n = nPorts;
    if (hasSegs && nSegs < n) n = nSegs;
    if (hasAges && nAges < n) n = nAges;
    if (n > kMaxBatch) n = kMaxBatch;
    arena_.BuildRecv(slab, slot, n, gro_ || stamps_);
    int r;
    do {
      r = recvmmsg(fd_, arena_.msgs(), static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, 0);
      return Napi::Number::New(env, -errno);
    }
    arena_.ReadRecv(r, RecvArrays{sizes, addrs, ports, segs, stamps_ ? ages : nullptr}, gro_ || stamps_);
    return Napi::Number::New(env, r);
  }

  // setCoalescing(on) -> whether UDP GRO is now on: received runs of datagrams from one peer may
  // arrive as one slot (see recvBatch segs). Needs 64 KiB slots; false when the kernel refused.
  Napi::Value SetCoalescing(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Open(env)) return env.Undefined();
    int on = info[0].ToBoolean().Value() ? 1 : 0;
    gro_ = setsockopt(fd_, SOL_UDP, UDP_GRO, &on, sizeof on) == 0 && on == 1;
    return Napi::Boolean::New(env, gro_);
  }

  // setReceiveTimes(on) -> whether the kernel now stamps each received datagram (SO_TIMESTAMPNS),
  // so recvBatch can say how long each waited in the receive queue (see recvBatch ages).
  Napi::Value SetReceiveTimes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Open(env)) return env.Undefined();
    int on = info[0].ToBoolean().Value() ? 1 : 0;
    stamps_ = setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) == 0 && on == 1;
    return Napi::Boolean::New(env, stamps_);
  }

  // sendBatch(slab, offsets Uint32Array, lengths Uint32Array, addrs Uint32Array, ports Uint16Array,
  // start, end[, gsoStatus Int32Array]) -> datagrams sent from `start` (datagram k goes to
  // addrs[k*words..]:ports[k]; fewer than end-start:
  // EAGAIN, wait for writable), or -errno when datagram `start` itself was refused (the caller drops
  // it and goes on). With segmentation on, a run of datagrams to one peer, all of one length but the
  // last (which may be shorter), goes as one UDP GSO message (UDP_SEGMENT): one trip down the stack
  // for up to 64. When the kernel refuses a GSO message, the rest of the call goes plainly and
  // gsoStatus[0] gets the errno (0 when none was refused); segmentation stays on until
  // setSegmentation(false).
  Napi::Value SendBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Open(env)) return env.Undefined();
    uint8_t* slab;
    uint32_t* offsets;
    uint32_t* lengths;
    uint32_t* addrs;
    uint16_t* ports;
    int32_t* gsoStatus = nullptr;
    size_t slabLen, nOff, nLen, nAddrs, nPorts, nStatus = 0;
    if (!View(info, 0, napi_uint8_array, &slab, &slabLen, "slab must be a Uint8Array") ||
        !View(info, 1, napi_uint32_array, &offsets, &nOff, "offsets must be a Uint32Array") ||
        !View(info, 2, napi_uint32_array, &lengths, &nLen, "lengths must be a Uint32Array") ||
        !View(info, 3, napi_uint32_array, &addrs, &nAddrs, "addrs must be a Uint32Array") ||
        !View(info, 4, napi_uint16_array, &ports, &nPorts, "ports must be a Uint16Array")) {
      return env.Undefined();
    }
    if (info.Length() > 7 && !info[7].IsUndefined() &&
        !View(info, 7, napi_int32_array, &gsoStatus, &nStatus, "gsoStatus must be an Int32Array")) {
      return env.Undefined();
    }
    if (nStatus == 0) gsoStatus = nullptr;
    size_t start = info[5].As<Napi::Number>().Uint32Value();
    size_t end = info[6].As<Napi::Number>().Uint32Value();
    if (end > nOff) end = nOff;
    if (end > nLen) end = nLen;
    if (end > nAddrs / words_) end = nAddrs / words_;
    if (end > nPorts) end = nPorts;
    for (size_t k = start; k < end; k++) {
      if (static_cast<uint64_t>(offsets[k]) + lengths[k] > slabLen) {
        ThrowType(env, "offset + length is beyond the slab");
        return env.Undefined();
      }
    }
    if (gsoStatus != nullptr) gsoStatus[0] = 0;
    const SendArrays in{slab, offsets, lengths, addrs, ports};
    size_t sent = 0;
    bool gsoNow = gso_;
    while (start + sent < end) {
      size_t m = arena_.BuildSend(in, start + sent, end, gsoNow);
      int r;
      do {
        r = sendmmsg(fd_, arena_.msgs(), static_cast<unsigned>(m), MSG_DONTWAIT);
      } while (r < 0 && errno == EINTR);
      if (r < 0) {
        int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) break;
        if (arena_.Datagrams(0) > 1) {
          // The first message was a GSO run: send it plainly and tell the caller why it was refused.
          if (gsoStatus != nullptr) gsoStatus[0] = err;
          gsoNow = false;
          continue;
        }
        if (sent == 0) return Napi::Number::New(env, -err);
        break;  // the error shows again for that datagram on the next call
      }
      for (int j = 0; j < r; j++) sent += arena_.Datagrams(j);
      if (static_cast<size_t>(r) < m) break;  // partial: the socket is full, or the next one fails
    }
    return Napi::Number::New(env, static_cast<double>(sent));
  }

  // setSegmentation(on): whether sendBatch may use UDP GSO (on by default).
  Napi::Value SetSegmentation(const Napi::CallbackInfo& info) {
    gso_ = info[0].ToBoolean().Value();
    return info.Env().Undefined();
  }

  // segmentation() -> whether sendBatch uses UDP GSO.
  Napi::Value Segmentation(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), gso_); }

  // watchWritable(on): adds or removes UV_WRITABLE from the watched events.
  Napi::Value WatchWritable(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!poll_.active()) return env.Undefined();
    int rc = poll_.Watch(UV_READABLE | (info[0].ToBoolean().Value() ? UV_WRITABLE : 0));
    if (rc != 0) ThrowSock(env, -rc, "uv_poll_start", "watch", name_);
    return env.Undefined();
  }

  // local() -> { address (host-order IPv4; 0 for IPv6), port, name ("A.B.C.D:P" or "[V6]:P") }.
  Napi::Value Local(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Open(env)) return env.Undefined();
    struct sockaddr_in6 a;
    socklen_t len = sizeof a;
    if (getsockname(fd_, reinterpret_cast<struct sockaddr*>(&a), &len) < 0) {
      ThrowSock(env, errno, "getsockname", "inspect", name_);
      return env.Undefined();
    }
    Napi::Object out = Napi::Object::New(env);
    const struct sockaddr_in& sin = reinterpret_cast<const struct sockaddr_in&>(a);
    out.Set("address", Napi::Number::New(env, family_ == AF_INET6 ? 0 : ntohl(sin.sin_addr.s_addr)));
    out.Set("port", Napi::Number::New(env, ntohs(family_ == AF_INET6 ? a.sin6_port : sin.sin_port)));
    out.Set("name", Napi::String::New(env, Name(a)));
    return out;
  }

  // family() -> 4 or 6.
  Napi::Value Family(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), family_ == AF_INET6 ? 6 : 4); }

  // bufferSizes() -> { receive, send } as the kernel reports them (twice the request, capped).
  Napi::Value BufferSizes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Open(env)) return env.Undefined();
    int rcv = 0, snd = 0;
    socklen_t len = sizeof rcv;
    getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcv, &len);
    len = sizeof snd;
    getsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &snd, &len);
    Napi::Object out = Napi::Object::New(env);
    out.Set("receive", Napi::Number::New(env, rcv));
    out.Set("send", Napi::Number::New(env, snd));
    return out;
  }

  Napi::Value Ref(const Napi::CallbackInfo& info) {
    poll_.Ref(info[0].ToBoolean().Value());
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  int fd_ = -1;
  int family_ = AF_INET;
  size_t words_ = kWords4;
  std::string name_;
  PollWatcher poll_;
  MsgArena arena_;
  bool gso_ = true;
  bool gro_ = false;
  bool stamps_ = false;
};

}  // namespace

Napi::Function DefineUdpSocket(Napi::Env env) { return UdpSocket::Define(env); }

}  // namespace msnl
