// Batched TUN reads through io_uring. TUN has no read of many packets: each read() is one packet
// and one syscall, which on a sending msnld with 64-octet packets was the largest item of its
// profile (bench/README.md). Here one io_uring_enter submits a run of reads of the fd, each with
// RWF_NOWAIT, so a read finding nothing queued completes at once with -EAGAIN instead of waiting:
// the kernel runs them one after another, in order, inside the one syscall. A run starts at 2
// reads and doubles while every read finds a packet (a lone packet then costs one syscall with 2
// reads, where read() took two syscalls: the packet and the EAGAIN), and the next call starts at
// the full batch when the last one on the same fd filled it (the burst goes on).
//
// One ring per thread, made on first use, and every call waits for all its completions before it
// returns: nothing the kernel does touches the caller's slab afterwards, and no state is kept per
// fd. Where io_uring cannot be used (not built into the kernel, disabled by
// kernel.io_uring_disabled, refused by a seccomp filter, or the device refusing RWF_NOWAIT),
// UringReadSlab says so once and the caller reads with read() from then on.
#include "uring.h"

#include <errno.h>
#include <linux/io_uring.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

namespace msnl {
namespace {

constexpr unsigned kEntries = 64;
constexpr unsigned kFirstRun = 2;

class Ring {
 public:
  ~Ring() { Close(); }

  // True when the ring is set up (setting it up on first use).
  bool Ready() {
    if (state_ == 0) state_ = Setup() ? 1 : -1;
    return state_ == 1;
  }

  // Reads are refused by this device or kernel: read() from now on.
  void Refuse() {
    Close();
    state_ = -1;
  }

  // A packet was read through the ring: errors from now on are the device's, not the ring's.
  void Proven() { proven_ = true; }
  bool proven() const { return proven_; }

  // Submits `count` reads of fd, read i into base + (first + i) * stride; waits for all of them
  // and puts their results in res[0..count). False when the ring failed (then Refuse()d).
  bool Run(int fd, uint8_t* base, size_t stride, uint64_t first, unsigned count, int32_t* res) {
    unsigned tail = *sq_tail_;
    for (unsigned i = 0; i < count; i++) {
      unsigned idx = (tail + i) & *sq_mask_;
      struct io_uring_sqe* s = &sqes_[idx];
      memset(s, 0, sizeof(*s));
      s->opcode = IORING_OP_READ;
      s->fd = fd;
      s->addr = reinterpret_cast<uint64_t>(base + (first + i) * stride);
      s->len = static_cast<uint32_t>(stride);
      s->off = static_cast<uint64_t>(-1);  // the file position: a character device has none
      s->rw_flags = RWF_NOWAIT;
      s->user_data = i;
      sq_array_[idx] = idx;
    }
    __atomic_store_n(sq_tail_, tail + count, __ATOMIC_RELEASE);
    unsigned toSubmit = count;
    unsigned done = 0;
    for (int tries = 0; done < count; tries++) {
      int r = static_cast<int>(syscall(__NR_io_uring_enter, fd_, toSubmit, count - done, IORING_ENTER_GETEVENTS, nullptr, 0));
      if (r >= 0) {
        toSubmit -= static_cast<unsigned>(r) < toSubmit ? static_cast<unsigned>(r) : toSubmit;
      } else if ((errno != EINTR && errno != EAGAIN && errno != EBUSY) || tries > 1000) {
        Refuse();  // closing the ring cancels what is left of it
        return false;
      }
      unsigned head = *cq_head_;
      unsigned ctail = __atomic_load_n(cq_tail_, __ATOMIC_ACQUIRE);
      for (; head != ctail; head++) {
        const struct io_uring_cqe* c = &cqes_[head & *cq_mask_];
        if (c->user_data < count) res[c->user_data] = c->res;
        done++;
      }
      __atomic_store_n(cq_head_, head, __ATOMIC_RELEASE);
    }
    return true;
  }

  // The run the next call on fd hint_fd starts with (another fd starts at kFirstRun).
  unsigned hint = kFirstRun;
  int hint_fd = -1;

 private:
  bool Setup() {
    struct io_uring_params p;
    memset(&p, 0, sizeof(p));
    int fd = static_cast<int>(syscall(__NR_io_uring_setup, kEntries, &p));
    if (fd < 0) return false;
    fd_ = fd;
    sq_len_ = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    cq_len_ = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    sqes_len_ = p.sq_entries * sizeof(struct io_uring_sqe);
    void* sq = mmap(nullptr, sq_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
    void* cq = mmap(nullptr, cq_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
    void* sqes = mmap(nullptr, sqes_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
    sq_ = sq == MAP_FAILED ? nullptr : sq;
    cq_ = cq == MAP_FAILED ? nullptr : cq;
    sqes_ = sqes == MAP_FAILED ? nullptr : static_cast<struct io_uring_sqe*>(sqes);
    if (sq_ == nullptr || cq_ == nullptr || sqes_ == nullptr || p.sq_entries < kEntries) {
      Close();
      return false;
    }
    uint8_t* s = static_cast<uint8_t*>(sq_);
    uint8_t* c = static_cast<uint8_t*>(cq_);
    sq_tail_ = reinterpret_cast<unsigned*>(s + p.sq_off.tail);
    sq_mask_ = reinterpret_cast<unsigned*>(s + p.sq_off.ring_mask);
    sq_array_ = reinterpret_cast<unsigned*>(s + p.sq_off.array);
    cq_head_ = reinterpret_cast<unsigned*>(c + p.cq_off.head);
    cq_tail_ = reinterpret_cast<unsigned*>(c + p.cq_off.tail);
    cq_mask_ = reinterpret_cast<unsigned*>(c + p.cq_off.ring_mask);
    cqes_ = reinterpret_cast<struct io_uring_cqe*>(c + p.cq_off.cqes);
    return true;
  }

  void Close() {
    if (sqes_ != nullptr) munmap(sqes_, sqes_len_);
    if (cq_ != nullptr) munmap(cq_, cq_len_);
    if (sq_ != nullptr) munmap(sq_, sq_len_);
    if (fd_ >= 0) close(fd_);
    sqes_ = nullptr;
    cq_ = sq_ = nullptr;
    fd_ = -1;
  }

  int state_ = 0;  // 0 not tried, 1 ready, -1 not usable
  bool proven_ = false;
  int fd_ = -1;
  void* sq_ = nullptr;
  void* cq_ = nullptr;
  size_t sq_len_ = 0, cq_len_ = 0, sqes_len_ = 0;
  struct io_uring_sqe* sqes_ = nullptr;
  struct io_uring_cqe* cqes_ = nullptr;
  unsigned *sq_tail_ = nullptr, *sq_mask_ = nullptr, *sq_array_ = nullptr;
  unsigned *cq_head_ = nullptr, *cq_tail_ = nullptr, *cq_mask_ = nullptr;
};

thread_local Ring ring;

// The run the next call starts with: the whole batch when this one filled it (the burst goes on),
// else room for as many packets as this call found and one more, so a steady stream of bursts of
// k packets takes one io_uring_enter each (k reads and one that finds nothing) instead of the
// log2(k) that doubling from kFirstRun took. A lone packet brings it back to kFirstRun, so a
// quiet device (pings) keeps its two reads; a burst smaller than the last costs a few reads that
// find nothing (cheap beside an enter: the C probe in bench/README.md).
unsigned NextRun(uint64_t got, uint64_t n) {
  if (got == n) return static_cast<unsigned>(n < kEntries ? n : kEntries);
  unsigned run = kFirstRun;
  while (run < got + 1 && run < kEntries) run *= 2;
  return run;
}

}  // namespace

bool UringUsable() { return ring.Ready(); }

int64_t UringReadSlab(int fd, uint8_t* base, size_t stride, uint64_t n, int32_t* sizes) {
  if (!ring.Ready()) return kUringUnavailable;
  int32_t res[kEntries];
  uint64_t got = 0;
  unsigned run = ring.hint_fd != fd || ring.hint < kFirstRun ? kFirstRun : ring.hint;
  int err = 0;
  while (got < n && err == 0) {
    unsigned count = run;
    if (count > kEntries) count = kEntries;
    if (count > n - got) count = static_cast<unsigned>(n - got);
    uint64_t first = got;
    if (!ring.Run(fd, base, stride, first, count, res)) return got == 0 ? kUringUnavailable : static_cast<int64_t>(got);
    bool full = true;
    for (unsigned i = 0; i < count; i++) {
      int32_t r = res[i];
      if (r >= 0) {
        // A read after one that found nothing may have found a packet queued since: moved down.
        if (got != first + i) memmove(base + got * stride, base + (first + i) * stride, static_cast<size_t>(r));
        sizes[got++] = r;
        ring.Proven();
        continue;
      }
      full = false;
      if (r == -EAGAIN || r == -EINTR) continue;
      if (!ring.proven() && (r == -EOPNOTSUPP || r == -EINVAL) && got == 0) {
        ring.Refuse();  // this kernel or device takes no RWF_NOWAIT reads: read() from now on
        return kUringUnavailable;
      }
      if (err == 0) err = -r;
    }
    if (!full) break;
    run = count * 2;
  }
  ring.hint = NextRun(got, n);
  ring.hint_fd = fd;
  if (got == 0 && err != 0) return -err;
  return static_cast<int64_t>(got);
}

}  // namespace msnl
