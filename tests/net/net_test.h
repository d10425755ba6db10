/* Helpers shared by the net suites: connected pairs over the public API,
 * "is it parked yet" from the FD's poll descriptor, temporary Unix paths. */
#ifndef CORIO_TESTS_NET_TEST_H
#define CORIO_TESTS_NET_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corio/net.h"
#include "corio/sync.h"
#include "check.h"
#include "net_internal.h"
#include "netplat_util.h"
#include "park_check.h"

/* A TCP listener on 127.0.0.1:0, its address in addr. */
static inline corio_listener_t *listen_local(char *addr, size_t len) {
  corio_listener_t *l = NULL;
  CHECK_EQ(corio_net_listen("tcp4", "127.0.0.1:0", &l), 0);
  if (l) CHECK(corio_listener_addr(l, addr, len) > 0);
  return l;
}

typedef struct pair {
  corio_conn_t *c, *s; /* the dialled and the accepted end */
} pair_t;

typedef struct accept_arg {
  corio_listener_t *l;
  corio_conn_t *conn;
  int err;
  _Atomic int done;
} accept_arg_t;

static inline void accept_one(void *p) {
  accept_arg_t *a = p;
  a->err = corio_listener_accept(a->l, &a->conn);
  atomic_store(&a->done, 1);
}

/* A connected TCP pair over loopback. */
static inline pair_t tcp_pair(void) {
  char addr[CORIO_NET_ADDRSTRLEN];
  pair_t p = {0};
  corio_listener_t *l = listen_local(addr, sizeof addr);
  if (!l) return p;
  accept_arg_t a = {.l = l};
  CHECK_EQ(corio_spawn(accept_one, &a), 0);
  CHECK_EQ(corio_net_dial("tcp", addr, 0, &p.c), 0);
  wait_for(&a.done, 1);
  CHECK_EQ(a.err, 0);
  p.s = a.conn;
  corio_listener_free(l);
  return p;
}

static inline void pair_free(pair_t *p) {
  corio_conn_free(p->c);
  corio_conn_free(p->s);
  p->c = p->s = NULL;
}

/* The FD under a listener or connection (its first member). */
static inline corio__fd_t *fd_of(void *obj) { return (corio__fd_t *)obj; }

/* Yield until a coroutine is parked in obj's mode slot ('r' or 'w'), through
 * the shared helper (park_check.h). */
#define parked(obj, mode) wait_pd_parked(fd_of(obj)->pd, (mode))

/* A fresh socket path in the temporary directory (removed first). */
static inline void temp_sock_path(char *buf, size_t len, const char *tag) {
  const char *dir = getenv("TMPDIR");
  if (!dir || !*dir) dir = getenv("TEMP");
  if (!dir || !*dir) dir = "/tmp";
  static _Atomic int seq;
  snprintf(buf, len, "%s/corio-%s-%d-%d.sock", dir, tag, (int)corio_nanotime() & 0xffff,
           atomic_fetch_add(&seq, 1));
  remove(buf);
}

/* Read exactly len bytes; the count read or the first error. */
static inline ptrdiff_t read_full(corio_conn_t *c, void *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ptrdiff_t n = corio_conn_read(c, (char *)buf + got, len - got);
    if (n < 0) return got > 0 ? (ptrdiff_t)got : n;
    got += (size_t)n;
  }
  return (ptrdiff_t)got;
}

static inline int64_t since(int64_t t0) { return corio_nanotime() - t0; }

#endif
