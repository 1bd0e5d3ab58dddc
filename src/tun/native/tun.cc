// Placeholder translation unit so the addon target builds before the TUN issue lands.
#include <napi.h>

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return exports; }

NODE_API_MODULE(msnl_tun, Init)
