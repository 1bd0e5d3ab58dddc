// Batched TUN reads through io_uring (uring.cc): many read()s of one fd for one syscall.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace msnl {

// UringReadSlab's answer when io_uring cannot be used here (no io_uring, disabled, or the fd
// refuses RWF_NOWAIT reads): the caller reads with read() instead.
constexpr int64_t kUringUnavailable = INT64_MIN + 1;

// Reads up to n packets of the non-blocking fd, packet i at base + i * stride (at most stride
// octets), sizes[i] its length, in the order the device queued them. Returns how many (0 when
// none was queued), -errno when the first read failed, or kUringUnavailable.
int64_t UringReadSlab(int fd, uint8_t* base, size_t stride, uint64_t n, int32_t* sizes);

// Whether this thread's ring is set up and has not been refused (set up now when not yet tried).
bool UringUsable();

}  // namespace msnl
