/* runtime/rawsys.h: read and write for the I/O hot path in the kernel's
 * convention (a count, or -errno; errno is not touched), plus corio__sys_ret
 * to put any C library result in that convention. POSIX code (poll/fd_unix.c)
 * includes this; the platform's own header supplies the calls: the direct
 * system calls of rawsys_linux.h on Linux, the C library's (rawsys_unix.h)
 * on any other POSIX system. A port with direct calls of its own adds a
 * rawsys_<os>.h and a line here. */
#ifndef CORIO_RAWSYS_H
#define CORIO_RAWSYS_H

#if defined(__linux__)
#include "rawsys_linux.h"
#else
#include "rawsys_unix.h"
#endif

#endif
