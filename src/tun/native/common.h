// Shared declarations of the msnl_tun addon: syscall errors as JS exceptions, argument access, the
// uv_poll watcher, and the entry points each .cc file defines. The addon only does syscalls and
// returns plain values; naming the device or socket and the cause, and every policy, is the
// TypeScript side's job (src/tun/errors.ts, src/msdl/udp-batch.ts), so every thrown Error
// carries `errno` and `syscall`.
#pragma once

#include <napi.h>
#include <uv.h>

#include <stdint.h>

#include <string>

namespace msnl {

// A uv_poll watcher on the main loop (never the libuv threadpool) that calls a JS function with
// (status, events) on every event: FdPoll (tun.cc) and UdpSocket (udp.cc) both hold one. The state
// libuv points at outlives the owner until libuv's close callback has run, so Stop() may be called
// from a destructor. poll.cc.
class PollWatcher {
 public:
  PollWatcher() = default;
  PollWatcher(const PollWatcher&) = delete;
  PollWatcher& operator=(const PollWatcher&) = delete;
  ~PollWatcher() { Stop(); }

  // Watches fd for UV_READABLE; `resource` names the async context. Returns 0, or a libuv error
  // (a negative errno) with *syscall naming the call that failed; nothing is left to undo then.
  int Start(Napi::Env env, int fd, const Napi::Function& callback, const char* resource, const char** syscall);
  // Watches for `events` (UV_READABLE | UV_WRITABLE ...) from now on: 0 or a libuv error.
  int Watch(int events);
  // Whether the watcher keeps the event loop alive (it does after Start).
  void Ref(bool keepAlive);
  // Stops watching and closes the handle; idempotent.
  void Stop();
  bool active() const { return state_ != nullptr; }

 private:
  struct State;
  static void OnEvent(uv_poll_t* handle, int status, int events);
  State* state_ = nullptr;
};

// Throws Error(strerror(err)) with numeric `errno` and the failing `syscall` attached.
void ThrowSys(Napi::Env env, int err, const char* syscall);

// Throws TypeError(message).
void ThrowType(Napi::Env env, const char* message);

// The raw contents of `v` when it is a typed array of `type` (a Buffer or Uint8ClampedArray counts
// as a Uint8Array); false, nothing thrown, otherwise.
bool TypedArrayOf(Napi::Env env, napi_value v, napi_typedarray_type type, void** data, size_t* count);

// Argument `index` as a typed array of `type`; false (TypeError(what) thrown) when it is not one.
template <typename T>
bool View(const Napi::CallbackInfo& info, size_t index, napi_typedarray_type type, T** data, size_t* count, const char* what) {
  void* raw = nullptr;
  if (!TypedArrayOf(info.Env(), info[index], type, &raw, count)) {
    ThrowType(info.Env(), what);
    return false;
  }
  *data = static_cast<T*>(raw);
  return true;
}

// Reads an interface name argument (1..15 bytes); throws TypeError and returns false otherwise.
bool IfName(const Napi::CallbackInfo& info, size_t index, std::string* out);

// ifconfig.cc: interface ioctls by name.
Napi::Value SetMtu(const Napi::CallbackInfo& info);
Napi::Value GetMtu(const Napi::CallbackInfo& info);
Napi::Value SetAddress(const Napi::CallbackInfo& info);
Napi::Value GetAddress(const Napi::CallbackInfo& info);
Napi::Value GetFlags(const Napi::CallbackInfo& info);
Napi::Value SetUp(const Napi::CallbackInfo& info);
Napi::Value IfIndex(const Napi::CallbackInfo& info);

// netlink.cc
Napi::Value LinkStats(const Napi::CallbackInfo& info);
Napi::Value AddrMonitorOpen(const Napi::CallbackInfo& info);
Napi::Value AddrMonitorRead(const Napi::CallbackInfo& info);

// notify.cc: one datagram to a unix socket (sd_notify's NOTIFY_SOCKET).
Napi::Value SendUnixDatagram(const Napi::CallbackInfo& info);
// routeMtu(address | octets, offset) -> the MTU of the route to an IPv4 or IPv6 address, or -errno (pmtu.cc).
Napi::Value RouteMtuOf(const Napi::CallbackInfo& info);

// aead.cc: ChaCha20-Poly1305 seal and open over a batch of datagrams (OpenSSL EVP, in place).
Napi::Value AeadSeal(const Napi::CallbackInfo& info);
Napi::Value AeadOpen(const Napi::CallbackInfo& info);
// aead-segments.cc: one large packet cut into sealed segments by one call.
Napi::Value AeadSealSegments(const Napi::CallbackInfo& info);
Napi::Value AeadImplementation(const Napi::CallbackInfo& info);
// copy-runs.cc: many ranges of one array copied into another by one call.
Napi::Value CopyRuns(const Napi::CallbackInfo& info);
// x25519.cc: X25519 on raw 32-octet keys (one shared secret or one public key a call).
Napi::Value X25519(const Napi::CallbackInfo& info);
Napi::Value X25519Implementation(const Napi::CallbackInfo& info);
// hkdf.cc: the Noise HKDF (2 or 3 outputs) over HMAC-BLAKE2s in one call.
Napi::Value NoiseHkdf(const Napi::CallbackInfo& info);
Napi::Value Blake2s(const Napi::CallbackInfo& info);
Napi::Value HmacBlake2s(const Napi::CallbackInfo& info);

// udp.cc: the UdpSocket class (batched IPv4 UDP for the underlay).
Napi::Function DefineUdpSocket(Napi::Env env);
// udp-set.cc: many connected UDP sockets behind one epoll watch (the bench's load generator).
Napi::Function DefineUdpSocketSet(Napi::Env env);

}  // namespace msnl
