/* Allocation failure in the net layer: listen, dial and accept are run with
 * the Nth allocation failing (base_testing.h), for each N until a run needs
 * no failing allocation. Each call then succeeds or returns CORIO_ENOMEM
 * with nothing half made (the ASan build's leak check), each does fail with
 * CORIO_ENOMEM for some N, and a run right after, failures off, works. */
#include <errno.h>

#include "base_testing.h"
#include "net_test.h"

enum { SWEEP_MAX = 64 };

static void listen_once(bool *ok, int *nomem) {
  corio_listener_t *l = NULL;
  int rc = corio_net_listen("tcp4", "127.0.0.1:0", &l);
  if (rc == CORIO_ENOMEM) {
    CHECK(l == NULL);
    (*nomem)++;
  } else {
    CHECK_EQ(rc, 0);
    *ok = true;
  }
  corio_listener_free(l);
}

static void dial_once(const char *addr, corio_listener_t *l, bool *ok, int *nomem) {
  corio_conn_t *c = NULL;
  int rc = corio_net_dial("tcp4", addr, 0, &c);
  if (rc == CORIO_ENOMEM) {
    CHECK(c == NULL);
    (*nomem)++;
    return;
  }
  CHECK_EQ(rc, 0);
  *ok = true;
  corio__fault_alloc_off();
  corio_conn_t *s = NULL;
  CHECK_EQ(corio_listener_accept(l, &s), 0); /* keep the backlog empty */
  corio_conn_free(s);
  corio_conn_free(c);
}

static void accept_once(const char *addr, corio_listener_t *l, uint64_t nth, bool *ok,
                        int *nomem) {
  corio_conn_t *c = NULL, *s = NULL;
  CHECK_EQ(corio_net_dial("tcp4", addr, 0, &c), 0);
  corio__fault_alloc_set(nth, 0);
  int rc = corio_listener_accept(l, &s);
  corio__fault_alloc_off();
  if (rc == CORIO_ENOMEM) {
    /* The connection was dropped: the dialler sees it end. */
    CHECK(s == NULL);
    (*nomem)++;
    char b[1];
    ptrdiff_t r = corio_conn_read(c, b, 1);
    CHECK(r == CORIO_EEOF || corio_net_errno((int)r) == ECONNRESET);
  } else {
    CHECK_EQ(rc, 0);
    *ok = true;
    CHECK_EQ(corio_conn_write(s, "a", 1), 1);
    char b[1];
    CHECK_EQ(corio_conn_read(c, b, 1), 1);
  }
  corio_conn_free(s);
  corio_conn_free(c);
}

static int sweep_main(void *arg) {
  char addr[CORIO_NET_ADDRSTRLEN];
  corio_listener_t *l = listen_local(addr, sizeof addr);
  int nomem_listen = 0, nomem_dial = 0, nomem_accept = 0;
  bool ok = false;
  for (uint64_t n = 1; n <= SWEEP_MAX && !ok; n++) {
    corio__fault_alloc_set(n, 0);
    listen_once(&ok, &nomem_listen);
    corio__fault_alloc_off();
  }
  CHECK(ok);
  ok = false;
  for (uint64_t n = 1; n <= SWEEP_MAX && !ok; n++) {
    corio__fault_alloc_set(n, 0);
    dial_once(addr, l, &ok, &nomem_dial);
    corio__fault_alloc_off();
  }
  CHECK(ok);
  ok = false;
  for (uint64_t n = 1; n <= SWEEP_MAX && !ok; n++) accept_once(addr, l, n, &ok, &nomem_accept);
  CHECK(ok);
  CHECK(nomem_listen > 0);
  CHECK(nomem_dial > 0);
  CHECK(nomem_accept > 0);
  /* Failures off: all of it works. */
  bool again = false;
  int none = 0;
  listen_once(&again, &none);
  CHECK(again);
  again = false;
  dial_once(addr, l, &again, &none);
  CHECK(again);
  again = false;
  accept_once(addr, l, 0, &again, &none);
  CHECK(again);
  CHECK_EQ(none, 0);
  corio_listener_free(l);
  return 0;
}

Test(net_alloc_fault, listen_dial_accept_sweep) { run_program(1, sweep_main, NULL); }
