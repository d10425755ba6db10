/* rawsys.h's calls for a POSIX system without direct system calls of its
 * own: the C library's read and write, their result in the kernel's
 * convention (a count, or -errno). */
#ifndef CORIO_RAWSYS_UNIX_H
#define CORIO_RAWSYS_UNIX_H

#include <errno.h>
#include <stddef.h>
#include <sys/types.h>
#include <unistd.h>

static inline ssize_t corio__sys_ret(ssize_t r) { return r < 0 ? -(ssize_t)errno : r; }
static inline ssize_t corio__sys_read(int fd, void *buf, size_t len) {
  return corio__sys_ret(read(fd, buf, len));
}
static inline ssize_t corio__sys_write(int fd, const void *buf, size_t len) {
  return corio__sys_ret(write(fd, buf, len));
}

#endif
