// msnl_tun AEAD batches: ChaCha20-Poly1305 (RFC 8439) seal and open over many datagrams in one
// N-API call, through the OpenSSL that Node.js itself links (EVP_*; Node exports the symbols, so
// nothing is linked here). Pure buffer work: the caller (src/crypto/aead.ts, src/msnl/secure.ts)
// chooses keys, counters and what to do with a failure; this file only transforms octets in place
// and writes one result per item. Every offset is checked against its array: a bad descriptor is a
// failed item, never a read or write out of bounds.
//
// Descriptor of item i, desc[i * 9 ..]: keyOffset (into `keys`), the 12-octet nonce as three
// little-endian words (Noise: 0, then the 64-bit counter's low and high words), adOffset,
// adLength, dataOffset, dataLength (into `buf`), result.
//  - seal: buf[dataOffset, +dataLength) is encrypted in place and the 16-octet tag written after
//    it; result = dataLength + 16, or 0 on failure.
//  - open: buf[dataOffset, +dataLength) is ciphertext then tag; the plaintext replaces it in place;
//    result = dataLength - 16, or 0xFFFFFFFF when it does not authenticate (what is left in buf is
//    then not to be trusted).
#include "common.h"

#include <openssl/evp.h>

namespace msnl {
namespace {

constexpr uint32_t kDescWords = 9;
constexpr uint32_t kKeySize = 32;
constexpr uint32_t kTagSize = 16;
constexpr uint32_t kFailed = 0xFFFFFFFFu;

bool ViewOf(Napi::Env env, napi_value v, napi_typedarray_type want, void** data, size_t* count) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is) return false;
  napi_typedarray_type type;
  napi_get_typedarray_info(env, v, &type, count, data, nullptr, nullptr);
  return type == want || (want == napi_uint8_array && type == napi_uint8_clamped_array);
}

// True when [offset, offset + length) lies inside an array of `size` octets.
inline bool Inside(uint64_t offset, uint64_t length, size_t size) {
  return offset <= size && length <= size - offset;
}

// One context per direction per thread, made once: re-keying a context is cheap, making one is not.
EVP_CIPHER_CTX* Context(bool encrypt) {
  static thread_local EVP_CIPHER_CTX* contexts[2] = {nullptr, nullptr};
  EVP_CIPHER_CTX*& ctx = contexts[encrypt ? 1 : 0];
  if (ctx == nullptr) {
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == nullptr) return nullptr;
    if (EVP_CipherInit_ex(ctx, EVP_chacha20_poly1305(), nullptr, nullptr, nullptr, encrypt ? 1 : 0) != 1) {
      EVP_CIPHER_CTX_free(ctx);
      ctx = nullptr;
    }
  }
  return ctx;
}

uint32_t SealOne(EVP_CIPHER_CTX* ctx, const uint8_t* key, const uint8_t* nonce, const uint8_t* ad, int adLength, uint8_t* data, int length) {
  int n = 0;
  if (EVP_CipherInit_ex(ctx, nullptr, nullptr, key, nonce, 1) != 1) return 0;
  if (adLength > 0 && EVP_CipherUpdate(ctx, nullptr, &n, ad, adLength) != 1) return 0;
  if (length > 0 && EVP_CipherUpdate(ctx, data, &n, data, length) != 1) return 0;
  if (EVP_CipherFinal_ex(ctx, data + length, &n) != 1) return 0;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagSize, data + length) != 1) return 0;
  return static_cast<uint32_t>(length) + kTagSize;
}

uint32_t OpenOne(EVP_CIPHER_CTX* ctx, const uint8_t* key, const uint8_t* nonce, const uint8_t* ad, int adLength, uint8_t* data, int length) {
  if (length < static_cast<int>(kTagSize)) return kFailed;
  int n = 0;
  int plain = length - static_cast<int>(kTagSize);
  if (EVP_CipherInit_ex(ctx, nullptr, nullptr, key, nonce, 0) != 1) return kFailed;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTagSize, data + plain) != 1) return kFailed;
  if (adLength > 0 && EVP_CipherUpdate(ctx, nullptr, &n, ad, adLength) != 1) return kFailed;
  if (plain > 0 && EVP_CipherUpdate(ctx, data, &n, data, plain) != 1) return kFailed;
  if (EVP_CipherFinal_ex(ctx, data + plain, &n) != 1) return kFailed;
  return static_cast<uint32_t>(plain);
}

// aeadSeal(keys, buf, desc, count) / aeadOpen(...): handles items 0..count-1; returns how many
// items were looked at (count, cut to what desc holds). Throws TypeError only for arguments of the
// wrong type; an item that cannot be done is a result, not an exception.
Napi::Value Batch(const Napi::CallbackInfo& info, bool encrypt) {
  Napi::Env env = info.Env();
  void* keysRaw = nullptr;
  void* bufRaw = nullptr;
  void* descRaw = nullptr;
  size_t keysLength = 0, bufLength = 0, descCount = 0;
  if (info.Length() < 4 || !ViewOf(env, info[0], napi_uint8_array, &keysRaw, &keysLength) ||
      !ViewOf(env, info[1], napi_uint8_array, &bufRaw, &bufLength) ||
      !ViewOf(env, info[2], napi_uint32_array, &descRaw, &descCount) || !info[3].IsNumber()) {
    ThrowType(env, "aead batch expects (keys: Uint8Array, buf: Uint8Array, desc: Uint32Array, count: number)");
    return env.Undefined();
  }
  int64_t asked = info[3].As<Napi::Number>().Int64Value();
  uint64_t count = asked < 0 ? 0 : static_cast<uint64_t>(asked);
  if (count > descCount / kDescWords) count = descCount / kDescWords;
  const uint8_t* keys = static_cast<const uint8_t*>(keysRaw);
  uint8_t* buf = static_cast<uint8_t*>(bufRaw);
  uint32_t* desc = static_cast<uint32_t*>(descRaw);
  EVP_CIPHER_CTX* ctx = Context(encrypt);
  const uint32_t failed = encrypt ? 0 : kFailed;
  uint8_t nonce[12];
  for (uint64_t i = 0; i < count; i++) {
    uint32_t* d = desc + i * kDescWords;
    uint32_t keyOffset = d[0], adOffset = d[4], adLength = d[5], dataOffset = d[6], dataLength = d[7];
    uint64_t room = encrypt ? static_cast<uint64_t>(dataLength) + kTagSize : dataLength;
    if (ctx == nullptr || !Inside(keyOffset, kKeySize, keysLength) || !Inside(adOffset, adLength, bufLength) ||
        !Inside(dataOffset, room, bufLength) || room > 0x7fffffff || adLength > 0x7fffffff) {
      d[8] = failed;
      continue;
    }
    for (int w = 0; w < 3; w++)
      for (int b = 0; b < 4; b++) nonce[4 * w + b] = static_cast<uint8_t>(d[1 + w] >> (8 * b));
    const uint8_t* key = keys + keyOffset;
    const uint8_t* ad = buf + adOffset;
    uint8_t* data = buf + dataOffset;
    d[8] = encrypt ? SealOne(ctx, key, nonce, ad, static_cast<int>(adLength), data, static_cast<int>(dataLength))
                   : OpenOne(ctx, key, nonce, ad, static_cast<int>(adLength), data, static_cast<int>(dataLength));
  }
  return Napi::Number::New(env, static_cast<double>(count));
}

}  // namespace

Napi::Value AeadSeal(const Napi::CallbackInfo& info) {
  return Batch(info, true);
}

Napi::Value AeadOpen(const Napi::CallbackInfo& info) {
  return Batch(info, false);
}

}  // namespace msnl
