/* Documented errors of the net API provoked through the public API on any
 * system: an address the machine does not have, an oversized datagram, and
 * write_ex reporting both the count and the error that stopped a write. */
#include <errno.h>

#include "net_test.h"

/* 192.0.2.0/24 is TEST-NET-1 (RFC 5737): no machine has it. Only bound,
 * never sent to. */
static int addrnotavail_main(void *arg) {
  corio_listener_t *l = NULL;
  CHECK_EQ(corio_net_errno(corio_net_listen("tcp4", "192.0.2.1:0", &l)), EADDRNOTAVAIL);
  CHECK(l == NULL);
  /* Nothing was lost: a good address still listens. */
  CHECK_EQ(corio_net_listen("tcp4", "127.0.0.1:0", &l), 0);
  corio_listener_free(l);
  return 0;
}

Test(errors, listen_on_an_address_not_here) { run_program(1, addrnotavail_main, NULL); }

/* A UDP datagram cannot exceed 65507 bytes of payload over IPv4. */
static int msgsize_main(void *arg) {
  corio_conn_t *srv = NULL, *c = NULL;
  CHECK_EQ(corio_net_listen_packet("udp4", "127.0.0.1:0", &srv), 0);
  char sa[CORIO_NET_ADDRSTRLEN];
  CHECK(corio_conn_local_addr(srv, sa, sizeof sa) > 0);
  CHECK_EQ(corio_net_dial("udp4", sa, 0, &c), 0);
  size_t big = 70000;
  char *buf = calloc(1, big);
  CHECK(buf != NULL);
  CHECK_EQ(corio_net_errno((int)corio_conn_write(c, buf, big)), EMSGSIZE);
  CHECK_EQ(corio_net_errno((int)corio_conn_write_to(srv, buf, big, sa)), EMSGSIZE);
  size_t n = 99;
  CHECK_EQ(corio_net_errno((int)corio_conn_write_ex(c, buf, big, &n)), EMSGSIZE);
  CHECK_EQ(n, 0);
  /* Stream options on a datagram socket. */
  CHECK_EQ(corio_conn_set_keepalive(c, true, 0), CORIO_ENOTSUP);
  /* The socket still works: a datagram that fits goes through. */
  CHECK_EQ(corio_conn_write_ex(c, "ok", 2, &n), 0);
  CHECK_EQ(n, 2);
  char r[8];
  CHECK_EQ(corio_conn_read(srv, r, sizeof r), 2);
  CHECK(memcmp(r, "ok", 2) == 0);
  free(buf);
  corio_conn_free(c);
  corio_conn_free(srv);
  return 0;
}

Test(errors, oversized_datagram) { run_program(1, msgsize_main, NULL); }

/* ---- write_ex: the count and the error ---- */

typedef struct drain {
  corio_conn_t *c;
  size_t got;
  ptrdiff_t end;
  _Atomic int done;
} drain_t;

static void drain(void *p) {
  drain_t *d = p;
  char b[65536];
  for (;;) {
    ptrdiff_t n = corio_conn_read(d->c, b, sizeof b);
    if (n < 0) {
      d->end = n;
      break;
    }
    d->got += (size_t)n;
  }
  atomic_store(&d->done, 1);
}

/* A write deadline passes with part of a large write out (the peer does
 * not read until then): write_ex returns CORIO_ETIMEOUT and the part's
 * count, which is exactly what the peer then reads. */
static int write_ex_main(void *arg) {
  pair_t p = tcp_pair();
  size_t len = 32u << 20;
  char *buf = calloc(1, len);
  CHECK(buf != NULL);
  CHECK_EQ(corio_conn_set_write_deadline(p.c, corio_nanotime() + 50 * MS), 0);
  size_t n = 0;
  CHECK_EQ(corio_conn_write_ex(p.c, buf, len, &n), CORIO_ETIMEOUT);
  CHECK(n > 0);
  CHECK(n < len);
  /* The deadline stays passed: nothing more goes out, and the count says so. */
  size_t m = 99;
  CHECK_EQ(corio_conn_write_ex(p.c, buf, len, &m), CORIO_ETIMEOUT);
  CHECK_EQ(m, 0);
  CHECK_EQ(corio_conn_set_write_deadline(p.c, 0), 0);
  drain_t d = {.c = p.s};
  CHECK_EQ(corio_spawn(drain, &d), 0);
  /* With the deadline cleared and a reader, the whole of a write goes out. */
  CHECK_EQ(corio_conn_write_ex(p.c, buf, 1000, &m), 0);
  CHECK_EQ(m, 1000);
  CHECK_EQ(corio_conn_write_ex(p.c, buf, 0, &m), 0);
  CHECK_EQ(m, 0);
  CHECK_EQ(corio_conn_close_write(p.c), 0);
  wait_for(&d.done, 1);
  CHECK_EQ(d.end, CORIO_EEOF);
  CHECK_EQ(d.got, n + 1000);
  /* Bad input. */
  CHECK_EQ(corio_conn_write_ex(p.c, buf, 1, NULL), CORIO_EINVAL);
  m = 99;
  CHECK_EQ(corio_conn_write_ex(p.c, NULL, 1, &m), CORIO_EINVAL);
  CHECK_EQ(m, 0);
  CHECK_EQ(corio_conn_write_ex(NULL, buf, 1, &m), CORIO_EINVAL);
  /* Closed: the closing error, nothing written. */
  CHECK_EQ(corio_conn_close(p.c), 0);
  m = 99;
  CHECK_EQ(corio_conn_write_ex(p.c, buf, 1, &m), CORIO_ENETCLOSING);
  CHECK_EQ(m, 0);
  free(buf);
  pair_free(&p);
  return 0;
}

Test(errors, write_ex_reports_count_and_error) { run_program(2, write_ex_main, NULL); }
