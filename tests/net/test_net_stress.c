/* Stress on 4 Ps: 10,000 TCP connections dialled, echoed and closed by
 * concurrent coroutines (one client and one server coroutine each); no
 * byte lost or changed (per-connection comparison and checksums on both
 * sides); descriptor / handle counts back to their baseline at the end.
 *
 * At most IN_FLIGHT connections are open at a time: each one costs two
 * descriptors, and the process's limit (here 20,000 by default) would not
 * hold 10,000 at once beside the runtime's own. */
#include "net_test.h"

#define CONNS 10000
#define IN_FLIGHT 1500
#define MAX_MSG 6000
#define STACK ((size_t)64 * 1024)

typedef struct stress {
  char addr[CORIO_NET_ADDRSTRLEN];
  corio_listener_t *l;
  corio_chan_t *tokens;     /* IN_FLIGHT slots */
  corio_wg_t wg;            /* clients and servers */
  _Atomic uint64_t sent_sum, echoed_sum, served_sum;
  _Atomic int ok, failed_dial, mismatched, accepted;
  _Atomic int first_err;
} stress_t;

static stress_t S;

static uint64_t fnv(const unsigned char *p, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

static void note_err(int err) {
  int zero = 0;
  atomic_compare_exchange_strong(&S.first_err, &zero, err);
}

static void server(void *p) {
  corio_conn_t *c = p;
  unsigned char buf[2048];
  uint64_t h = 1469598103934665603ULL;
  for (;;) {
    ptrdiff_t n = corio_conn_read(c, buf, sizeof buf);
    if (n < 0) {
      if (n != CORIO_EEOF) note_err((int)n);
      break;
    }
    for (ptrdiff_t i = 0; i < n; i++) h = (h ^ buf[i]) * 1099511628211ULL;
    if (corio_conn_write(c, buf, (size_t)n) != n) {
      note_err(-1);
      break;
    }
  }
  atomic_fetch_add(&S.served_sum, h);
  corio_conn_free(c);
  corio_wg_done(&S.wg);
}

static void acceptor(void *p) {
  for (int i = 0; i < CONNS; i++) {
    corio_conn_t *c = NULL;
    int err = corio_listener_accept(S.l, &c);
    if (err) {
      note_err(err);
      break;
    }
    atomic_fetch_add(&S.accepted, 1);
    corio_wg_add(&S.wg, 1);
    if (corio_spawn_stack(server, c, STACK) != 0) {
      corio_conn_free(c);
      corio_wg_done(&S.wg);
    }
  }
  corio_wg_done(&S.wg);
}

static void client(void *p) {
  uintptr_t id = (uintptr_t)p;
  unsigned char out[MAX_MSG], in[MAX_MSG];
  uint32_t x = (uint32_t)id * 2654435761u + 1;
  size_t len = 1 + (size_t)(x % MAX_MSG);
  for (size_t i = 0; i < len; i++) {
    x = x * 1103515245u + 12345u;
    out[i] = (unsigned char)(x >> 16);
  }
  corio_conn_t *c = NULL;
  int err = corio_net_dial("tcp", S.addr, corio_nanotime() + 60000 * MS, &c);
  if (err) {
    atomic_fetch_add(&S.failed_dial, 1);
    note_err(err);
  } else {
    uint64_t h = fnv(out, len);
    atomic_fetch_add(&S.sent_sum, h);
    if (corio_conn_write(c, out, len) != (ptrdiff_t)len) note_err(-2);
    corio_conn_close_write(c);
    size_t got = 0;
    for (;;) {
      ptrdiff_t n = corio_conn_read(c, in + got, sizeof in - got);
      if (n <= 0) break;
      got += (size_t)n;
      if (got == sizeof in) break;
    }
    atomic_fetch_add(&S.echoed_sum, fnv(in, got));
    if (got == len && memcmp(in, out, len) == 0) atomic_fetch_add(&S.ok, 1);
    else atomic_fetch_add(&S.mismatched, 1);
    corio_conn_free(c);
  }
  char token;
  corio_chan_recv(S.tokens, &token, NULL);
  corio_wg_done(&S.wg);
}

static int stress_main(void *arg) {
  test_net_setup();
  int base = test_count_handles();
  S.wg = (corio_wg_t)CORIO_WG_INIT;
  S.tokens = corio_chan_create(1, IN_FLIGHT);
  CHECK(S.tokens != NULL);
  CHECK_EQ(corio_net_listen("tcp4", "127.0.0.1:0", &S.l), 0);
  CHECK(corio_listener_addr(S.l, S.addr, sizeof S.addr) > 0);
  corio_wg_add(&S.wg, 1);
  CHECK_EQ(corio_spawn(acceptor, NULL), 0);
  for (int i = 0; i < CONNS; i++) {
    char token = 't';
    corio_chan_send(S.tokens, &token); /* blocks while IN_FLIGHT are open */
    corio_wg_add(&S.wg, 1);
    if (corio_spawn_stack(client, (void *)(uintptr_t)i, STACK) != 0) {
      note_err(-3);
      corio_chan_recv(S.tokens, &token, NULL);
      corio_wg_done(&S.wg);
    }
  }
  corio_wg_wait(&S.wg);
  corio_listener_free(S.l);
  corio_chan_destroy(S.tokens);
  CHECK_EQ(atomic_load(&S.first_err), 0);
  CHECK_EQ(atomic_load(&S.failed_dial), 0);
  CHECK_EQ(atomic_load(&S.mismatched), 0);
  CHECK_EQ(atomic_load(&S.ok), CONNS);
  CHECK_EQ(atomic_load(&S.accepted), CONNS);
  CHECK_EQ(atomic_load(&S.sent_sum), atomic_load(&S.served_sum));
  CHECK_EQ(atomic_load(&S.sent_sum), atomic_load(&S.echoed_sum));
  CHECK_EQ(test_count_handles(), base);
  return 0;
}

Test(net_stress, ten_thousand_connections_on_four_ps, .timeout = 600) {
  test_raise_handle_limit();
  run_program(4, stress_main, NULL);
}
