/* corio_wg_t: add / done / wait. */
#include <signal.h>

#include "corio/sync.h"
#include "check.h"
#include "park_check.h"

typedef struct work {
  corio_wg_t wg;
  _Atomic int finished;
  _Atomic int waiters_back;
} work_t;

static work_t w = {CORIO_WG_INIT, 0, 0};

static void worker(void *arg) {
  corio_sleep((int64_t)((intptr_t)arg % 5) * 100000); /* finish in mixed order */
  atomic_fetch_add(&w.finished, 1);
  CHECK_EQ(corio_wg_done(&w.wg), 0);
}

static int wait_returns_after_every_done(void *arg) {
  CHECK_EQ(corio_wg_wait(&w.wg), 0); /* zero: returns at once */
  CHECK_EQ(corio_wg_add(&w.wg, 200), 0);
  for (int i = 0; i < 200; i++)
    CHECK_EQ(corio_spawn(worker, (void *)(intptr_t)i), 0);
  CHECK_EQ(corio_wg_wait(&w.wg), 0);
  CHECK_EQ(atomic_load(&w.finished), 200);
  CHECK_EQ(w.wg.state, 0);
  return 0;
}

Test(waitgroup, wait_returns_after_every_done) {
  run_program(4, wait_returns_after_every_done, NULL);
}

static corio_wg_t gate = CORIO_WG_INIT;
static corio_wg_t back = CORIO_WG_INIT;

static corio_g_t *gate_waiters[50];
static _Atomic int gate_started;

static void gate_waiter(void *arg) {
  gate_waiters[(intptr_t)arg] = corio_current();
  atomic_fetch_add(&gate_started, 1);
  CHECK_EQ(corio_wg_wait(&gate), 0);
  atomic_fetch_add(&w.waiters_back, 1);
  corio_wg_done(&back);
}

/* Many waiters on one group are all released by the last done. */
static int every_waiter_is_released(void *arg) {
  corio_wg_add(&gate, 1);
  corio_wg_add(&back, 50);
  for (int i = 0; i < 50; i++)
    CHECK_EQ(corio_spawn(gate_waiter, (void *)(intptr_t)i), 0);
  /* Every waiter parked on the group before the last done. */
  wait_for(&gate_started, 50);
  for (int i = 0; i < 50; i++) wait_parked(gate_waiters[i], NULL);
  CHECK_EQ(atomic_load(&w.waiters_back), 0);
  CHECK_EQ(corio_wg_done(&gate), 0);
  CHECK_EQ(corio_wg_wait(&back), 0);
  CHECK_EQ(atomic_load(&w.waiters_back), 50);
  return 0;
}

Test(waitgroup, every_waiter_is_released) { run_program(4, every_waiter_is_released, NULL); }

static void quick_done(void *arg) { corio_wg_done(arg); }

/* The same group reused round after round, once each Wait has returned. */
static int reuse_after_wait(void *arg) {
  corio_wg_t wg = CORIO_WG_INIT;
  for (int round = 0; round < 200; round++) {
    CHECK_EQ(corio_wg_add(&wg, 3), 0);
    for (int i = 0; i < 3; i++)
      CHECK_EQ(corio_spawn(quick_done, &wg), 0);
    CHECK_EQ(corio_wg_wait(&wg), 0);
  }
  CHECK_EQ(wg.state, 0);
  return 0;
}

Test(waitgroup, reuse_after_wait) { run_program(4, reuse_after_wait, NULL); }

static int negative(void *arg) {
  corio_wg_t wg = CORIO_WG_INIT;
  corio_wg_add(&wg, 1);
  corio_wg_done(&wg);
  corio_wg_done(&wg);
  return 0;
}

Test(waitgroup, negative_counter_is_fatal, .signal = SIGABRT) { run_program(1, negative, NULL); }

Test(waitgroup, bad_input) {
  corio_wg_t wg = CORIO_WG_INIT;
  cr_assert_eq(corio_wg_add(NULL, 1), CORIO_EINVAL);
  cr_assert_eq(corio_wg_done(NULL), CORIO_EINVAL);
  cr_assert_eq(corio_wg_wait(NULL), CORIO_EINVAL);
  cr_assert_eq(corio_wg_wait(&wg), CORIO_ENOTCORO); /* not a coroutine */
  /* add and done work on any thread */
  cr_assert_eq(corio_wg_add(&wg, 2), 0);
  cr_assert_eq(corio_wg_done(&wg), 0);
  cr_assert_eq(corio_wg_done(&wg), 0);
  cr_assert_eq(wg.state, 0);
}
