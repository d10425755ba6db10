/* Linux's abstract Unix names ("@name"): no file, no removal, the name
 * reported back as given. */
#include "net_test.h"

static int abstract_main(void *arg) {
  char name[64];
  snprintf(name, sizeof name, "@corio-test-%lld", (long long)corio_nanotime());
  corio_listener_t *l = NULL;
  CHECK_EQ(corio_net_listen("unix", name, &l), 0);
  char la[CORIO_NET_ADDRSTRLEN];
  CHECK(corio_listener_addr(l, la, sizeof la) > 0);
  CHECK(strcmp(la, name) == 0);
  accept_arg_t a = {.l = l};
  CHECK_EQ(corio_spawn(accept_one, &a), 0);
  corio_conn_t *c = NULL;
  CHECK_EQ(corio_net_dial("unix", name, 0, &c), 0);
  wait_for(&a.done, 1);
  CHECK_EQ(a.err, 0);
  char ra[CORIO_NET_ADDRSTRLEN];
  CHECK(corio_conn_remote_addr(c, ra, sizeof ra) > 0);
  CHECK(strcmp(ra, name) == 0);
  CHECK(corio_conn_local_addr(a.conn, ra, sizeof ra) > 0);
  CHECK(strcmp(ra, name) == 0);
  CHECK_EQ(corio_conn_write(c, "abstract", 8), 8);
  char buf[8];
  CHECK_EQ(read_full(a.conn, buf, 8), 8);
  corio_conn_free(c);
  corio_conn_free(a.conn);
  corio_listener_free(l);
  /* The name is free again once the listener is gone. */
  CHECK_EQ(corio_net_listen("unix", name, &l), 0);
  corio_listener_free(l);
  return 0;
}

Test(unix_socket_linux, abstract_names) { run_program(2, abstract_main, NULL); }
