/* Direct system calls for the I/O hot path on Linux: read, write and an
 * untimed epoll_wait, made with the syscall instruction instead of through
 * the C library (Go makes all its system calls this way). poll/fd_unix.c
 * reaches read and write through rawsys.h; the epoll backend includes this
 * file itself.
 *
 * Why: the kernel's work leaves the CPU's return predictor cold, so every
 * return to a frame that was live before the call mispredicts, and the C
 * library's wrapper is one more such frame. Measured on a 2-CPU EPYC guest:
 * about 6 ns a call, about 35 ns of a pipe round trip's 1.9 us.
 *
 * Each returns what the kernel returns: a count, or -errno (errno is not
 * touched). Only x86-64 has an inline version here (corio has no context
 * switch for any other architecture yet). Under the sanitizers, the C
 * library's functions are called instead: ThreadSanitizer learns
 * happens-before edges through pipes and sockets from its read and write
 * interceptors, and AddressSanitizer checks the buffers there. */
#ifndef CORIO_RAWSYS_LINUX_H
#define CORIO_RAWSYS_LINUX_H

#include <errno.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#if !defined(CORIO_ASAN) && !defined(CORIO_TSAN) && defined(__x86_64__)
#define CORIO__RAWSYS 1
static inline long corio__rawsys4(long nr, long a, long b, long c, long d) {
  long ret;
  register long r10 __asm__("r10") = d;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
                   : "rcx", "r11", "memory");
  return ret;
}
#else
#define CORIO__RAWSYS 0
#endif

/* The C library's result in the kernel's convention. */
static inline ssize_t corio__sys_ret(ssize_t r) { return r < 0 ? -(ssize_t)errno : r; }

static inline ssize_t corio__sys_read(int fd, void *buf, size_t len) {
#if CORIO__RAWSYS
  return corio__rawsys4(SYS_read, fd, (long)buf, (long)len, 0);
#else
  return corio__sys_ret(read(fd, buf, len));
#endif
}

static inline ssize_t corio__sys_write(int fd, const void *buf, size_t len) {
#if CORIO__RAWSYS
  return corio__rawsys4(SYS_write, fd, (long)buf, (long)len, 0);
#else
  return corio__sys_ret(write(fd, buf, len));
#endif
}

/* timeout_ms as epoll_wait's. */
static inline int corio__sys_epoll_wait(int epfd, struct epoll_event *evs, int max,
                                        int timeout_ms) {
#if CORIO__RAWSYS
  return (int)corio__rawsys4(SYS_epoll_wait, epfd, (long)evs, max, timeout_ms);
#else
  return (int)corio__sys_ret(epoll_wait(epfd, evs, max, timeout_ms));
#endif
}

#endif
