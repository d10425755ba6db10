/* Name resolution: the resolver runs inside the syscall handoff, so on a
 * 1-P runtime a blocking resolver call does not stop other coroutines;
 * numeric addresses never reach it; errors name the host. */
#include <stdatomic.h>

#include "corio/os.h"
#include "net_test.h"

/* The resolver's thread waits (as for a slow DNS server) until the pipe
 * ping-pong on the runtime's only P has made ROUNDS round trips. That can
 * only happen if the P moved on: on the same P they would wait for each
 * other forever, so the hook gives up after ten seconds and the test
 * fails. */
#define ROUNDS 200
static _Atomic int rounds, hook_calls, hook_saw_progress;
static char hook_host[64];

static void slow_resolver(const char *host) {
  atomic_fetch_add(&hook_calls, 1);
  snprintf(hook_host, sizeof hook_host, "%s", host);
  int64_t give_up = corio_nanotime() + 10000 * MS;
  while (atomic_load(&rounds) < ROUNDS && corio_nanotime() < give_up) {
    /* A plain spin: this thread is inside the handoff, not a coroutine. */
    for (volatile int i = 0; i < 1000; i++) {}
  }
  atomic_store(&hook_saw_progress, atomic_load(&rounds) >= ROUNDS);
}

typedef struct pingpong {
  corio_file_t *r1, *w1, *r2, *w2;
  _Atomic int stop, done;
} pingpong_t;

static void ponger(void *p) {
  pingpong_t *pp = p;
  char b;
  while (corio_file_read(pp->r1, &b, 1) == 1)
    if (corio_file_write(pp->w2, &b, 1) != 1) break;
}

static void pinger(void *p) {
  pingpong_t *pp = p;
  char b = 'x';
  while (!atomic_load(&pp->stop)) {
    if (corio_file_write(pp->w1, &b, 1) != 1 || corio_file_read(pp->r2, &b, 1) != 1) break;
    atomic_fetch_add(&rounds, 1);
  }
  atomic_store(&pp->done, 1);
}

typedef struct lookup_arg {
  int err;
  corio_listener_t *l;
  corio_wg_t wg;
} lookup_arg_t;

static void lookup_localhost(void *p) {
  lookup_arg_t *a = p;
  /* localhost comes from the hosts file, through the system resolver. */
  a->err = corio_net_listen("tcp", "localhost:0", &a->l);
  corio_wg_done(&a->wg);
}

static int handoff_main(void *arg) {
  pingpong_t pp = {0};
  CHECK_EQ(corio_file_pipe(&pp.r1, &pp.w1), 0);
  CHECK_EQ(corio_file_pipe(&pp.r2, &pp.w2), 0);
  CHECK_EQ(corio_spawn(ponger, &pp), 0);
  CHECK_EQ(corio_spawn(pinger, &pp), 0);
  corio__net_resolve_hook = slow_resolver;
  lookup_arg_t a = {.wg = CORIO_WG_INIT};
  corio_wg_add(&a.wg, 1);
  CHECK_EQ(corio_spawn(lookup_localhost, &a), 0);
  /* Parked, not yielding: the P's only work is the ping-pong. The hook
   * bounds the wait. */
  corio_wg_wait(&a.wg);
  corio__net_resolve_hook = NULL;
  CHECK_EQ(atomic_load(&hook_calls), 1);
  CHECK(strcmp(hook_host, "localhost") == 0);
  CHECK(atomic_load(&hook_saw_progress)); /* the ping-pong ran meanwhile */
  CHECK_EQ(a.err, 0);
  char addr[CORIO_NET_ADDRSTRLEN];
  if (a.l) CHECK(corio_listener_addr(a.l, addr, sizeof addr) > 0);
  CHECK(strncmp(addr, "127.0.0.1:", 10) == 0 || strncmp(addr, "[::1]:", 6) == 0);
  corio_listener_free(a.l);
  atomic_store(&pp.stop, 1);
  wait_for(&pp.done, 1);
  corio_file_close(pp.w1); /* the ponger reads EOF and leaves */
  corio_file_free(pp.r2);
  corio_file_free(pp.w2);
  corio_file_free(pp.w1);
  corio_sleep(MS);
  corio_file_free(pp.r1);
  return 0;
}

Test(resolve, blocking_resolver_does_not_stop_other_coroutines_on_one_p) {
  run_program(1, handoff_main, NULL);
}

static void count_calls(const char *host) { atomic_fetch_add(&hook_calls, 1); }

static int numeric_main(void *arg) {
  atomic_store(&hook_calls, 0);
  corio__net_resolve_hook = count_calls;
  corio_listener_t *l = NULL;
  corio_conn_t *c = NULL;
  CHECK_EQ(corio_net_listen("tcp", "127.0.0.1:0", &l), 0);
  corio_listener_free(l);
  CHECK_EQ(corio_net_listen("tcp", ":0", &l), 0);
  corio_listener_free(l);
  CHECK_EQ(corio_net_listen("tcp", "1.2.3:80", &l), CORIO_EBADADDR);
  CHECK_EQ(corio_net_listen("tcp", "300.1.1.1:80", &l), CORIO_EBADADDR);
  CHECK_EQ(corio_net_dial("tcp", "[::1%1]:1", corio_nanotime() - 1, &c) != 0, 1);
  CHECK_EQ(atomic_load(&hook_calls), 0); /* never asked */
  CHECK_EQ(corio_net_dial("tcp", "localhost:1", 0, &c) != 0, 1);
  CHECK_EQ(atomic_load(&hook_calls), 1); /* a name is */
  corio__net_resolve_hook = NULL;
  return 0;
}

Test(resolve, numeric_addresses_skip_the_resolver) { run_program(1, numeric_main, NULL); }

static int not_found_main(void *arg) {
  corio_conn_t *c = NULL;
  const char *addr = "no-such-host.invalid:80";
  int err = corio_net_dial("tcp", addr, 0, &c);
  /* .invalid never resolves (RFC 6761); without a DNS server the resolver
   * may say "try again" instead. */
  CHECK(err == CORIO_ENOSUCHHOST || err == CORIO_ERESOLVAGAIN || err == CORIO_ERESOLVFAIL);
  char text[256];
  int n = corio_net_error_text(text, sizeof text, err, "dial", "tcp", addr);
  CHECK(n > 0);
  char want[128];
  snprintf(want, sizeof want, "dial tcp: lookup no-such-host.invalid: %s", corio_strerror(err));
  CHECK(strcmp(text, want) == 0);
  CHECK(strcmp(corio_strerror(CORIO_ENOSUCHHOST), "no such host") == 0);
  CHECK(strcmp(corio_err_name(CORIO_ENOSUCHHOST), "CORIO_ENOSUCHHOST") == 0);
  /* A deadline already past: the name is not even looked up. */
  CHECK_EQ(corio_net_dial("tcp", "localhost:1", corio_nanotime() - 1, &c), CORIO_ETIMEOUT);
  return 0;
}

Test(resolve, host_not_found_names_the_host) { run_program(1, not_found_main, NULL); }
