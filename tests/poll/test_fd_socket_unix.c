/* The Unix FD over sockets: accept and connect (fd_unix.c). */
#include "fd_unix_util.h"

/* ---- sockets: accept and connect ---- */

typedef struct acceptor {
  corio__fd_t *l;
  int newfd;
  int err;
  corio_g_t *g;
  _Atomic int started, done;
} acceptor_t;

static void do_accept(void *arg) {
  acceptor_t *a = arg;
  a->g = corio_current();
  atomic_store(&a->started, 1);
  a->err = corio__fd_accept(a->l, NULL, NULL, &a->newfd);
  atomic_store(&a->done, 1);
}

static int accept_connect_main(void *arg) {
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  CHECK_EQ(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
  CHECK_EQ(listen(ls, 8), 0);
  socklen_t len = sizeof sa;
  getsockname(ls, (struct sockaddr *)&sa, &len);
  corio__fd_t *l = wrap(ls, CORIO__FD_STREAM, false);
  acceptor_t a = {.l = l};
  CHECK_EQ(corio_spawn(do_accept, &a), 0);
  wait_for(&a.started, 1);
  wait_parked(a.g, "io wait");
  CHECK_EQ(atomic_load(&a.done), 0); /* parked: nobody connected yet */

  int cs = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  corio__fd_t *c = wrap(cs, CORIO__FD_STREAM, false);
  CHECK_EQ(corio__fd_connect(c, (struct sockaddr *)&sa, sizeof sa), 0);
  wait_for(&a.done, 1);
  CHECK_EQ(a.err, 0);
  CHECK(fcntl(a.newfd, F_GETFL) & O_NONBLOCK);
  CHECK(fcntl(a.newfd, F_GETFD) & FD_CLOEXEC);
  corio__fd_t *s = wrap(a.newfd, CORIO__FD_STREAM, false);
  CHECK_EQ(corio__fd_write(c, "hi", 2), 2);
  char buf[2];
  CHECK_EQ(corio__fd_read(s, buf, 2), 2);
  drop(s);
  drop(c);

  /* An accept with a read deadline. */
  CHECK_EQ(corio__fd_set_deadline(l, corio_nanotime() + 30 * MS, 'r'), 0);
  int nf;
  CHECK_EQ(corio__fd_accept(l, NULL, NULL, &nf), CORIO_ETIMEOUT);
  drop(l); /* the port is now closed */

  int cs2 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  corio__fd_t *c2 = wrap(cs2, CORIO__FD_STREAM, false);
  CHECK_EQ(corio__fd_connect(c2, (struct sockaddr *)&sa, sizeof sa),
           corio_err_from_errno(ECONNREFUSED));
  drop(c2);
  return 0;
}

Test(fd_socket, accept_and_connect) { run_program(2, accept_connect_main, NULL); }
