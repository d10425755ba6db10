/* Go's deadline and close behaviours for connections and listeners
 * (net/timeout_test.go's cases): a past deadline fails at once even with
 * data buffered; a deadline moved while blocked; a cleared deadline blocks
 * again; accept, read and write timeouts never fire before their deadline;
 * close unblocks read, write and accept with the closing error. */
#include "net_test.h"

typedef struct op_arg {
  corio_conn_t *c;
  corio_listener_t *l;
  ptrdiff_t res;
  int64_t ended;
  _Atomic int done;
} op_arg_t;

static void do_read(void *p) {
  op_arg_t *a = p;
  char b[64];
  a->res = corio_conn_read(a->c, b, sizeof b);
  a->ended = corio_nanotime();
  atomic_store(&a->done, 1);
}

static void do_accept(void *p) {
  op_arg_t *a = p;
  corio_conn_t *c = NULL;
  a->res = corio_listener_accept(a->l, &c);
  a->ended = corio_nanotime();
  corio_conn_free(c);
  atomic_store(&a->done, 1);
}

/* Write until the socket is full and the write parks (the peer never
 * reads); the result is what the last write returned. */
static void do_write_flood(void *p) {
  op_arg_t *a = p;
  static char junk[1 << 16];
  for (;;) {
    a->res = corio_conn_write(a->c, junk, sizeof junk);
    if (a->res != (ptrdiff_t)sizeof junk) break;
  }
  /* A short count means an error stopped it: the next call reports it. */
  if (a->res >= 0) a->res = corio_conn_write(a->c, junk, sizeof junk);
  a->ended = corio_nanotime();
  atomic_store(&a->done, 1);
}

static int past_deadline_main(void *arg) {
  pair_t p = tcp_pair();
  CHECK_EQ(corio_conn_write(p.c, "buffered", 8), 8);
  char b[8];
  CHECK_EQ(read_full(p.s, b, 1), 1); /* the data has arrived */
  CHECK_EQ(corio_conn_set_read_deadline(p.s, corio_nanotime() - 1), 0);
  CHECK_EQ(corio_conn_read(p.s, b, sizeof b), CORIO_ETIMEOUT);
  CHECK_EQ(corio_conn_read(p.s, b, sizeof b), CORIO_ETIMEOUT); /* sticky */
  CHECK_EQ(corio_conn_set_write_deadline(p.s, corio_nanotime() - 1), 0);
  CHECK_EQ(corio_conn_write(p.s, "x", 1), CORIO_ETIMEOUT);
  /* Cleared: the buffered bytes come back, writes work. */
  CHECK_EQ(corio_conn_set_deadline(p.s, 0), 0);
  CHECK_EQ(read_full(p.s, b, 7), 7);
  CHECK(memcmp(b, "uffered", 7) == 0);
  CHECK_EQ(corio_conn_write(p.s, "x", 1), 1);
  pair_free(&p);
  return 0;
}

Test(deadline, past_deadline_fails_at_once_with_data_buffered) {
  run_program(1, past_deadline_main, NULL);
}

static int moved_main(void *arg) {
  pair_t p = tcp_pair();
  op_arg_t a = {.c = p.s};
  CHECK_EQ(corio_conn_set_read_deadline(p.s, corio_nanotime() + 60000 * MS), 0);
  CHECK_EQ(corio_spawn(do_read, &a), 0);
  parked(p.s, 'r');
  int64_t dl = corio_nanotime() + 30 * MS;
  CHECK_EQ(corio_conn_set_read_deadline(p.s, dl), 0);
  wait_for(&a.done, 1);
  CHECK_EQ(a.res, CORIO_ETIMEOUT);
  CHECK(a.ended >= dl);
  /* Moved later while blocked, before it fires: the new one counts. */
  atomic_store(&a.done, 0);
  CHECK_EQ(corio_conn_set_read_deadline(p.s, corio_nanotime() + 1000 * MS), 0);
  CHECK_EQ(corio_spawn(do_read, &a), 0);
  parked(p.s, 'r');
  CHECK_EQ(atomic_load(&a.done), 0); /* not fired yet: the move is in time */
  dl = corio_nanotime() + 1200 * MS;
  CHECK_EQ(corio_conn_set_read_deadline(p.s, dl), 0);
  wait_for(&a.done, 1);
  CHECK_EQ(a.res, CORIO_ETIMEOUT);
  CHECK(a.ended >= dl);
  /* Moved into the past while blocked: it fails at once. */
  atomic_store(&a.done, 0);
  CHECK_EQ(corio_conn_set_read_deadline(p.s, 0), 0);
  CHECK_EQ(corio_spawn(do_read, &a), 0);
  parked(p.s, 'r');
  CHECK_EQ(corio_conn_set_read_deadline(p.s, corio_nanotime() - 1), 0);
  wait_for(&a.done, 1);
  CHECK_EQ(a.res, CORIO_ETIMEOUT);
  pair_free(&p);
  return 0;
}

Test(deadline, moved_while_blocked) { run_program(2, moved_main, NULL); }

static int cleared_main(void *arg) {
  pair_t p = tcp_pair();
  op_arg_t a = {.c = p.s};
  CHECK_EQ(corio_conn_set_read_deadline(p.s, corio_nanotime() - 1), 0);
  char b[4];
  CHECK_EQ(corio_conn_read(p.s, b, sizeof b), CORIO_ETIMEOUT);
  CHECK_EQ(corio_conn_set_read_deadline(p.s, 0), 0);
  CHECK_EQ(corio_spawn(do_read, &a), 0);
  parked(p.s, 'r'); /* blocks again */
  CHECK_EQ(atomic_load(&a.done), 0);
  CHECK_EQ(corio_conn_write(p.c, "abc", 3), 3);
  wait_for(&a.done, 1);
  CHECK_EQ(a.res, 3);
  pair_free(&p);
  return 0;
}

Test(deadline, cleared_deadline_blocks_again) { run_program(2, cleared_main, NULL); }

static int read_timeout_main(void *arg) {
  pair_t p = tcp_pair();
  for (int i = 0; i < 5; i++) {
    int64_t dl = corio_nanotime() + (5 + 5 * i) * MS;
    CHECK_EQ(corio_conn_set_read_deadline(p.s, dl), 0);
    char b[4];
    CHECK_EQ(corio_conn_read(p.s, b, sizeof b), CORIO_ETIMEOUT);
    CHECK(corio_nanotime() >= dl);
  }
  pair_free(&p);
  return 0;
}

Test(deadline, read_timeout_not_before_deadline) { run_program(1, read_timeout_main, NULL); }

static int write_timeout_main(void *arg) {
  pair_t p = tcp_pair();
  op_arg_t a = {.c = p.c};
  int64_t dl = corio_nanotime() + 50 * MS;
  CHECK_EQ(corio_conn_set_write_deadline(p.c, dl), 0);
  CHECK_EQ(corio_spawn(do_write_flood, &a), 0);
  wait_for(&a.done, 1);
  CHECK_EQ(a.res, CORIO_ETIMEOUT);
  CHECK(a.ended >= dl);
  pair_free(&p);
  return 0;
}

Test(deadline, write_timeout_not_before_deadline) { run_program(2, write_timeout_main, NULL); }

static int accept_timeout_main(void *arg) {
  char addr[CORIO_NET_ADDRSTRLEN];
  corio_listener_t *l = listen_local(addr, sizeof addr);
  int64_t dl = corio_nanotime() + 20 * MS;
  CHECK_EQ(corio_listener_set_deadline(l, dl), 0);
  corio_conn_t *c = (corio_conn_t *)1;
  CHECK_EQ(corio_listener_accept(l, &c), CORIO_ETIMEOUT);
  CHECK(corio_nanotime() >= dl);
  CHECK(c == NULL);
  /* A past deadline fails at once even with a connection waiting. */
  corio_conn_t *d = NULL;
  CHECK_EQ(corio_net_dial("tcp", addr, 0, &d), 0);
  CHECK_EQ(corio_listener_set_deadline(l, corio_nanotime() - 1), 0);
  CHECK_EQ(corio_listener_accept(l, &c), CORIO_ETIMEOUT);
  /* Cleared: the waiting connection is accepted. */
  CHECK_EQ(corio_listener_set_deadline(l, 0), 0);
  CHECK_EQ(corio_listener_accept(l, &c), 0);
  corio_conn_free(c);
  corio_conn_free(d);
  corio_listener_free(l);
  return 0;
}

Test(deadline, accept_timeout) { run_program(1, accept_timeout_main, NULL); }

static int close_unblocks_main(void *arg) {
  pair_t p = tcp_pair();
  /* A read and a write parked on the same conn (the peer neither writes
   * nor reads). */
  op_arg_t r = {.c = p.s}, w = {.c = p.s};
  CHECK_EQ(corio_spawn(do_read, &r), 0);
  CHECK_EQ(corio_spawn(do_write_flood, &w), 0);
  parked(p.s, 'r');
  parked(p.s, 'w');
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio_conn_close(p.s), 0);
  wait_for(&r.done, 1);
  wait_for(&w.done, 1);
  CHECK_EQ(r.res, CORIO_ENETCLOSING);
  CHECK_EQ(w.res, CORIO_ENETCLOSING);
  CHECK(since(t0) < 2000 * MS); /* promptly: not by some timeout */
  CHECK_EQ(corio_conn_close(p.s), CORIO_ENETCLOSING);
  char b[1];
  CHECK_EQ(corio_conn_read(p.s, b, 1), CORIO_ENETCLOSING);
  CHECK_EQ(corio_conn_set_deadline(p.s, 0), CORIO_ENETCLOSING);
  pair_free(&p);

  /* Accept: every parked acceptor (one on the poller, others on the lock). */
  char addr[CORIO_NET_ADDRSTRLEN];
  corio_listener_t *l = listen_local(addr, sizeof addr);
  op_arg_t acc[3] = {{.l = l}, {.l = l}, {.l = l}};
  for (int i = 0; i < 3; i++) CHECK_EQ(corio_spawn(do_accept, &acc[i]), 0);
  parked(l, 'r');
  for (int i = 0; i < 10; i++) corio_yield();
  CHECK_EQ(corio_listener_close(l), 0);
  for (int i = 0; i < 3; i++) {
    wait_for(&acc[i].done, 1);
    CHECK_EQ(acc[i].res, CORIO_ENETCLOSING);
  }
  CHECK_EQ(corio_listener_close(l), CORIO_ENETCLOSING);
  corio_conn_t *c = NULL;
  CHECK_EQ(corio_listener_accept(l, &c), CORIO_ENETCLOSING);
  /* The address stays readable after close. */
  char again[CORIO_NET_ADDRSTRLEN];
  CHECK(corio_listener_addr(l, again, sizeof again) > 0);
  CHECK(strcmp(addr, again) == 0);
  corio_listener_free(l);
  return 0;
}

Test(deadline, close_unblocks_read_write_accept) { run_program(2, close_unblocks_main, NULL); }
