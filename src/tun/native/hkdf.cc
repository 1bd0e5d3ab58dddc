// msnl_tun Noise HKDF (Noise spec section 4.3, the BLAKE2s variant WireGuard uses) in one call:
// HMAC-BLAKE2s-256 through OpenSSL's EVP_MAC (the OpenSSL Node.js links; the HMAC and the hash are
// OpenSSL's, only the chaining of HKDF's steps is here). node:crypto makes an Hmac object, and
// looks the digest up by name, for each of HKDF's three or four HMACs: about a third of a
// handshake's CPU. Pure computation: the caller (src/crypto/primitives.ts) decides the rest.
//
// noiseHkdf(out, chainingKey, input, outputs) -> boolean: temp = HMAC(chainingKey, input);
// output 1 = HMAC(temp, 0x01); output i = HMAC(temp, output i-1 | i), for i up to `outputs` (2 or
// 3), written to out[0, 32 * outputs). False, nothing written, on a bad argument or an OpenSSL
// failure (then the caller uses node:crypto).
//
// blake2s(out, a, b) -> boolean: BLAKE2s-256(a | b) into out[0, 32) (b may be null); and
// hmacBlake2s(out, key, a, b) -> boolean: HMAC-BLAKE2s-256(key, a | b) likewise. The handshake's
// MixHash and its mac1/mac2: node:crypto makes a Hash or Hmac object for each (2-3 us warm, tens
// of us in a first call set-up). False, nothing written, on a bad argument or an OpenSSL failure.
#include "common.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>

namespace msnl {
namespace {

constexpr size_t kHash = 32;

// One HMAC-BLAKE2s-256 context per thread, made once; each HMAC re-keys it (EVP_MAC_init).
EVP_MAC_CTX* Context() {
  static thread_local EVP_MAC_CTX* ctx = nullptr;
  static thread_local bool failed = false;
  if (ctx != nullptr || failed) return ctx;
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac != nullptr) {
    ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);  // the context holds its own reference
  }
  char digest[] = "BLAKE2S-256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  if (ctx != nullptr && EVP_MAC_CTX_set_params(ctx, params) != 1) {
    EVP_MAC_CTX_free(ctx);
    ctx = nullptr;
  }
  failed = ctx == nullptr;
  return ctx;
}

// out = HMAC(key, a | b); true on success.
bool Hmac(EVP_MAC_CTX* ctx, const uint8_t* key, size_t keyLength, const uint8_t* a, size_t aLength, const uint8_t* b, size_t bLength, uint8_t out[kHash]) {
  size_t length = 0;
  return EVP_MAC_init(ctx, key, keyLength, nullptr) == 1 && (aLength == 0 || EVP_MAC_update(ctx, a, aLength) == 1) &&
         (bLength == 0 || EVP_MAC_update(ctx, b, bLength) == 1) && EVP_MAC_final(ctx, out, &length, kHash) == 1 && length == kHash;
}

// One BLAKE2s-256 digest context per thread, made once.
EVP_MD_CTX* DigestContext(const EVP_MD** md) {
  static thread_local EVP_MD_CTX* ctx = nullptr;
  static thread_local EVP_MD* fetched = nullptr;
  static thread_local bool failed = false;
  if (ctx == nullptr && !failed) {
    fetched = EVP_MD_fetch(nullptr, "BLAKE2S-256", nullptr);
    ctx = fetched == nullptr ? nullptr : EVP_MD_CTX_new();
    failed = ctx == nullptr;
  }
  *md = fetched;
  return ctx;
}

// The optional second part: null/undefined (empty) or a Uint8Array; false for anything else.
bool OptionalPart(Napi::Env env, const Napi::Value& v, void** data, size_t* length) {
  *data = nullptr;
  *length = 0;
  if (v.IsNull() || v.IsUndefined()) return true;
  return TypedArrayOf(env, v, napi_uint8_array, data, length);
}

}  // namespace

Napi::Value Blake2s(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  void *outRaw = nullptr, *aRaw = nullptr, *bRaw = nullptr;
  size_t outLength = 0, aLength = 0, bLength = 0;
  if (info.Length() < 2 || !TypedArrayOf(env, info[0], napi_uint8_array, &outRaw, &outLength) ||
      !TypedArrayOf(env, info[1], napi_uint8_array, &aRaw, &aLength) || !OptionalPart(env, info.Length() > 2 ? info[2] : env.Undefined(), &bRaw, &bLength)) {
    ThrowType(env, "blake2s expects (out: Uint8Array, a: Uint8Array, b?: Uint8Array | null)");
    return env.Undefined();
  }
  const EVP_MD* md = nullptr;
  EVP_MD_CTX* ctx = DigestContext(&md);
  if (ctx == nullptr || outLength < kHash) return Napi::Boolean::New(env, false);
  uint8_t result[kHash];
  unsigned int length = 0;
  const bool ok = EVP_DigestInit_ex(ctx, md, nullptr) == 1 && (aLength == 0 || EVP_DigestUpdate(ctx, aRaw, aLength) == 1) &&
                  (bLength == 0 || EVP_DigestUpdate(ctx, bRaw, bLength) == 1) && EVP_DigestFinal_ex(ctx, result, &length) == 1 && length == kHash;
  if (ok) memcpy(outRaw, result, kHash);  // the inputs may overlap out
  return Napi::Boolean::New(env, ok);
}

Napi::Value HmacBlake2s(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  void *outRaw = nullptr, *keyRaw = nullptr, *aRaw = nullptr, *bRaw = nullptr;
  size_t outLength = 0, keyLength = 0, aLength = 0, bLength = 0;
  if (info.Length() < 3 || !TypedArrayOf(env, info[0], napi_uint8_array, &outRaw, &outLength) ||
      !TypedArrayOf(env, info[1], napi_uint8_array, &keyRaw, &keyLength) || !TypedArrayOf(env, info[2], napi_uint8_array, &aRaw, &aLength) ||
      !OptionalPart(env, info.Length() > 3 ? info[3] : env.Undefined(), &bRaw, &bLength)) {
    ThrowType(env, "hmacBlake2s expects (out: Uint8Array, key: Uint8Array, a: Uint8Array, b?: Uint8Array | null)");
    return env.Undefined();
  }
  EVP_MAC_CTX* ctx = Context();
  if (ctx == nullptr || outLength < kHash || keyLength == 0) return Napi::Boolean::New(env, false);
  uint8_t result[kHash];
  const bool ok = Hmac(ctx, static_cast<const uint8_t*>(keyRaw), keyLength, static_cast<const uint8_t*>(aRaw), aLength,
                       static_cast<const uint8_t*>(bRaw), bLength, result);
  if (ok) memcpy(outRaw, result, kHash);
  OPENSSL_cleanse(result, sizeof result);
  return Napi::Boolean::New(env, ok);
}

Napi::Value NoiseHkdf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  void* outRaw = nullptr;
  void* ckRaw = nullptr;
  void* inputRaw = nullptr;
  size_t outLength = 0, ckLength = 0, inputLength = 0;
  if (info.Length() < 4 || !TypedArrayOf(env, info[0], napi_uint8_array, &outRaw, &outLength) ||
      !TypedArrayOf(env, info[1], napi_uint8_array, &ckRaw, &ckLength) || !TypedArrayOf(env, info[2], napi_uint8_array, &inputRaw, &inputLength) ||
      !info[3].IsNumber()) {
    ThrowType(env, "noiseHkdf expects (out: Uint8Array, chainingKey: Uint8Array, input: Uint8Array, outputs: number)");
    return env.Undefined();
  }
  const int64_t outputs = info[3].As<Napi::Number>().Int64Value();
  EVP_MAC_CTX* ctx = Context();
  if (ctx == nullptr || (outputs != 2 && outputs != 3) || outLength < kHash * static_cast<size_t>(outputs) || ckLength != kHash) {
    return Napi::Boolean::New(env, false);
  }
  // The inputs may overlap out: read them before anything is written.
  uint8_t ck[kHash], temp[kHash], result[3 * kHash];
  memcpy(ck, ckRaw, kHash);
  bool ok = Hmac(ctx, ck, kHash, static_cast<const uint8_t*>(inputRaw), inputLength, nullptr, 0, temp);
  for (int64_t i = 0; ok && i < outputs; i++) {
    const uint8_t counter = static_cast<uint8_t>(i + 1);
    ok = i == 0 ? Hmac(ctx, temp, kHash, &counter, 1, nullptr, 0, result) : Hmac(ctx, temp, kHash, result + (i - 1) * kHash, kHash, &counter, 1, result + i * kHash);
  }
  if (ok) memcpy(outRaw, result, kHash * static_cast<size_t>(outputs));
  OPENSSL_cleanse(ck, sizeof ck);
  OPENSSL_cleanse(temp, sizeof temp);
  OPENSSL_cleanse(result, sizeof result);
  return Napi::Boolean::New(env, ok);
}

}  // namespace msnl
