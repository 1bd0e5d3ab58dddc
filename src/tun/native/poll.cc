// PollWatcher (common.h): the uv_poll lifecycle shared by FdPoll and UdpSocket. Start, change the
// watched events, ref/unref, stop; each event calls the JS callback with (status, events) inside
// its async context, and an exception it throws goes to process 'uncaughtException'.
#include "common.h"

#include <memory>

namespace msnl {

struct PollWatcher::State {
  uv_poll_t handle;
  Napi::FunctionReference callback;
  std::unique_ptr<Napi::AsyncContext> context;
  napi_env env;
};

int PollWatcher::Start(Napi::Env env, int fd, const Napi::Function& callback, const char* resource, const char** syscall) {
  Stop();
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  auto* st = new State();
  st->env = env;
  int rc = uv_poll_init(loop, &st->handle, fd);
  if (rc != 0) {
    delete st;  // libuv holds nothing of a handle whose init failed
    *syscall = "uv_poll_init";
    return rc;
  }
  st->handle.data = st;
  st->callback = Napi::Persistent(callback);
  st->context = std::make_unique<Napi::AsyncContext>(env, resource);
  state_ = st;
  rc = uv_poll_start(&st->handle, UV_READABLE, OnEvent);
  if (rc != 0) {
    Stop();
    *syscall = "uv_poll_start";
  }
  return rc;
}

int PollWatcher::Watch(int events) {
  if (state_ == nullptr) return UV_EBADF;
  return uv_poll_start(&state_->handle, events, OnEvent);
}

void PollWatcher::Ref(bool keepAlive) {
  if (state_ == nullptr) return;
  auto* h = reinterpret_cast<uv_handle_t*>(&state_->handle);
  if (keepAlive) uv_ref(h); else uv_unref(h);
}

void PollWatcher::Stop() {
  if (state_ == nullptr) return;
  State* st = state_;
  state_ = nullptr;
  uv_poll_stop(&st->handle);
  // Closing removes the fd from epoll now; the state goes when libuv is done with the handle.
  uv_close(reinterpret_cast<uv_handle_t*>(&st->handle), [](uv_handle_t* h) { delete static_cast<State*>(h->data); });
}

void PollWatcher::OnEvent(uv_poll_t* handle, int status, int events) {
  auto* st = static_cast<State*>(handle->data);
  Napi::Env env(st->env);
  Napi::HandleScope scope(env);
  st->callback.MakeCallback(env.Global(), {Napi::Number::New(env, status), Napi::Number::New(env, events)}, *st->context);
  if (env.IsExceptionPending()) {
    Napi::Error e = env.GetAndClearPendingException();
    napi_fatal_exception(env, e.Value());
  }
}

}  // namespace msnl
