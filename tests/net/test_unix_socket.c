/* Unix-domain stream sockets by path: listen, accept, dial, addresses,
 * the socket file removed on close, errors for bad paths. */
#include <errno.h>

#include "net_test.h"

static int unix_main(void *arg) {
  if (!test_have_af_unix()) {
    fprintf(stderr, "unix: skipped, no AF_UNIX on this system\n");
    return 0;
  }
  char path[128];
  temp_sock_path(path, sizeof path, "s");
  corio_listener_t *l = NULL;
  CHECK_EQ(corio_net_listen("unix", path, &l), 0);
  char la[CORIO_NET_ADDRSTRLEN];
  CHECK_EQ(corio_listener_addr(l, la, sizeof la), (int)strlen(path));
  CHECK(strcmp(la, path) == 0);
  /* The path is taken while the listener lives. */
  corio_listener_t *l2 = NULL;
  CHECK_EQ(corio_net_errno(corio_net_listen("unix", path, &l2)), EADDRINUSE);
  accept_arg_t a = {.l = l};
  CHECK_EQ(corio_spawn(accept_one, &a), 0);
  corio_conn_t *c = NULL;
  CHECK_EQ(corio_net_dial("unix", path, 0, &c), 0);
  wait_for(&a.done, 1);
  CHECK_EQ(a.err, 0);
  char ra[CORIO_NET_ADDRSTRLEN];
  CHECK_EQ(corio_conn_remote_addr(c, ra, sizeof ra), (int)strlen(path));
  CHECK(strcmp(ra, path) == 0);
  CHECK_EQ(corio_conn_remote_addr(a.conn, ra, sizeof ra), 0); /* unnamed client */
  CHECK_EQ(corio_conn_write(c, "over unix", 9), 9);
  char buf[16];
  CHECK_EQ(read_full(a.conn, buf, 9), 9);
  CHECK_EQ(corio_conn_close_write(c), 0);
  CHECK_EQ(corio_conn_read(a.conn, buf, sizeof buf), CORIO_EEOF);
  CHECK_EQ(corio_conn_set_nodelay(c, true), CORIO_ENOTSUP);
  corio_conn_free(c);
  corio_conn_free(a.conn);
  CHECK_EQ(corio_listener_close(l), 0);
  CHECK(remove(path) != 0); /* close removed the socket file */
  corio_listener_free(l);
  /* Nobody there any more. */
  int err = corio_net_dial("unix", path, 0, &c);
  CHECK(corio_net_errno(err) == ENOENT || corio_net_errno(err) == ECONNREFUSED);
  return 0;
}

Test(unix_socket, stream_by_path) { run_program(2, unix_main, NULL); }

static int bad_paths_main(void *arg) {
  corio_listener_t *l = NULL;
  corio_conn_t *c = NULL;
  CHECK_EQ(corio_net_listen("unix", "", &l), CORIO_EBADADDR);
  CHECK_EQ(corio_net_dial("unix", "", 0, &c), CORIO_EBADADDR);
  char longpath[300];
  memset(longpath, 'p', sizeof longpath - 1);
  longpath[sizeof longpath - 1] = 0;
  CHECK_EQ(corio_net_listen("unix", longpath, &l), CORIO_EBADADDR);
  CHECK_EQ(corio_net_listen_packet("unixgram", "", &c), CORIO_EBADADDR);
  CHECK(l == NULL && c == NULL);
  return 0;
}

Test(unix_socket, bad_paths) { run_program(1, bad_paths_main, NULL); }
