/* Exhausted descriptors (POSIX: RLIMIT_NOFILE): listen, accept and dial fail
 * with EMFILE, nothing is lost, and both work again once descriptors are back. */
#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

#include "net_test.h"

static void set_soft_limit(rlim_t n) {
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = n;
  setrlimit(RLIMIT_NOFILE, &rl);
}

/* The lowest descriptor number not in use: with the limit set to it, the
 * next descriptor cannot be made. */
static int next_fd(void) {
  int fd = dup(0);
  if (fd >= 0) close(fd);
  return fd;
}

static int emfile_main(void *arg) {
  char addr[CORIO_NET_ADDRSTRLEN];
  corio_listener_t *l = listen_local(addr, sizeof addr);
  corio_conn_t *c = NULL, *s = NULL;
  CHECK_EQ(corio_net_dial("tcp", addr, 0, &c), 0); /* queued at the listener */
  struct rlimit saved;
  getrlimit(RLIMIT_NOFILE, &saved);
  set_soft_limit((rlim_t)next_fd());
  CHECK_EQ(corio_net_errno(corio_listener_accept(l, &s)), EMFILE);
  CHECK(s == NULL);
  corio_conn_t *d = NULL;
  CHECK_EQ(corio_net_errno(corio_net_dial("tcp", addr, 0, &d)), EMFILE);
  CHECK(d == NULL);
  setrlimit(RLIMIT_NOFILE, &saved);
  /* The queued connection was kept for us. */
  CHECK_EQ(corio_listener_accept(l, &s), 0);
  CHECK_EQ(corio_conn_write(c, "kept", 4), 4);
  char b[4];
  CHECK_EQ(read_full(s, b, 4), 4);
  CHECK(memcmp(b, "kept", 4) == 0);
  corio_conn_free(c);
  corio_conn_free(s);
  corio_listener_free(l);
  return 0;
}

Test(limits, emfile_on_accept_and_dial_loses_nothing) { run_program(1, emfile_main, NULL); }

static int emfile_listen_main(void *arg) {
  struct rlimit saved;
  getrlimit(RLIMIT_NOFILE, &saved);
  set_soft_limit((rlim_t)next_fd());
  corio_listener_t *l = NULL;
  int rc = corio_net_listen("tcp4", "127.0.0.1:0", &l);
  setrlimit(RLIMIT_NOFILE, &saved);
  CHECK_EQ(corio_net_errno(rc), EMFILE);
  CHECK(l == NULL);
  /* With descriptors back, the same listen works. */
  char addr[CORIO_NET_ADDRSTRLEN];
  l = listen_local(addr, sizeof addr);
  corio_listener_free(l);
  return 0;
}

Test(limits, emfile_on_listen) { run_program(1, emfile_listen_main, NULL); }
