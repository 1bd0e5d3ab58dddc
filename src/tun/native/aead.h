// What aead.cc shares with the other AEAD batch primitives of the addon (aead-segments.cc).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace msnl {

// True when [offset, offset + length) lies inside an array of `size` octets.
inline bool Inside(uint64_t offset, uint64_t length, size_t size) {
  return offset <= size && length <= size - offset;
}

// Seals data[0, length) in place under key (32 octets) and the 12-octet nonce, AD ad[0, adLength),
// and writes the 16-octet tag after it: length + 16, or 0 on failure. `frontRoom`: the 64 octets
// before data lie inside the caller's buffer (borrowed and put back as they were: one cipher call
// instead of two); the AD must not overlap data[0, length + 16) either way.
uint32_t SealItem(const uint8_t* key, const uint8_t nonce[12], const uint8_t* ad, size_t adLength, uint8_t* data, size_t length, bool frontRoom);

}  // namespace msnl
