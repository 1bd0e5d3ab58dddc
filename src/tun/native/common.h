// Shared helpers of the msnl_tun addon: syscall errors as JS exceptions, argument access.
// The addon only does syscalls; naming the device and the cause in error text is the TypeScript
// wrapper's job (src/tun/errors.ts), so every thrown Error carries `errno` and `syscall`.
#pragma once

#include <napi.h>
#include <uv.h>

#include <memory>
#include <string>

namespace msnl {

// A uv_poll watcher's state that must outlive its JS object until libuv's close callback has run
// (FdPoll in tun.cc and UdpSocket in udp.cc); handle.data points back at it.
struct PollState {
  uv_poll_t handle;
  Napi::FunctionReference callback;
  std::unique_ptr<Napi::AsyncContext> context;
  napi_env env;
};

// Throws Error(strerror(err)) with numeric `errno` and the failing `syscall` attached.
void ThrowSys(Napi::Env env, int err, const char* syscall);

// Throws TypeError(message).
void ThrowType(Napi::Env env, const char* message);

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

// udp.cc: the UdpSocket class (batched IPv4 UDP for the underlay).
Napi::Function DefineUdpSocket(Napi::Env env);

}  // namespace msnl
