/* Documented errors of the net API that POSIX systems report and Windows
 * reports differently: close-write on a connection the peer reset
 * (ENOTCONN), a write without a destination on an unconnected datagram
 * socket (EDESTADDRREQ). */
#include <errno.h>
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
