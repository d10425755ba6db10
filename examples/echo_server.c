/* A TCP echo server: one coroutine per connection, each reading what its
 * client sends and writing it back until the client closes.
 *
 *   example_echo_server [address] [procs]     (default 127.0.0.1:7007, all CPUs)
 *
 * Try it with any TCP client, e.g. `nc 127.0.0.1 7007`. A connection idle
 * for a minute is dropped (a read deadline, renewed after each read).
 * Only the portable API is used: it runs the same on Linux and Windows. */
#include <stdio.h>
#include <stdlib.h>

#include "corio/corio.h"

#define IDLE_NS ((int64_t)60 * 1000000000)

static void serve(void *arg) {
  corio_conn_t *c = arg;
  char buf[16384];
  for (;;) {
    corio_conn_set_read_deadline(c, corio_nanotime() + IDLE_NS);
    ptrdiff_t n = corio_conn_read(c, buf, sizeof buf);
    if (n < 0) break; /* CORIO_EEOF: the client is done; or idle, reset ... */
    if (corio_conn_write(c, buf, (size_t)n) != n) break;
  }
  corio_conn_free(c);
}

static int run(void *arg) {
  const char *address = arg;
  corio_listener_t *l;
  int err = corio_net_listen("tcp", address, &l);
  if (err) {
    char text[256];
    corio_net_error_text(text, sizeof text, err, "listen", "tcp", address);
    fprintf(stderr, "echo_server: %s\n", text);
    return 1;
  }
  char bound[CORIO_NET_ADDRSTRLEN];
  corio_listener_addr(l, bound, sizeof bound);
  printf("echo_server: listening on %s\n", bound);
  fflush(stdout);
  for (;;) {
    corio_conn_t *c;
    err = corio_listener_accept(l, &c);
    if (err) {
      fprintf(stderr, "echo_server: accept: %s\n", corio_strerror(err));
      /* Out of descriptors: wait a little for connections to go. */
      corio_sleep(10 * 1000000);
      continue;
    }
    if (corio_spawn(serve, c) != 0) corio_conn_free(c);
  }
}

int main(int argc, char **argv) {
  corio_config_t cfg = CORIO_CONFIG_INIT;
  if (argc > 2) cfg.procs = atoi(argv[2]);
  int status = 0;
  int err = corio_run(&cfg, run, argc > 1 ? argv[1] : "127.0.0.1:7007", &status);
  if (err) {
    fprintf(stderr, "echo_server: %s\n", corio_strerror(err));
    return 1;
  }
  return status;
}
