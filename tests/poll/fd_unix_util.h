/* Helpers shared by the Unix FD suites (test_fd_unix.c, test_fd_socket_unix.c,
 * test_fd_short_read_linux.c): FDs over pipes and sockets, and coroutines
 * that block in a read or a write. */
#ifndef CORIO_TESTS_FD_UNIX_UTIL_H
#define CORIO_TESTS_FD_UNIX_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "corio/poll.h"
#include "corio/sync.h"
#include "check.h"
#include "fd_mutex_testing.h"
#include "fd_util.h"
#include "fd_unix.h"
#include "net_util.h"
#include "netpoll_testing.h"
#include "park_check.h"

/* ---- helpers ---- */

static inline corio__fd_t *wrap(int h, int kind, bool is_file) {
  corio__fd_t *fd = calloc(1, sizeof *fd);
  CHECK_EQ(corio__fd_init(fd, (uintptr_t)h, kind, is_file, true), 0);
  return fd;
}

/* A pipe whose ends are FDs; the write end's buffer is cut to one page so
 * that filling it is quick. Made here, its writer is never in packet mode:
 * reads use the short-read rule, as on corio_file_pipe's ends. */
static inline void make_pipe(corio__fd_t **r, corio__fd_t **w) {
  int p[2];
  CHECK_EQ(test_pipe(p, O_CLOEXEC), 0);
#ifdef F_SETPIPE_SZ /* Linux */
  fcntl(p[1], F_SETPIPE_SZ, 4096);
#endif
  *r = wrap(p[0], CORIO__FD_PIPE, true);
  *w = wrap(p[1], CORIO__FD_PIPE, true);
  corio__fd_set_plain_pipe(*r);
}

static inline void drop(corio__fd_t *fd) {
  int err = corio__fd_close(fd);
  CHECK(err == 0 || err == CORIO_ECLOSING);
  free(fd);
}

/* Fill the pipe until the kernel refuses more; returns the bytes written. */
static inline size_t fill(corio__fd_t *w) {
  static char junk[4096];
  size_t total = 0;
  for (;;) {
    ssize_t n = write((int)w->handle, junk, sizeof junk);
    if (n <= 0) break;
    total += (size_t)n;
  }
  return total;
}

static inline int count_fds(void) { return test_count_fds(); }

static inline int64_t since(int64_t t0) { return corio_nanotime() - t0; }

typedef struct blocked {
  corio__fd_t *fd;
  corio_g_t *g; /* the blocked coroutine, set before started */
  _Atomic int started, done;
  ptrdiff_t result;
  int64_t returned_at;
} blocked_t;

static inline void blocked_read(void *arg) {
  blocked_t *b = arg;
  char c;
  b->g = corio_current();
  atomic_store(&b->started, 1);
  b->result = corio__fd_read(b->fd, &c, 1);
  b->returned_at = corio_nanotime();
  atomic_store(&b->done, 1);
}

static inline void blocked_write(void *arg) {
  blocked_t *b = arg;
  static char big[8192];
  b->g = corio_current();
  atomic_store(&b->started, 1);
  b->result = corio__fd_write(b->fd, big, sizeof big);
  b->returned_at = corio_nanotime();
  atomic_store(&b->done, 1);
}

static inline void make_tcp(corio__fd_t **a, corio__fd_t **b) {
  int sv[2];
  test_tcp_pair(sv);
  *a = wrap(sv[0], CORIO__FD_STREAM, false);
  *b = wrap(sv[1], CORIO__FD_STREAM, false);
}

static inline corio__fd_t *wrap_socket(int domain, int type, int sv[2]) {
  CHECK_EQ(socketpair(domain, type | SOCK_CLOEXEC, 0, sv), 0);
  return wrap(sv[0], type == SOCK_STREAM ? CORIO__FD_STREAM : CORIO__FD_DGRAM, false);
}

#endif
