// msnl_tun: the syscalls behind src/tun. TUN open (IFF_TUN | IFF_NO_PI), batched non-blocking
// read/write into caller-owned buffers, readiness by a PollWatcher (poll.cc), and the module's
// export table (ifconfig.cc, netlink.cc and udp.cc add theirs). With `offload`, the fd
// carries a virtio_net_hdr in front of every packet (IFF_VNET_HDR) and the kernel may hand over
// TCP super-packets with partial checksums (TUNSETOFFLOAD TUN_F_CSUM | TUN_F_TSO4), as
// wireguard-go does; src/tunnel/tcp-offload.ts cuts and joins them. Stats and address events
// are in netlink.cc. Functions take fds and names; the TypeScript side owns object lifetimes.
#include "common.h"
#include "uring.h"

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


// TUN_F_USO4 and TUN_F_USO6 of linux/if_tun.h (6.2+), spelled out for older headers; the kernel
// takes them only together.
#define MSNL_TUN_F_USO 0x60

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

bool TypedArrayOf(Napi::Env env, napi_value v, napi_typedarray_type type, void** data, size_t* count) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type actual;
  if (napi_get_typedarray_info(env, v, &actual, count, data, nullptr, nullptr) != napi_ok) return false;
  return actual == type || (type == napi_uint8_array && actual == napi_uint8_clamped_array);
}

// bufs[i] as a Buffer of at least offset + need octets; false (TypeError thrown) otherwise. The one
// argument check of readBatch (need 1: room for a packet) and writeBatch (need: the packet's size).
static bool BufferAt(Napi::Env env, const Napi::Array& bufs, uint32_t i, uint32_t offset, uint32_t need, Napi::Buffer<uint8_t>* out) {
  Napi::Value v = bufs[i];
  if (!v.IsBuffer()) {
    ThrowType(env, "bufs must hold Buffers");
    return false;
  }
  *out = v.As<Napi::Buffer<uint8_t>>();
  if (out->Length() < offset || out->Length() - offset < need) {
    ThrowType(env, "a buffer has no room for the packet after the headroom offset");
    return false;
  }
  return true;
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
  // Whether the kernel takes UDP_L4 super-packets (Linux 6.2+): it knows TUN_F_USO4 | TUN_F_USO6
  // then. Only a probe: reads must not yield UDP super-packets, so the flags go back to CSUM | TSO4.
  bool udpSegmentation = false;
  if (offload && ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | MSNL_TUN_F_USO) == 0) {
    udpSegmentation = ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) == 0;
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("fd", Napi::Number::New(env, fd));
  result.Set("name", Napi::String::New(env, ifr.ifr_name));
  result.Set("vnetHeader", Napi::Boolean::New(env, wantOffload));
  result.Set("offload", Napi::Boolean::New(env, offload));
  result.Set("udpSegmentation", Napi::Boolean::New(env, udpSegmentation));
  return result;
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (fd >= 0) close(fd);
  return info.Env().Undefined();
}

// The (fd, bufs, sizes, offset) arguments readBatch and writeBatch share.
struct BatchArgs {
  explicit BatchArgs(const Napi::CallbackInfo& info)
      : fd(info[0].As<Napi::Number>().Int32Value()),
        bufs(info[1].As<Napi::Array>()),
        sizes(info[2].As<Napi::Int32Array>()),
        offset(info[3].As<Napi::Number>().Uint32Value()) {}
  int fd;
  Napi::Array bufs;
  Napi::Int32Array sizes;
  uint32_t offset;
};

// The loop readBatch and readSlab share: one read() is one packet, into where(i, &at, &room)
// (false when it threw a JavaScript exception), until EAGAIN or n packets; out[i] gets packet i's
// length. Returns the packets read, -errno when the first read failed, or kThrew.
static const int64_t kThrew = INT64_MIN;
template <typename Where>
static int64_t ReadEach(int fd, uint64_t n, int32_t* out, Where where) {
  uint64_t i = 0;
  while (i < n) {
    uint8_t* at = nullptr;
    size_t room = 0;
    if (!where(i, &at, &room)) return kThrew;
    ssize_t r = read(fd, at, room);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (i == 0) return -errno;
      break;  // the error shows again on the next call
    }
    out[i++] = static_cast<int32_t>(r);
  }
  return static_cast<int64_t>(i);
}

// readBatch(fd, bufs, sizes, offset) -> n >= 0 packets read, or -errno when the first read failed.
// One read() is one packet; stops at EAGAIN or when bufs is full. sizes[i] gets packet i's length,
// the packet itself lands at bufs[i][offset..].
Napi::Value ReadBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BatchArgs a(info);
  uint32_t n = a.bufs.Length();
  if (a.sizes.ElementLength() < n) n = a.sizes.ElementLength();
  int64_t r = ReadEach(a.fd, n, a.sizes.Data(), [&](uint64_t i, uint8_t** at, size_t* room) {
    Napi::Buffer<uint8_t> b;
    if (!BufferAt(env, a.bufs, static_cast<uint32_t>(i), a.offset, 1, &b)) return false;
    *at = b.Data() + a.offset;
    *room = b.Length() - a.offset;
    return true;
  });
  return r == kThrew ? env.Undefined() : Napi::Number::New(env, static_cast<double>(r));
}

// readSlab(fd, slab, stride, sizes, ring?) -> n >= 0 packets read, or -errno when the first read failed.
// As readBatch, but packet i lands at slab[i * stride] (at most stride octets) and sizes[i] gets its
// length: one Uint8Array for the whole batch, so a read costs no N-API lookup of its own buffer
// (readBatch's BufferAt was 7 % of a sending msnld's CPU with 64-octet packets). With `ring` true,
// the reads of a batch go through io_uring, many for one syscall (uring.cc), where it can be used.
Napi::Value ReadSlab(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsTypedArray() || !info[2].IsNumber() || !info[3].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
      info[3].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    ThrowType(env, "readSlab expects (fd: number, slab: Uint8Array, stride: number, sizes: Int32Array)");
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Uint8Array slab = info[1].As<Napi::Uint8Array>();
  int64_t stride = info[2].As<Napi::Number>().Int64Value();
  Napi::Int32Array sizes = info[3].As<Napi::Int32Array>();
  if (stride <= 0 || stride > 0x7fffffff) {
    ThrowType(env, "stride must be 1..2^31-1");
    return env.Undefined();
  }
  uint64_t n = sizes.ElementLength();
  if (slab.ElementLength() / static_cast<uint64_t>(stride) < n) n = slab.ElementLength() / static_cast<uint64_t>(stride);
  uint8_t* base = slab.Data();
  if (info.Length() > 4 && info[4].ToBoolean().Value()) {
    int64_t u = UringReadSlab(fd, base, static_cast<size_t>(stride), n, sizes.Data());
    if (u != kUringUnavailable) return Napi::Number::New(env, static_cast<double>(u));
  }
  int64_t r = ReadEach(fd, n, sizes.Data(), [&](uint64_t i, uint8_t** at, size_t* room) {
    *at = base + i * static_cast<uint64_t>(stride);
    *room = static_cast<size_t>(stride);
    return true;
  });
  return Napi::Number::New(env, static_cast<double>(r));
}

// readRingUsable() -> whether readSlab's io_uring reads work on this thread (false once refused;
// sets the ring up when not yet tried).
Napi::Value ReadRingUsable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), UringUsable());
}

// The packet argument (buf, offset, length) at info[index..index+2] as an iovec; false (TypeError
// thrown) when it runs beyond the buffer.
bool PacketAt(const Napi::CallbackInfo& info, size_t index, struct iovec* out) {
  Napi::Buffer<uint8_t> b = info[index].As<Napi::Buffer<uint8_t>>();
  uint32_t offset = info[index + 1].As<Napi::Number>().Uint32Value();
  uint32_t length = info[index + 2].As<Napi::Number>().Uint32Value();
  if (static_cast<uint64_t>(offset) + length > b.Length()) {
    ThrowType(info.Env(), "offset + length is beyond the buffer");
    return false;
  }
  out->iov_base = b.Data() + offset;
  out->iov_len = length;
  return true;
}

// One writev, retried on EINTR: bytes written, or -errno.
Napi::Value WritevResult(Napi::Env env, int fd, const struct iovec* iov, int count) {
  ssize_t r;
  do {
    r = writev(fd, iov, count);
  } while (r < 0 && errno == EINTR);
  return Napi::Number::New(env, r < 0 ? -errno : r);
}

// write(fd, buf, offset, length) -> bytes written, or -errno.
Napi::Value Write(const Napi::CallbackInfo& info) {
  struct iovec iov;
  if (!PacketAt(info, 1, &iov)) return info.Env().Undefined();
  return WritevResult(info.Env(), info[0].As<Napi::Number>().Int32Value(), &iov, 1);
}

// writeWithHeader(fd, header, buf, offset, length) -> bytes written, or -errno: one writev of the
// header (a virtio_net_hdr) and the packet, so callers need no room in front of the packet.
Napi::Value WriteWithHeader(const Napi::CallbackInfo& info) {
  struct iovec iov[2];
  Napi::Buffer<uint8_t> h = info[1].As<Napi::Buffer<uint8_t>>();
  iov[0].iov_base = h.Data();
  iov[0].iov_len = h.Length();
  if (!PacketAt(info, 2, &iov[1])) return info.Env().Undefined();
  return WritevResult(info.Env(), info[0].As<Napi::Number>().Int32Value(), iov, 2);
}

// writeBatch(fd, bufs, sizes, offset, start, end) -> packets written from index start (stops at
// EAGAIN), or -errno when packet `start` itself failed (the caller drops it and goes on).
Napi::Value WriteBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const BatchArgs a(info);
  uint32_t start = info[4].As<Napi::Number>().Uint32Value();
  uint32_t end = info[5].As<Napi::Number>().Uint32Value();
  if (end > a.bufs.Length()) end = a.bufs.Length();
  if (end > a.sizes.ElementLength()) end = a.sizes.ElementLength();
  const int32_t* len = a.sizes.Data();
  uint32_t i = start;
  while (i < end) {
    Napi::Buffer<uint8_t> b;
    if (len[i] < 0) {
      ThrowType(env, "sizes must not be negative");
      return env.Undefined();
    }
    if (!BufferAt(env, a.bufs, i, a.offset, static_cast<uint32_t>(len[i]), &b)) return env.Undefined();
    ssize_t r = write(a.fd, b.Data() + a.offset, len[i]);
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

// new FdPoll(fd, callback): calls callback(status, events) once per readable event until close().
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
    const char* syscall = "";
    int rc = poll_.Start(env, info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Function>(), "msnl_tun_poll", &syscall);
    if (rc != 0) ThrowSys(env, -rc, syscall);
  }

 private:
  Napi::Value Close(const Napi::CallbackInfo& info) {
    poll_.Stop();
    return info.Env().Undefined();
  }

  Napi::Value Ref(const Napi::CallbackInfo& info) {
    poll_.Ref(info[0].ToBoolean().Value());
    return info.Env().Undefined();
  }

  PollWatcher poll_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("openTun", Napi::Function::New(env, OpenTun));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("readBatch", Napi::Function::New(env, ReadBatch));
  exports.Set("readSlab", Napi::Function::New(env, ReadSlab));
  exports.Set("readRingUsable", Napi::Function::New(env, ReadRingUsable));
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
  exports.Set("UdpSocketSet", DefineUdpSocketSet(env));
  exports.Set("sendUnixDatagram", Napi::Function::New(env, SendUnixDatagram));
  exports.Set("aeadSeal", Napi::Function::New(env, AeadSeal));
  exports.Set("aeadOpen", Napi::Function::New(env, AeadOpen));
  exports.Set("aeadSealSegments", Napi::Function::New(env, AeadSealSegments));
  exports.Set("aeadImplementation", Napi::Function::New(env, AeadImplementation));
  exports.Set("copyRuns", Napi::Function::New(env, CopyRuns));
  exports.Set("x25519", Napi::Function::New(env, X25519));
  exports.Set("x25519Implementation", Napi::Function::New(env, X25519Implementation));
  exports.Set("noiseHkdf", Napi::Function::New(env, NoiseHkdf));
  exports.Set("blake2s", Napi::Function::New(env, Blake2s));
  exports.Set("hmacBlake2s", Napi::Function::New(env, HmacBlake2s));
  exports.Set("routeMtu", Napi::Function::New(env, RouteMtuOf));
  return exports;
}

}  // namespace
}  // namespace msnl

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return msnl::Init(env, exports); }

NODE_API_MODULE(msnl_tun, InitModule)
