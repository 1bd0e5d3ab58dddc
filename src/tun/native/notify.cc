// msnl_tun sd_notify(3)'s one syscall: a datagram to a unix socket (systemd's NOTIFY_SOCKET),
// which node:dgram cannot send (it has no AF_UNIX). A path starting with '@' names an abstract
// socket, as in systemd. Policy (when to send what) is src/daemon/sd-notify.ts's.
#include "common.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace msnl {

// sendUnixDatagram(path: string, message: string): number of bytes sent; throws with errno.
Napi::Value SendUnixDatagram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) {
    ThrowType(env, "sendUnixDatagram(path, message) takes two strings");
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string message = info[1].As<Napi::String>().Utf8Value();
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.size() < 2 || path.size() > sizeof addr.sun_path - 1 || (path[0] != '/' && path[0] != '@') ||
      path.find('\0') != std::string::npos) {
    ThrowType(env, "the socket path must be absolute or start with @, and fit in sun_path");
    return env.Undefined();
  }
  memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';
  socklen_t len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + path.size() + (path[0] == '@' ? 0 : 1));
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ThrowSys(env, errno, "socket");
    return env.Undefined();
  }
  ssize_t sent = sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<struct sockaddr*>(&addr), len);
  int err = errno;
  close(fd);
  if (sent < 0) {
    ThrowSys(env, err, "sendto");
    return env.Undefined();
  }
  return Napi::Number::New(env, static_cast<double>(sent));
}

}  // namespace msnl
