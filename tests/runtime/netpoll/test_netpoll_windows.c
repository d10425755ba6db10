/* Poll descriptors over the IOCP backend (run under Wine in CI), driven
 * through the corio__pd API and corio__win_op_t on overlapped named pipes.
 *
 * Backend-level tests initialise the runtime without running it, so the test
 * thread is the only one dequeuing packets. */
#include <winsock2.h>
#include <windows.h>

#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corio/runtime.h"
#include "corio/sync.h"
#include "netpoll.h"
#include "park_check.h"
#include "netpoll_testing.h"
#include "netpoll_windows.h"

#define STATUS_CANCELLED_ 0xC0000120u

/* ---- pipes ---- */

/* An overlapped server end (for the port) and a synchronous client end (the
 * peer writes with plain blocking calls). */
typedef struct pipe_pair {
  HANDLE server;
  HANDLE client;
} pipe_pair_t;

static bool make_pipe(pipe_pair_t *p) {
  static _Atomic int counter;
  wchar_t name[128];
  swprintf(name, 128, L"\\\\.\\pipe\\corio-netpoll-%lu-%d", (unsigned long)GetCurrentProcessId(),
           atomic_fetch_add(&counter, 1));
  p->server = CreateNamedPipeW(name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED |
                                         FILE_FLAG_FIRST_PIPE_INSTANCE,
                               PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT, 1, 4096, 4096, 0,
                               NULL);
  if (p->server == INVALID_HANDLE_VALUE)
    return false;
  p->client = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
  if (p->client == INVALID_HANDLE_VALUE) {
    CloseHandle(p->server);
    return false;
  }
  /* The client is already there: the server end reports it as connected. */
  OVERLAPPED ov;
  memset(&ov, 0, sizeof ov);
  ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
  BOOL ok = ConnectNamedPipe(p->server, &ov);
  DWORD err = ok ? 0 : GetLastError();
  CloseHandle(ov.hEvent);
  return ok || err == ERROR_PIPE_CONNECTED;
}

static void close_pipe(pipe_pair_t *p) {
  CloseHandle(p->server);
  CloseHandle(p->client);
}

/* A pipe and a descriptor for its server end; NULL, with a failed check, when
 * either cannot be made. */
static corio__pd_t *open_piped(pipe_pair_t *p) {
  if (!make_pipe(p)) {
    check_fail(__FILE__, __LINE__, "make_pipe");
    return NULL;
  }
  corio__pd_t *pd = NULL;
  CHECK_EQ(corio__pd_open((uintptr_t)p->server, &pd), 0);
  return pd;
}

static void client_write(pipe_pair_t *p, const char *s) {
  DWORD n = 0;
  BOOL ok = WriteFile(p->client, s, (DWORD)strlen(s), &n, NULL);
  CHECK(ok);
  CHECK_EQ(n, strlen(s));
}

/* Start an overlapped read on the server end; it must stay pending. */
static bool start_read(pipe_pair_t *p, corio__win_op_t *op, corio__pd_t *pd, char *buf,
                       DWORD len) {
  memset(op, 0, sizeof *op);
  op->pd = pd;
  op->mode = 'r';
  if (ReadFile(p->server, buf, len, NULL, &op->ov)) {
    check_fail(__FILE__, __LINE__, "the read completed at once; it should be pending");
    return false;
  }
  DWORD err = GetLastError();
  if (err != ERROR_IO_PENDING) {
    char m[64];
    snprintf(m, sizeof m, "ReadFile failed: %lu", (unsigned long)err);
    check_fail(__FILE__, __LINE__, m);
    return false;
  }
  return true;
}

/* ---- a read parks and a write from another coroutine completes it ---- */

typedef struct reader {
  pipe_pair_t *p;
  corio__pd_t *pd;
  corio__win_op_t op;
  char buf[64];
  int result;
  corio_wg_t wg;
} reader_t;

static void reader_fn(void *arg) {
  reader_t *r = arg;
  CHECK_EQ(corio__pd_reset(r->pd, 'r'), CORIO__POLL_OK);
  if (start_read(r->p, &r->op, r->pd, r->buf, sizeof r->buf - 1))
    r->result = corio__pd_wait(r->pd, 'r');
  corio_wg_done(&r->wg);
}

static int pipe_read_main(void *arg) {
  pipe_pair_t p;
  corio__pd_t *pd = open_piped(&p);
  if (pd == NULL)
    return 1;
  reader_t r;
  memset(&r, 0, sizeof r);
  r.p = &p;
  r.pd = pd;
  r.result = -1;
  corio_wg_add(&r.wg, 1);
  CHECK_EQ(corio_spawn(reader_fn, &r), 0);
  if (wait_pd_parked(pd, 'r')) {
    CHECK(corio__netpoll_any_waiters());
    client_write(&p, "hello, port");
  }
  corio_wg_wait(&r.wg);
  CHECK_EQ(r.result, CORIO__POLL_OK);
  CHECK_EQ(corio__win_op_status(&r.op), 0);
  CHECK_EQ(corio__win_op_bytes(&r.op), strlen("hello, port"));
  CHECK(memcmp(r.buf, "hello, port", strlen("hello, port")) == 0);
  DWORD n = 0;
  CHECK(GetOverlappedResult(p.server, &r.op.ov, &n, FALSE));
  CHECK_EQ(n, strlen("hello, port"));
  corio__pd_unblock(pd);
  corio__pd_close(pd);
  close_pipe(&p);
  return 0;
}

Test(netpoll_windows, pipe_read_parks_and_write_from_coroutine_completes_it) {
  run_program(1, pipe_read_main, NULL);
}

Test(netpoll_windows, pipe_read_parks_and_write_from_coroutine_completes_it_2p) {
  run_program(2, pipe_read_main, NULL);
}

/* ---- CancelIoEx, then wait_canceled ---- */

typedef struct closer {
  corio__pd_t *pd;
  corio_wg_t wg;
} closer_t;

/* Close the descriptor (unblock) once its reader has parked. */
static void closer_fn(void *arg) {
  closer_t *c = arg;
  if (wait_pd_parked(c->pd, 'r'))
    corio__pd_unblock(c->pd);
  corio_wg_done(&c->wg);
}

static int cancel_main(void *arg) {
  bool by_close = arg != NULL;
  pipe_pair_t p;
  corio__pd_t *pd = open_piped(&p);
  if (pd == NULL)
    return 1;
  corio__win_op_t op;
  char buf[16];
  closer_t c = {pd, CORIO_WG_INIT};
  CHECK_EQ(corio__pd_reset(pd, 'r'), CORIO__POLL_OK);
  if (start_read(&p, &op, pd, buf, sizeof buf)) {
    int64_t start = corio_nanotime();
    if (by_close) {
      corio_wg_add(&c.wg, 1);
      CHECK_EQ(corio_spawn(closer_fn, &c), 0);
      CHECK_EQ(corio__pd_wait(pd, 'r'), CORIO__POLL_ERR_CLOSING);
      corio_wg_wait(&c.wg);
    } else {
      corio__pd_set_deadline(pd, start + 40 * MS, 'r');
      CHECK_EQ(corio__pd_wait(pd, 'r'), CORIO__POLL_ERR_TIMEOUT);
      CHECK(corio_nanotime() - start >= 40 * MS);
    }
    CHECK_EQ(corio__win_op_status(&op), 0x103); /* STATUS_PENDING: still in flight */
    CHECK(CancelIoEx(p.server, &op.ov));
    /* Whatever the deadline or closing state, this waits for the packet. */
    corio__pd_wait_canceled(pd, 'r');
    CHECK_EQ(corio__win_op_status(&op), STATUS_CANCELLED_);
    DWORD n = 0;
    CHECK(!GetOverlappedResult(p.server, &op.ov, &n, FALSE));
    CHECK_EQ(GetLastError(), ERROR_OPERATION_ABORTED);
  }
  if (!by_close)
    corio__pd_unblock(pd);
  corio__pd_close(pd);
  close_pipe(&p);
  return 0;
}

Test(netpoll_windows, cancel_after_deadline_then_wait_canceled_gets_aborted_completion) {
  run_program(1, cancel_main, NULL);
}

Test(netpoll_windows, cancel_after_close_then_wait_canceled_gets_aborted_completion) {
  run_program(1, cancel_main, (void *)1);
}

/* ---- the backend on its own (runtime initialised, no M running) ---- */

static void init_runtime(void) {
  corio_config_t cfg = CORIO_CONFIG_INIT;
  cfg.procs = 1;
  cr_assert_eq(corio_init(&cfg), 0);
  cr_log_info("netpoll_windows: blocking polls are cut short by %s",
              corio__netpoll_high_res_timer()
                  ? "a high-resolution timer packet"
                  : "the port wait's millisecond timeout (no wait completion packets here)");
}

static DWORD WINAPI break_later(LPVOID arg) {
  Sleep(30);
  corio__netpoll_break();
  return 0;
}

Test(netpoll_windows, break_from_another_thread_wakes_blocked_poller) {
  init_runtime();
  HANDLE th = CreateThread(NULL, 0, break_later, NULL, 0, NULL);
  cr_assert_not_null(th);
  int64_t t0 = corio_nanotime();
  corio__glist_t l = {0};
  corio__netpoll(-1, &l);
  int64_t took = corio_nanotime() - t0;
  WaitForSingleObject(th, INFINITE);
  CloseHandle(th);
  cr_expect_null(l.head);
  cr_expect_geq(took, 20 * MS, "woke after %lld ns, before the break", (long long)took);

  /* A burst is one packet: after one blocking poll returns, the next one
   * waits its whole time. */
  for (int i = 0; i < 1000; i++)
    corio__netpoll_break();
  t0 = corio_nanotime();
  corio__netpoll(-1, &l);
  cr_expect_lt(corio_nanotime() - t0, 1000 * MS);
  /* A nonblocking poll that takes the break passes it on. */
  corio__netpoll_break();
  corio__netpoll(0, &l);
  t0 = corio_nanotime();
  corio__netpoll(5000 * MS, &l);
  cr_expect_lt(corio_nanotime() - t0, 1000 * MS, "the break was swallowed by a nonblocking poll");
  t0 = corio_nanotime();
  corio__netpoll(60 * MS, &l);
  took = corio_nanotime() - t0;
  cr_expect_geq(took, 45 * MS, "returned after %lld ns: a break was left over", (long long)took);
  cr_expect(corio__netpoll_is_poll_fd((uintptr_t)corio__netpoll_port()));
  cr_assert_eq(corio_shutdown(), 0);
}

/* Poll until the stale counter moves past before, at most two seconds. */
static bool poll_until_stale(uint64_t before) {
  corio__glist_t l = {0};
  int64_t give_up = corio_nanotime() + 2000 * MS;
  while (corio__netpoll_debug_stale_events() == before && corio_nanotime() < give_up)
    corio__netpoll(10 * MS, &l);
  return l.head == NULL && corio__netpoll_debug_stale_events() > before;
}

Test(netpoll_windows, completion_for_closed_descriptor_is_dropped) {
  init_runtime();
  pipe_pair_t a, b;
  cr_assert(make_pipe(&a));
  cr_assert(make_pipe(&b));
  corio__pd_t *pda, *pdb;
  cr_assert_eq(corio__pd_open((uintptr_t)a.server, &pda), 0);
  corio__pd_unblock(pda);
  corio__pd_close(pda); /* a.server stays on the port under pda's old key */
  cr_assert_eq(corio__pd_open((uintptr_t)b.server, &pdb), 0);
  cr_assert_eq(pdb, pda, "the cache hands the same descriptor out again");

  /* An operation on the old handle that even names the new descriptor: the
   * key's sequence gives it away before the OVERLAPPED is read. */
  corio__win_op_t stale;
  char buf[16];
  cr_assert_eq(corio__pd_reset(pdb, 'r'), CORIO__POLL_OK);
  cr_assert(start_read(&a, &stale, pdb, buf, sizeof buf));
  uint64_t before = corio__netpoll_debug_stale_events();
  client_write(&a, "stale");
  cr_expect(poll_until_stale(before), "the stale packet was not seen, or it readied someone");
  cr_expect_eq(corio__pd_debug_slot(pdb, 'r'), 0, "the stale completion reached the descriptor");
  cr_expect_eq(corio__win_op_status(&stale), 0);

  /* Keys corio did not make, and packets without an operation, are ignored. */
  OVERLAPPED foreign;
  memset(&foreign, 0, sizeof foreign);
  cr_assert(PostQueuedCompletionStatus(corio__netpoll_port(), 0, 0x12340, &foreign));
  cr_assert(PostQueuedCompletionStatus(corio__netpoll_port(), 0, 1, NULL));
  corio__glist_t l = {0};
  corio__netpoll(50 * MS, &l);
  corio__netpoll(0, &l);
  cr_expect_null(l.head);
  cr_expect_eq(corio__pd_debug_slot(pdb, 'r'), 0);

  /* A genuine completion on the new handle readies the descriptor. */
  corio__win_op_t op;
  char buf2[16];
  cr_assert(start_read(&b, &op, pdb, buf2, sizeof buf2));
  client_write(&b, "fresh");
  int64_t give_up = corio_nanotime() + 2000 * MS;
  while (corio__pd_debug_slot(pdb, 'r') == 0 && corio_nanotime() < give_up)
    corio__netpoll(10 * MS, &l);
  cr_expect_eq(corio__pd_debug_slot(pdb, 'r'), 1, "the genuine completion did not arrive");
  cr_expect_eq(corio__win_op_bytes(&op), 5);
  cr_expect_null(l.head);
  assert_checks_passed();

  corio__pd_unblock(pdb);
  corio__pd_close(pdb);
  close_pipe(&a);
  close_pipe(&b);
  cr_assert_eq(corio_shutdown(), 0);
}

/* ---- timer resolution, reported ---- */

static int cmp_i64(const void *x, const void *y) {
  int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
  return (a > b) - (a < b);
}

static int overshoot_main(void *arg) {
  int64_t *samples = arg;
  pipe_pair_t p;
  corio__pd_t *pd = open_piped(&p);
  if (pd == NULL)
    return 1;
  for (int i = 0; i < 50; i++) {
    int64_t dl = corio_nanotime() + 1 * MS;
    corio__pd_set_deadline(pd, dl, 'r');
    CHECK_EQ(corio__pd_wait(pd, 'r'), CORIO__POLL_ERR_TIMEOUT);
    samples[i] = corio_nanotime() - dl;
    CHECK(samples[i] >= 0);
    corio__pd_set_deadline(pd, 0, 'r');
  }
  corio__pd_unblock(pd);
  corio__pd_close(pd);
  close_pipe(&p);
  return 0;
}

Test(netpoll_windows, deadline_overshoot_1ms) {
  static int64_t samples[50];
  run_program(1, overshoot_main, samples);
  qsort(samples, 50, sizeof samples[0], cmp_i64);
  cr_log_info("netpoll_windows: 1 ms deadline overshoot: median %.1f us (%s)", samples[25] / 1e3,
              corio__netpoll_high_res_timer() ? "high-resolution timer" : "port timeout");
  cr_expect_lt(samples[25], 50 * MS);
}
