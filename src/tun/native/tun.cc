// msnl_tun: the syscalls behind src/tun. TUN open (IFF_TUN | IFF_NO_PI), batched non-blocking
// read/write into caller-owned buffers, uv_poll readiness (never the libuv threadpool), and the
// interface ioctls (MTU, IPv4 address/netmask/peer, flags, ifindex). With `offload`, the fd
// carries a virtio_net_hdr in front of every packet (IFF_VNET_HDR) and the kernel may hand over
// TCP super-packets with partial checksums (TUNSETOFFLOAD TUN_F_CSUM | TUN_F_TSO4), as
// wireguard-go does; src/tunnel/tcp-offload.ts cuts and joins them. Stats and address events
// are in netlink.cc. Functions take fds and names; the TypeScript side owns object lifetimes.
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uv.h>

#include <memory>

namespace msnl {

void ThrowSys(Napi::Env env, int err, const char* syscall) {
  Napi::Error e = Napi::Error::New(env, strerror(err));
  e.Value().Set("errno", Napi::Number::New(env, err));
  e.Value().Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
}

void ThrowType(Napi::Env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
}

bool IfName(const Napi::CallbackInfo& info, size_t index, std::string* out) {
  if (info.Length() <= index || !info[index].IsString()) {
    ThrowType(info.Env(), "interface name must be a string");
    return false;
  }
  *out = info[index].As<Napi::String>().Utf8Value();
  if (out->empty() || out->size() >= IFNAMSIZ) {
    ThrowType(info.Env(), "interface name must be 1..15 bytes");
    return false;
  }
  return true;
}

namespace {

// ---- TUN fd ---------------------------------------------------------------------------------

// openTun(name, nonBlocking, offload) -> { fd, name, vnetHeader, offload }: creates the device,
// or attaches to a persistent one. With offload it asks for virtio_net_hdr framing and TCPv4
// segmentation offload; vnetHeader says whether packets carry the header, offload whether the
// kernel agreed to hand over super-packets (a kernel that refuses leaves plain checksummed ones).
Napi::Value OpenTun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  if (!IfName(info, 0, &name)) return env.Undefined();
  bool nonBlocking = info.Length() < 2 || info[1].ToBoolean().Value();
  bool wantOffload = info.Length() >= 3 && info[2].ToBoolean().Value();
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | (nonBlocking ? O_NONBLOCK : 0));
  if (fd < 0) {
    ThrowSys(env, errno, "open /dev/net/tun");
    return env.Undefined();
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (wantOffload ? IFF_VNET_HDR : 0);
  memcpy(ifr.ifr_name, name.data(), name.size());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    ThrowSys(env, err, "TUNSETIFF");
    return env.Undefined();
  }
  bool offload = wantOffload && ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) == 0;
  Napi::Object result = Napi::Object::New(env);
  result.Set("fd", Napi::Number::New(env, fd));
  result.Set("name", Napi::String::New(env, ifr.ifr_name));
  result.Set("vnetHeader", Napi::Boolean::New(env, wantOffload));
  result.Set("offload", Napi::Boolean::New(env, offload));
  return result;
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (fd >= 0) close(fd);
  return info.Env().Undefined();
}

// readBatch(fd, bufs, sizes, offset) -> n >= 0 packets read, or -errno when the first read failed.
// One read() is one packet; stops at EAGAIN or when bufs is full. sizes[i] gets packet i's length,
// the packet itself lands at bufs[i][offset..].
Napi::Value ReadBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Array bufs = info[1].As<Napi::Array>();
  Napi::Int32Array sizes = info[2].As<Napi::Int32Array>();
  uint32_t offset = info[3].As<Napi::Number>().Uint32Value();
  uint32_t n = bufs.Length();
  if (sizes.ElementLength() < n) n = sizes.ElementLength();
  int32_t* out = sizes.Data();
  uint32_t i = 0;
  while (i < n) {
    Napi::Value v = bufs[i];
    if (!v.IsBuffer()) {
      ThrowType(env, "bufs must hold Buffers");
      return env.Undefined();
    }
    Napi::Buffer<uint8_t> b = v.As<Napi::Buffer<uint8_t>>();
    if (b.Length() <= offset) {
      ThrowType(env, "a buffer is not larger than the headroom offset");
      return env.Undefined();
    }
    ssize_t r = read(fd, b.Data() + offset, b.Length() - offset);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (i == 0) return Napi::Number::New(env, -errno);
      break;  // the error shows again on the next call
    }
    out[i++] = static_cast<int32_t>(r);
  }
  return Napi::Number::New(env, i);
}

// write(fd, buf, offset, length) -> bytes written, or -errno.
Napi::Value Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<uint8_t> b = info[1].As<Napi::Buffer<uint8_t>>();
  uint32_t offset = info[2].As<Napi::Number>().Uint32Value();
  uint32_t length = info[3].As<Napi::Number>().Uint32Value();
  if (static_cast<uint64_t>(offset) + length > b.Length()) {
    ThrowType(env, "offset + length is beyond the buffer");
    return env.Undefined();
  }
  ssize_t r;
  do {
    r = write(fd, b.Data() + offset, length);
  } while (r < 0 && errno == EINTR);
  return Napi::Number::New(env, r < 0 ? -errno : r);
}

// writeWithHeader(fd, header, buf, offset, length) -> bytes written, or -errno: one writev of the
// header (a virtio_net_hdr) and the packet, so callers need no room in front of the packet.
Napi::Value WriteWithHeader(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<uint8_t> h = info[1].As<Napi::Buffer<uint8_t>>();
  Napi::Buffer<uint8_t> b = info[2].As<Napi::Buffer<uint8_t>>();
  uint32_t offset = info[3].As<Napi::Number>().Uint32Value();
  uint32_t length = info[4].As<Napi::Number>().Uint32Value();
  if (static_cast<uint64_t>(offset) + length > b.Length()) {
    ThrowType(env, "offset + length is beyond the buffer");
    return env.Undefined();
  }
  struct iovec iov[2];
  iov[0].iov_base = h.Data();
  iov[0].iov_len = h.Length();
  iov[1].iov_base = b.Data() + offset;
  iov[1].iov_len = length;
  ssize_t r;
  do {
    r = writev(fd, iov, 2);
  } while (r < 0 && errno == EINTR);
  return Napi::Number::New(env, r < 0 ? -errno : r);
}

// writeBatch(fd, bufs, sizes, offset, start, end) -> packets written from index start (stops at
// EAGAIN), or -errno when packet `start` itself failed (the caller drops it and goes on).
Napi::Value WriteBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Array bufs = info[1].As<Napi::Array>();
  Napi::Int32Array sizes = info[2].As<Napi::Int32Array>();
  uint32_t offset = info[3].As<Napi::Number>().Uint32Value();
  uint32_t start = info[4].As<Napi::Number>().Uint32Value();
  uint32_t end = info[5].As<Napi::Number>().Uint32Value();
  if (end > bufs.Length()) end = bufs.Length();
  if (end > sizes.ElementLength()) end = sizes.ElementLength();
  const int32_t* len = sizes.Data();
  uint32_t i = start;
  while (i < end) {
    Napi::Value v = bufs[i];
    if (!v.IsBuffer()) {
      ThrowType(env, "bufs must hold Buffers");
      return env.Undefined();
    }
    Napi::Buffer<uint8_t> b = v.As<Napi::Buffer<uint8_t>>();
    if (len[i] < 0 || static_cast<uint64_t>(offset) + static_cast<uint32_t>(len[i]) > b.Length()) {
      ThrowType(env, "offset + size is beyond the buffer");
      return env.Undefined();
    }
    ssize_t r = write(fd, b.Data() + offset, len[i]);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (i == start) return Napi::Number::New(env, -errno);
      break;
    }
    i++;
  }
  return Napi::Number::New(env, i - start);
}

// ---- readiness: uv_poll on the main loop ----------------------------------------------------

// new FdPoll(fd, callback): calls callback() once per readable event until close().
class FdPoll : public Napi::ObjectWrap<FdPoll> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FdPoll",
                       {InstanceMethod("close", &FdPoll::Close), InstanceMethod("ref", &FdPoll::Ref)});
  }

  explicit FdPoll(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FdPoll>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
      ThrowType(env, "FdPoll(fd, callback)");
      return;
    }
    int fd = info[0].As<Napi::Number>().Int32Value();
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    auto* st = new PollState();
    st->env = env;
    int rc = uv_poll_init(loop, &st->handle, fd);
    if (rc != 0) {
      delete st;
      ThrowSys(env, -rc, "uv_poll_init");
      return;
    }
    st->handle.data = st;
    st->callback = Napi::Persistent(info[1].As<Napi::Function>());
    st->context = std::make_unique<Napi::AsyncContext>(env, "msnl_tun_poll");
    rc = uv_poll_start(&st->handle, UV_READABLE, OnEvent);
    state_ = st;
    if (rc != 0) {
      Shutdown();
      ThrowSys(env, -rc, "uv_poll_start");
    }
  }

  ~FdPoll() override { Shutdown(); }

 private:
  static void OnEvent(uv_poll_t* handle, int status, int /*events*/) {
    auto* st = static_cast<PollState*>(handle->data);
    Napi::Env env(st->env);
    Napi::HandleScope scope(env);
    st->callback.MakeCallback(env.Global(), {Napi::Number::New(env, status)}, *st->context);
    if (env.IsExceptionPending()) {
      Napi::Error e = env.GetAndClearPendingException();
      napi_fatal_exception(env, e.Value());
    }
  }

  void Shutdown() {
    if (state_ == nullptr) return;
    PollState* st = state_;
    state_ = nullptr;
    uv_poll_stop(&st->handle);
    // Closing removes the fd from epoll now; the state goes when libuv is done with the handle.
    uv_close(reinterpret_cast<uv_handle_t*>(&st->handle),
             [](uv_handle_t* h) { delete static_cast<PollState*>(h->data); });
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (state_ != nullptr) {
      auto* h = reinterpret_cast<uv_handle_t*>(&state_->handle);
      if (info[0].ToBoolean().Value()) uv_ref(h); else uv_unref(h);
    }
    return info.Env().Undefined();
  }

  PollState* state_ = nullptr;
};

// ---- interface ioctls (AF_INET datagram socket) ---------------------------------------------

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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("openTun", Napi::Function::New(env, OpenTun));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("readBatch", Napi::Function::New(env, ReadBatch));
  exports.Set("write", Napi::Function::New(env, Write));
  exports.Set("writeBatch", Napi::Function::New(env, WriteBatch));
  exports.Set("writeWithHeader", Napi::Function::New(env, WriteWithHeader));
  exports.Set("FdPoll", FdPoll::Define(env));
  exports.Set("setMtu", Napi::Function::New(env, SetMtu));
  exports.Set("getMtu", Napi::Function::New(env, GetMtu));
  exports.Set("setAddress", Napi::Function::New(env, SetAddress));
  exports.Set("getAddress", Napi::Function::New(env, GetAddress));
  exports.Set("getFlags", Napi::Function::New(env, GetFlags));
  exports.Set("setUp", Napi::Function::New(env, SetUp));
  exports.Set("ifindex", Napi::Function::New(env, IfIndex));
  exports.Set("linkStats", Napi::Function::New(env, LinkStats));
  exports.Set("addrMonitorOpen", Napi::Function::New(env, AddrMonitorOpen));
  exports.Set("addrMonitorRead", Napi::Function::New(env, AddrMonitorRead));
  exports.Set("UdpSocket", DefineUdpSocket(env));
  return exports;
}

}  // namespace
}  // namespace msnl

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return msnl::Init(env, exports); }

NODE_API_MODULE(msnl_tun, InitModule)
