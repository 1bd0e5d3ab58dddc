// msnl_tun AEAD batches: ChaCha20-Poly1305 (RFC 8439) seal and open over many datagrams in one
// N-API call, through the OpenSSL that Node.js itself links (Node exports the symbols, so nothing
// is linked here): its ChaCha20 and Poly1305 primitives where exported, EVP_* otherwise. Pure buffer work: the caller (src/crypto/aead.ts, src/msnl/secure.ts)
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
#include "aead.h"
#include "common.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

// OpenSSL's own ChaCha20 and Poly1305 (the assembly its EVP cipher runs), which a Node.js built
// with its bundled OpenSSL exports. Weak: a Node.js linked against a shared OpenSSL may not export
// them, and then every item goes through EVP. Declared as in OpenSSL's crypto/chacha.h and
// crypto/poly1305.h.
extern "C" {
void ChaCha20_ctr32(unsigned char* out, const unsigned char* in, size_t len, const unsigned int key[8], const unsigned int counter[4]) __attribute__((weak));
size_t Poly1305_ctx_size(void) __attribute__((weak));
void Poly1305_Init(void* ctx, const unsigned char key[32]) __attribute__((weak));
void Poly1305_Update(void* ctx, const unsigned char* in, size_t len) __attribute__((weak));
void Poly1305_Final(void* ctx, unsigned char mac[16]) __attribute__((weak));
}

namespace msnl {
namespace {

constexpr uint32_t kDescWords = 9;
constexpr uint32_t kKeySize = 32;
constexpr uint32_t kTagSize = 16;
constexpr uint32_t kFailed = 0xFFFFFFFFu;

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

// --- RFC 8439 section 2.8 over OpenSSL's ChaCha20 and Poly1305 -------------------------------
// EVP re-initialises its provider context and passes parameters by name for every message: about
// 0.5 us of fixed cost per datagram, as much as the cipher work on 1400 octets. This is the same
// construction EVP's chacha20-poly1305 runs, over the same two primitives, without that layer:
// the one-time Poly1305 key is the first 32 octets of keystream block 0, the data is enciphered
// from block 1, and the tag is Poly1305 over AD | pad16 | ciphertext | pad16 | le64(|AD|) |
// le64(|ciphertext|). Known-answer and differential tests: test/crypto/aead.test.ts.

constexpr size_t kPolyState = 512;

struct Direct {
  alignas(64) unsigned char poly[kPolyState];
  unsigned int key[8];
  unsigned int counter[4];
  unsigned char block[64];
};

bool DirectAvailable() {
  static const bool available = ChaCha20_ctr32 != nullptr && Poly1305_ctx_size != nullptr && Poly1305_Init != nullptr &&
                                Poly1305_Update != nullptr && Poly1305_Final != nullptr && Poly1305_ctx_size() <= kPolyState;
  return available;
}

inline unsigned int LoadLe32(const uint8_t* p) {
  return static_cast<unsigned int>(p[0]) | static_cast<unsigned int>(p[1]) << 8 | static_cast<unsigned int>(p[2]) << 16 |
         static_cast<unsigned int>(p[3]) << 24;
}

// Sets the key and the nonce, block counter 0.
void DirectKey(Direct& d, const uint8_t* key, const uint8_t* nonce) {
  for (int i = 0; i < 8; i++) d.key[i] = LoadLe32(key + 4 * i);
  d.counter[0] = 0;
  for (int i = 0; i < 3; i++) d.counter[1 + i] = LoadLe32(nonce + 4 * i);
}

// Sets the key and nonce, and starts Poly1305 with the one-time key from keystream block 0.
void DirectStart(Direct& d, const uint8_t* key, const uint8_t* nonce) {
  DirectKey(d, key, nonce);
  memset(d.block, 0, sizeof d.block);
  ChaCha20_ctr32(d.block, d.block, sizeof d.block, d.key, d.counter);
  Poly1305_Init(d.poly, d.block);
  OPENSSL_cleanse(d.block, sizeof d.block);
  d.counter[0] = 1;
}

const unsigned char kZeros[16] = {0};

void MacPadded(Direct& d, const uint8_t* text, size_t length) {
  Poly1305_Update(d.poly, text, length);
  if (length % 16 != 0) Poly1305_Update(d.poly, kZeros, 16 - length % 16);
}

// AD then text, each padded: one Poly1305 call for both where the AD is a whole number of blocks
// and the text follows it (a sealed frame's header and data: the same octets, and on 64-octet
// frames each Poly1305_Update call is a fair part of the whole MAC).
void MacBoth(Direct& d, const uint8_t* ad, size_t adLength, const uint8_t* text, size_t length) {
  if (adLength % 16 == 0 && ad + adLength == text) {
    MacPadded(d, ad, adLength + length);
    return;
  }
  MacPadded(d, ad, adLength);
  MacPadded(d, text, length);
}

void MacFinal(Direct& d, size_t adLength, size_t length, uint8_t tag[16]) {
  unsigned char lengths[16];
  for (int i = 0; i < 8; i++) {
    lengths[i] = static_cast<unsigned char>(static_cast<uint64_t>(adLength) >> (8 * i));
    lengths[8 + i] = static_cast<unsigned char>(static_cast<uint64_t>(length) >> (8 * i));
  }
  Poly1305_Update(d.poly, lengths, sizeof lengths);
  Poly1305_Final(d.poly, tag);
}

uint32_t DirectSeal(const uint8_t* key, const uint8_t* nonce, const uint8_t* ad, size_t adLength, uint8_t* data, size_t length) {
  static thread_local Direct d;
  DirectStart(d, key, nonce);
  MacPadded(d, ad, adLength);  // before the data changes, as EVP reads it (they may overlap)
  if (length > 0) ChaCha20_ctr32(data, data, length, d.key, d.counter);
  MacPadded(d, data, length);
  MacFinal(d, adLength, length, data + length);
  OPENSSL_cleanse(d.key, sizeof d.key);
  return static_cast<uint32_t>(length) + kTagSize;
}

// Checks the tag before deciphering anything: a forgery leaves the ciphertext as it came.
uint32_t DirectOpen(const uint8_t* key, const uint8_t* nonce, const uint8_t* ad, size_t adLength, uint8_t* data, size_t length) {
  static thread_local Direct d;
  if (length < kTagSize) return kFailed;
  size_t plain = length - kTagSize;
  unsigned char tag[kTagSize];
  DirectStart(d, key, nonce);
  MacPadded(d, ad, adLength);
  MacPadded(d, data, plain);
  MacFinal(d, adLength, plain, tag);
  uint32_t result = kFailed;
  if (CRYPTO_memcmp(tag, data + plain, kTagSize) == 0) {
    if (plain > 0) ChaCha20_ctr32(data, data, plain, d.key, d.counter);
    result = static_cast<uint32_t>(plain);
  }
  OPENSSL_cleanse(d.key, sizeof d.key);
  return result;
}

// One ChaCha20 call per item instead of two. Block 0 (the Poly1305 key) and the data's keystream
// are contiguous, so where the data has 64 octets of `buf` in front of it (batches leave room for
// that) those 64 octets are set aside, zeroed, enciphered with the data in one call from block 0,
// and put back: a second, 64-octet call cost as much as a third of a 1400-octet datagram's
// cipher work (perf: ChaCha20_avx512 beside ChaCha20_16x). Same octets out as DirectSeal/Open.

constexpr size_t kFront = 64;
// Open enciphers into this (the ciphertext must stay for the tag check): items up to this long.
constexpr size_t kJoinedOpenMax = 65536;

// data - kFront .. data lies inside the caller's buffer; ad does not overlap the data.
uint32_t JoinedSeal(const uint8_t* key, const uint8_t* nonce, const uint8_t* ad, size_t adLength, uint8_t* data, size_t length) {
  static thread_local Direct d;
  unsigned char saved[kFront];
  uint8_t* front = data - kFront;
  DirectKey(d, key, nonce);
  memcpy(saved, front, kFront);
  memset(front, 0, kFront);
  ChaCha20_ctr32(front, front, kFront + length, d.key, d.counter);
  Poly1305_Init(d.poly, front);
  memcpy(front, saved, kFront);  // the AD (when it lies there) is back before it is read
  MacBoth(d, ad, adLength, data, length);
  MacFinal(d, adLength, length, data + length);
  OPENSSL_cleanse(d.key, sizeof d.key);
  return static_cast<uint32_t>(length) + kTagSize;
}

// Enciphers [64 zero octets | ciphertext] into a scratch buffer, checks the tag over the
// ciphertext as it came, and only then copies the plaintext over it: a forgery leaves buf as it came.
uint32_t JoinedOpen(const uint8_t* key, const uint8_t* nonce, const uint8_t* ad, size_t adLength, uint8_t* data, size_t length) {
  static thread_local Direct d;
  alignas(64) static thread_local unsigned char scratch[kFront + kJoinedOpenMax];
  if (length < kTagSize) return kFailed;
  size_t plain = length - kTagSize;
  unsigned char saved[kFront];
  unsigned char tag[kTagSize];
  uint8_t* front = data - kFront;
  DirectKey(d, key, nonce);
  memcpy(saved, front, kFront);
  memset(front, 0, kFront);
  ChaCha20_ctr32(scratch, front, kFront + plain, d.key, d.counter);
  memcpy(front, saved, kFront);
  Poly1305_Init(d.poly, scratch);
  OPENSSL_cleanse(scratch, kFront);
  MacBoth(d, ad, adLength, data, plain);
  MacFinal(d, adLength, plain, tag);
  uint32_t result = kFailed;
  if (CRYPTO_memcmp(tag, data + plain, kTagSize) == 0) {
    memcpy(data, scratch + kFront, plain);
    result = static_cast<uint32_t>(plain);
  }
  OPENSSL_cleanse(d.key, sizeof d.key);
  return result;
}

// --- EVP ----------------------------------------------------------------------------------------

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
  if (info.Length() < 4 || !TypedArrayOf(env, info[0], napi_uint8_array, &keysRaw, &keysLength) ||
      !TypedArrayOf(env, info[1], napi_uint8_array, &bufRaw, &bufLength) ||
      !TypedArrayOf(env, info[2], napi_uint32_array, &descRaw, &descCount) || !info[3].IsNumber()) {
    ThrowType(env, "aead batch expects (keys: Uint8Array, buf: Uint8Array, desc: Uint32Array, count: number)");
    return env.Undefined();
  }
  int64_t asked = info[3].As<Napi::Number>().Int64Value();
  uint64_t count = asked < 0 ? 0 : static_cast<uint64_t>(asked);
  if (count > descCount / kDescWords) count = descCount / kDescWords;
  const uint8_t* keys = static_cast<const uint8_t*>(keysRaw);
  uint8_t* buf = static_cast<uint8_t*>(bufRaw);
  uint32_t* desc = static_cast<uint32_t*>(descRaw);
  // A fifth argument `true` asks for EVP even where the primitives are there (the tests compare both).
  const bool direct = DirectAvailable() && !(info.Length() > 4 && info[4].IsBoolean() && info[4].As<Napi::Boolean>().Value());
  EVP_CIPHER_CTX* ctx = direct ? nullptr : Context(encrypt);
  const uint32_t failed = encrypt ? 0 : kFailed;
  uint8_t nonce[12];
  for (uint64_t i = 0; i < count; i++) {
    uint32_t* d = desc + i * kDescWords;
    uint32_t keyOffset = d[0], adOffset = d[4], adLength = d[5], dataOffset = d[6], dataLength = d[7];
    uint64_t room = encrypt ? static_cast<uint64_t>(dataLength) + kTagSize : dataLength;
    if ((!direct && ctx == nullptr) || !Inside(keyOffset, kKeySize, keysLength) || !Inside(adOffset, adLength, bufLength) ||
        !Inside(dataOffset, room, bufLength) || room > 0x7fffffff || adLength > 0x7fffffff) {
      d[8] = failed;
      continue;
    }
    for (int w = 0; w < 3; w++)
      for (int b = 0; b < 4; b++) nonce[4 * w + b] = static_cast<uint8_t>(d[1 + w] >> (8 * b));
    const uint8_t* key = keys + keyOffset;
    const uint8_t* ad = buf + adOffset;
    uint8_t* data = buf + dataOffset;
    const bool apart = static_cast<uint64_t>(adOffset) + adLength <= dataOffset || adOffset >= static_cast<uint64_t>(dataOffset) + room;
    const bool joined = direct && dataOffset >= kFront && apart && (encrypt || dataLength <= kJoinedOpenMax + kTagSize);
    if (joined) {
      d[8] = encrypt ? JoinedSeal(key, nonce, ad, adLength, data, dataLength) : JoinedOpen(key, nonce, ad, adLength, data, dataLength);
    } else if (direct) {
      d[8] = encrypt ? DirectSeal(key, nonce, ad, adLength, data, dataLength) : DirectOpen(key, nonce, ad, adLength, data, dataLength);
    } else {
      d[8] = encrypt ? SealOne(ctx, key, nonce, ad, static_cast<int>(adLength), data, static_cast<int>(dataLength))
                     : OpenOne(ctx, key, nonce, ad, static_cast<int>(adLength), data, static_cast<int>(dataLength));
    }
  }
  return Napi::Number::New(env, static_cast<double>(count));
}

}  // namespace

// One item as Batch does it, for the other batch primitives (aead-segments.cc): the joined
// ChaCha20 call when `frontRoom` (64 octets of the caller's buffer before data, apart from the
// AD), else the direct primitives, else EVP.
uint32_t SealItem(const uint8_t* key, const uint8_t nonce[12], const uint8_t* ad, size_t adLength, uint8_t* data, size_t length, bool frontRoom) {
  if (!DirectAvailable()) {
    EVP_CIPHER_CTX* ctx = Context(true);
    if (ctx == nullptr || length > 0x7fffffff || adLength > 0x7fffffff) return 0;
    return SealOne(ctx, key, nonce, ad, static_cast<int>(adLength), data, static_cast<int>(length));
  }
  return frontRoom ? JoinedSeal(key, nonce, ad, adLength, data, length) : DirectSeal(key, nonce, ad, adLength, data, length);
}

// aeadImplementation() -> 'openssl-primitives' when the batches run on ChaCha20_ctr32 and
// Poly1305 directly, 'evp' when those are not exported and every item goes through EVP.
Napi::Value AeadImplementation(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), DirectAvailable() ? "openssl-primitives" : "evp");
}

Napi::Value AeadSeal(const Napi::CallbackInfo& info) {
  return Batch(info, true);
}

Napi::Value AeadOpen(const Napi::CallbackInfo& info) {
  return Batch(info, false);
}

}  // namespace msnl
