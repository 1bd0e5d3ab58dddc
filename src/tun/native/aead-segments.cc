// msnl_tun: a large packet cut into sealed segments by one N-API call (ms3: a 64 KiB packet is
// 45-47 datagrams). Pure buffer work: the caller (src/msnl/secure-segments.ts) chooses the key,
// the first counter, the chunk size and both headers; this file lays each segment out as
// [sealed header | data header | chunk | tag] end to end in `out` and seals it, the way sealing
// each segment through aeadSeal would (test/crypto/aead-segments.test.ts compares the octets).
// Every offset is checked against its array: bad arguments are a 0 result, never a read or
// write out of bounds.
//
// aeadSealSegments(key, heads, src, srcOffset, length, chunk, counter, out, at) -> segments:
//  - heads: 32 octets, the sealed header (16: its octets 8..15 are replaced by segment i's counter,
//    counter + i, 64-bit big-endian) then the data header (16: its octets 14..15 by the segment's
//    offset into the packet, 16-bit big-endian);
//  - segment i carries src[srcOffset + i * chunk, + min(chunk, rest)) and starts at
//    out[at + i * (chunk + 48)]; it is 48 + its chunk octets long; the AD is its sealed header, the
//    sealed data its data header and chunk, the nonce (0, counter + i) as Noise's.
// Returns the number of segments, ceil(length / chunk), or 0 when an argument is out of range
// (length 1..65535, chunk 1..65535, counter + segments <= 2^53, src and out ranges inside their
// arrays).
#include "aead.h"
#include "common.h"

#include <string.h>

namespace msnl {
namespace {

constexpr size_t kHead = 16;
constexpr size_t kTag = 16;
constexpr size_t kFront = 64;

bool BytesOf(Napi::Env env, napi_value v, uint8_t** data, size_t* length) {
  void* raw = nullptr;
  if (!TypedArrayOf(env, v, napi_uint8_array, &raw, length)) return false;
  *data = static_cast<uint8_t*>(raw);
  return true;
}

inline void PutBe32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace

Napi::Value AeadSealSegments(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t *key = nullptr, *heads = nullptr, *src = nullptr, *out = nullptr;
  size_t keyLength = 0, headsLength = 0, srcLength = 0, outLength = 0;
  if (info.Length() < 9 || !BytesOf(env, info[0], &key, &keyLength) || !BytesOf(env, info[1], &heads, &headsLength) ||
      !BytesOf(env, info[2], &src, &srcLength) || !BytesOf(env, info[7], &out, &outLength)) {
    ThrowType(env, "aeadSealSegments expects (key, heads, src: Uint8Array, srcOffset, length, chunk, counter: number, out: Uint8Array, at: number)");
    return env.Undefined();
  }
  for (size_t i : {3, 4, 5, 6, 8}) {
    if (!info[i].IsNumber()) {
      ThrowType(env, "aeadSealSegments expects (key, heads, src: Uint8Array, srcOffset, length, chunk, counter: number, out: Uint8Array, at: number)");
      return env.Undefined();
    }
  }
  const Napi::Number zero = Napi::Number::New(env, 0);
  const double srcOffsetD = info[3].As<Napi::Number>().DoubleValue(), lengthD = info[4].As<Napi::Number>().DoubleValue();
  const double chunkD = info[5].As<Napi::Number>().DoubleValue(), counterD = info[6].As<Napi::Number>().DoubleValue();
  const double atD = info[8].As<Napi::Number>().DoubleValue();
  // Integers in range only (NaN fails every comparison).
  if (!(lengthD >= 1 && lengthD <= 65535 && chunkD >= 1 && chunkD <= 65535 && srcOffsetD >= 0 && srcOffsetD <= 4294967295.0 &&
        atD >= 0 && atD <= 4294967295.0 && counterD >= 0 && counterD < 9007199254740992.0) ||
      lengthD != static_cast<double>(static_cast<uint64_t>(lengthD)) || chunkD != static_cast<double>(static_cast<uint64_t>(chunkD)) ||
      srcOffsetD != static_cast<double>(static_cast<uint64_t>(srcOffsetD)) || atD != static_cast<double>(static_cast<uint64_t>(atD)) ||
      counterD != static_cast<double>(static_cast<uint64_t>(counterD)) || keyLength < 32 || headsLength < 2 * kHead)
    return zero;
  const uint64_t length = static_cast<uint64_t>(lengthD), chunk = static_cast<uint64_t>(chunkD);
  const uint64_t srcOffset = static_cast<uint64_t>(srcOffsetD), at = static_cast<uint64_t>(atD);
  const uint64_t counter = static_cast<uint64_t>(counterD);
  const uint64_t count = (length + chunk - 1) / chunk;
  if (counter + count > (uint64_t{1} << 53) || !Inside(srcOffset, length, srcLength) || !Inside(at, length + count * (2 * kHead + kTag), outLength))
    return zero;
  const uint64_t stride = chunk + 2 * kHead + kTag;
  uint8_t nonce[12] = {0};
  for (uint64_t i = 0; i < count; i++) {
    const uint64_t from = i * chunk;
    const uint64_t n = length - from < chunk ? length - from : chunk;
    uint8_t* seg = out + at + i * stride;
    const uint64_t c = counter + i;
    const uint32_t hi = static_cast<uint32_t>(c >> 32), lo = static_cast<uint32_t>(c);
    memcpy(seg, heads, 2 * kHead);
    PutBe32(seg + 8, hi);
    PutBe32(seg + 12, lo);
    seg[kHead + 14] = static_cast<uint8_t>(from >> 8);
    seg[kHead + 15] = static_cast<uint8_t>(from);
    memmove(seg + 2 * kHead, src + srcOffset + from, n);
    for (int b = 0; b < 4; b++) {
      nonce[4 + b] = static_cast<uint8_t>(lo >> (8 * b));
      nonce[8 + b] = static_cast<uint8_t>(hi >> (8 * b));
    }
    uint8_t* data = seg + kHead;
    const bool frontRoom = static_cast<uint64_t>(data - out) >= kFront;
    if (SealItem(key, nonce, seg, kHead, data, kHead + n, frontRoom) != kHead + n + kTag) return zero;
  }
  return Napi::Number::New(env, static_cast<double>(count));
}

}  // namespace msnl
