/* Documented errors of the net API that POSIX systems report and Windows
 * reports differently: close-write on a connection the peer reset
 * (ENOTCONN), a write without a destination on an unconnected datagram
 * socket (EDESTADDRREQ); and parking calls from a plain thread
 * (CORIO_ENOTCORO), which on Windows abort in corio__park for now (a bug
 * to fix there, then this test moves to the portable suite). */
#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>

#include "net_test.h"

static int linger_zero(corio_handle_t h, void *arg) {
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  return setsockopt((int)h, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0 ? 0 : -errno;
}

/* The peer closes with SO_LINGER 0, which resets the connection; once a
 * read has reported the reset the connection is gone, and shutting down
 * its write side is ENOTCONN. */
static int notconn_main(void *arg) {
  pair_t p = tcp_pair();
  CHECK_EQ(corio_conn_control(p.s, linger_zero, NULL), 0);
  corio_conn_free(p.s);
  p.s = NULL;
  char b[8];
  CHECK_EQ(corio_net_errno((int)corio_conn_read(p.c, b, sizeof b)), ECONNRESET);
  CHECK_EQ(corio_net_errno(corio_conn_close_write(p.c)), ENOTCONN);
  /* The connection object is still sound: close works once. */
  CHECK_EQ(corio_conn_close(p.c), 0);
  CHECK_EQ(corio_conn_close_write(p.c), CORIO_ENETCLOSING);
  pair_free(&p);
  return 0;
}

Test(errors_unix, close_write_after_reset) { run_program(1, notconn_main, NULL); }

static int destaddr_main(void *arg) {
  corio_conn_t *u = NULL;
  CHECK_EQ(corio_net_listen_packet("udp4", "127.0.0.1:0", &u), 0);
  CHECK_EQ(corio_net_errno((int)corio_conn_write(u, "x", 1)), EDESTADDRREQ);
  size_t n = 99;
  CHECK_EQ(corio_net_errno((int)corio_conn_write_ex(u, "x", 1, &n)), EDESTADDRREQ);
  CHECK_EQ(n, 0);
  /* write_to with an address still sends. */
  char a[CORIO_NET_ADDRSTRLEN];
  CHECK(corio_conn_local_addr(u, a, sizeof a) > 0);
  CHECK_EQ(corio_conn_write_to(u, "y", 1, a), 1);
  char b[4];
  CHECK_EQ(corio_conn_read(u, b, sizeof b), 1);
  CHECK_EQ(b[0], 'y');
  corio_conn_free(u);
  return 0;
}

Test(errors_unix, write_without_destination) { run_program(1, destaddr_main, NULL); }

/* ---- calls that would park, from a plain thread ---- */

typedef struct foreign {
  corio_listener_t *l;
  char addr[CORIO_NET_ADDRSTRLEN];
  corio_conn_t *rd; /* nothing to read */
  corio_conn_t *wr; /* its send buffer is full */
  int accept_rc, dial_rc;
  ptrdiff_t read_rc, write_rc, write_ex_rc;
  size_t write_ex_n;
  corio_conn_t *accepted, *dialled;
  _Atomic int done;
} foreign_t;

static void *foreign_calls(void *p) {
  foreign_t *f = p;
  f->accept_rc = corio_listener_accept(f->l, &f->accepted);
  f->dial_rc = corio_net_dial("tcp4", f->addr, 0, &f->dialled);
  char b[8];
  f->read_rc = corio_conn_read(f->rd, b, sizeof b);
  /* Writes until one would wait: write_ex says so with its count; write
   * returns a short count when some bytes went out first, so it is called
   * until a call finds no room at all (the peer reads nothing meanwhile).
   * Both loop: the kernel may find room again after a deadline's stop. */
  static char chunk[65536];
  for (int i = 0; i < 100000; i++) {
    f->write_ex_rc = corio_conn_write_ex(f->wr, chunk, sizeof chunk, &f->write_ex_n);
    if (f->write_ex_rc != 0) break;
  }
  for (int i = 0; i < 100000; i++) {
    f->write_rc = corio_conn_write(f->wr, chunk, sizeof chunk);
    if (f->write_rc < 0) break;
  }
  atomic_store(&f->done, 1);
  return NULL;
}

/* Fill c's send buffer (and the peer's receive buffer): write until a
 * short write deadline stops it. Returns the count that went out. */
static size_t fill(corio_conn_t *c) {
  size_t len = 32u << 20, total = 0;
  char *buf = calloc(1, len);
  CHECK(buf != NULL);
  for (;;) {
    CHECK_EQ(corio_conn_set_write_deadline(c, corio_nanotime() + 50 * MS), 0);
    size_t n = 0;
    ptrdiff_t rc = corio_conn_write_ex(c, buf, len, &n);
    total += n;
    if (rc == CORIO_ETIMEOUT) break;
    CHECK_EQ(rc, 0);
    if (rc != 0) break;
  }
  CHECK_EQ(corio_conn_set_write_deadline(c, 0), 0);
  free(buf);
  return total;
}

static int notcoro_main(void *arg) {
  foreign_t f = {0};
  /* A listener nothing dials: accept would wait. A second one with a full
   * backlog is not needed: a non-blocking connect over loopback reports
   * "in progress", and the wait for it is what a thread cannot do. */
  f.l = listen_local(f.addr, sizeof f.addr);
  pair_t p = tcp_pair();
  f.rd = p.c; /* p.s has sent nothing */
  f.wr = p.c;
  fill(p.c);
  pthread_t th;
  CHECK_EQ(pthread_create(&th, NULL, foreign_calls, &f), 0);
  wait_for(&f.done, 1);
  pthread_join(th, NULL);
  CHECK_EQ(f.accept_rc, CORIO_ENOTCORO);
  CHECK(f.accepted == NULL);
  CHECK_EQ(f.dial_rc, CORIO_ENOTCORO);
  CHECK(f.dialled == NULL);
  CHECK_EQ(f.read_rc, CORIO_ENOTCORO);
  CHECK_EQ(f.write_rc, CORIO_ENOTCORO);
  CHECK_EQ(f.write_ex_rc, CORIO_ENOTCORO);
  CHECK(f.write_ex_n < 65536);
  /* Nothing is held: the same calls work from a coroutine. */
  CHECK_EQ(corio_conn_write(p.s, "y", 1), 1);
  char b[1];
  CHECK_EQ(corio_conn_read(p.c, b, 1), 1);
  corio_conn_free(f.dialled);
  corio_conn_free(f.accepted);
  corio_listener_free(f.l);
  pair_free(&p);
  return 0;
}

Test(errors_unix, parking_calls_off_a_coroutine) { run_program(1, notcoro_main, NULL); }
