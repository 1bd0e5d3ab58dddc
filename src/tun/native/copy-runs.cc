// msnl_tun: many copies from one array into another by one N-API call (the reassembler joins the
// opened segments of a keyed packet with it: ms3 is 45-47 segments per 64 KiB packet, and a
// Buffer.copy of each made a typed-array view per segment on Node 20). Pure buffer work: the
// caller (src/msnl/sar.ts) chooses every range; this file only checks them and copies.
//
// copyRuns(src, dst: Uint8Array, runs: Int32Array, count: number) -> count, or -1:
//  - run i is runs[3i .. 3i + 2]: from (into src), to (into dst), length;
//  - every run is checked against both arrays before any is copied: a run out of range, a
//    negative field, count out of 0..runs.length / 3 or a non-integer count is -1 and nothing is
//    copied (never a read or write out of bounds). Overlapping runs are copied in order.
#include "common.h"

#include <string.h>

namespace msnl {

Napi::Value CopyRuns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  void *src = nullptr, *dst = nullptr, *runsRaw = nullptr;
  size_t srcLength = 0, dstLength = 0, runsLength = 0;
  if (info.Length() < 4 || !TypedArrayOf(env, info[0], napi_uint8_array, &src, &srcLength) ||
      !TypedArrayOf(env, info[1], napi_uint8_array, &dst, &dstLength) || !TypedArrayOf(env, info[2], napi_int32_array, &runsRaw, &runsLength) ||
      !info[3].IsNumber()) {
    ThrowType(env, "copyRuns expects (src, dst: Uint8Array, runs: Int32Array, count: number)");
    return env.Undefined();
  }
  const Napi::Number bad = Napi::Number::New(env, -1);
  const double countD = info[3].As<Napi::Number>().DoubleValue();
  // runsLength counts elements (TypedArrayOf reports the typed array's length).
  if (!(countD >= 0 && countD <= static_cast<double>(runsLength / 3)) || countD != static_cast<double>(static_cast<size_t>(countD))) return bad;
  const size_t count = static_cast<size_t>(countD);
  const int32_t* runs = static_cast<const int32_t*>(runsRaw);
  for (size_t i = 0; i < count; i++) {
    const int32_t from = runs[3 * i], to = runs[3 * i + 1], length = runs[3 * i + 2];
    if (from < 0 || to < 0 || length < 0) return bad;
    const size_t f = static_cast<size_t>(from), t = static_cast<size_t>(to), n = static_cast<size_t>(length);
    if (f > srcLength || n > srcLength - f || t > dstLength || n > dstLength - t) return bad;
  }
  uint8_t* s = static_cast<uint8_t*>(src);
  uint8_t* d = static_cast<uint8_t*>(dst);
  for (size_t i = 0; i < count; i++) memmove(d + runs[3 * i + 1], s + runs[3 * i], static_cast<size_t>(runs[3 * i + 2]));
  return Napi::Number::New(env, static_cast<double>(count));
}

}  // namespace msnl
