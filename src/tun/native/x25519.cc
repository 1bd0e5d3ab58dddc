// msnl_tun X25519 (RFC 7748) on raw 32-octet keys, through the OpenSSL that Node.js itself links:
// its ossl_x25519 and ossl_x25519_public_from_private where exported (the functions its X25519
// key exchange runs), EVP_PKEY on raw keys otherwise. node:crypto's diffieHellman needs a
// KeyObject for each key, made by importing it (JWK or DER, 35 to 1000 us the first time), which
// is what a handshake with a new ephemeral or a new peer pays; this takes the octets as they are.
// Pure computation: the caller (src/crypto/primitives.ts) decides what a failure means.
//
// x25519(out, privateKey, publicKey | null[, evp]) -> boolean: writes X25519(privateKey, publicKey)
// into out[0, 32), or with publicKey null the public key of privateKey (X25519 with the base point).
// False, out then zeroed, when an argument is not 32 octets or the result is all zero (a low-order
// peer point: RFC 7748 section 6.1). `evp` true: through EVP even where the functions are exported
// (the tests compare both).
#include "common.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

// As declared in OpenSSL 3's include/crypto/ecx.h. Weak: a Node.js linked against a shared OpenSSL
// does not export them, and then every call goes through EVP.
extern "C" {
int ossl_x25519(uint8_t out_shared_key[32], const uint8_t private_key[32], const uint8_t peer_public_value[32]) __attribute__((weak));
void ossl_x25519_public_from_private(uint8_t out_public_value[32], const uint8_t private_key[32]) __attribute__((weak));
}

namespace msnl {
namespace {

constexpr size_t kKey = 32;

bool DirectAvailable() {
  return ossl_x25519 != nullptr && ossl_x25519_public_from_private != nullptr;
}

bool AllZero(const uint8_t* p) {
  uint8_t any = 0;
  for (size_t i = 0; i < kKey; i++) any |= p[i];
  return any == 0;
}

bool EvpPublic(uint8_t* out, const uint8_t* priv) {
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, priv, kKey);
  if (key == nullptr) return false;
  size_t length = kKey;
  const bool ok = EVP_PKEY_get_raw_public_key(key, out, &length) == 1 && length == kKey;
  EVP_PKEY_free(key);
  return ok;
}

bool EvpShared(uint8_t* out, const uint8_t* priv, const uint8_t* pub) {
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, priv, kKey);
  EVP_PKEY* peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, pub, kKey);
  EVP_PKEY_CTX* ctx = key == nullptr ? nullptr : EVP_PKEY_CTX_new(key, nullptr);
  size_t length = kKey;
  const bool ok = ctx != nullptr && peer != nullptr && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, peer) == 1 &&
                  EVP_PKEY_derive(ctx, out, &length) == 1 && length == kKey;
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(peer);
  EVP_PKEY_free(key);
  return ok;
}

}  // namespace

Napi::Value X25519(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  void* outRaw = nullptr;
  void* privRaw = nullptr;
  void* pubRaw = nullptr;
  size_t outLength = 0, privLength = 0, pubLength = 0;
  const bool withPeer = info.Length() >= 3 && !info[2].IsNull() && !info[2].IsUndefined();
  if (info.Length() < 3 || !TypedArrayOf(env, info[0], napi_uint8_array, &outRaw, &outLength) ||
      !TypedArrayOf(env, info[1], napi_uint8_array, &privRaw, &privLength) ||
      (withPeer && !TypedArrayOf(env, info[2], napi_uint8_array, &pubRaw, &pubLength))) {
    ThrowType(env, "x25519 expects (out: Uint8Array, privateKey: Uint8Array, publicKey: Uint8Array | null)");
    return env.Undefined();
  }
  uint8_t* out = static_cast<uint8_t*>(outRaw);
  if (outLength < kKey) return Napi::Boolean::New(env, false);
  if (privLength != kKey || (withPeer && pubLength != kKey)) {
    memset(out, 0, kKey);
    return Napi::Boolean::New(env, false);
  }
  const bool evp = !DirectAvailable() || (info.Length() > 3 && info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value());
  // Copies: the arrays may overlap (out may be the private key's own array).
  uint8_t priv[kKey], pub[kKey], result[kKey];
  memcpy(priv, privRaw, kKey);
  if (withPeer) memcpy(pub, pubRaw, kKey);
  bool ok;
  if (!withPeer) {
    if (evp) ok = EvpPublic(result, priv);
    else {
      ossl_x25519_public_from_private(result, priv);
      ok = true;
    }
  } else {
    ok = evp ? EvpShared(result, priv, pub) : ossl_x25519(result, priv, pub) == 1;
  }
  ok = ok && !AllZero(result);
  if (ok) memcpy(out, result, kKey);
  else memset(out, 0, kKey);
  OPENSSL_cleanse(priv, kKey);
  OPENSSL_cleanse(result, kKey);
  return Napi::Boolean::New(env, ok);
}

// x25519Implementation() -> 'openssl-primitives' (ossl_x25519 called directly) or 'evp'.
Napi::Value X25519Implementation(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), DirectAvailable() ? "openssl-primitives" : "evp");
}

}  // namespace msnl
