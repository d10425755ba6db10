/* The wake-up handshake (issue 12, item 1): work submitted without a P while
 * the only M looking for work is spinning, after that M dropped its P and
 * before it re-checked, must still run. The test hook (sched_testing.h)
 * holds the M in that window while a foreign thread readies a parked
 * coroutine (to the global queue, then wakep, which sees the spinning M and
 * wakes nobody). Before the fix the M then re-checked only the local queues
 * and slept for good; a watchdog turns that hang into a failure. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>

#include "check.h"
#include "corio/runtime.h"
#include "corio/sync.h"
#include "sched_testing.h"
#include "thread_util.h"

static corio_g_t *_Atomic target;  /* the parked coroutine, once parked */
static _Atomic int hook_fired;     /* the hook ran its window once */
static _Atomic int go, readied;    /* hook -> foreign thread -> hook */
static _Atomic int finished;       /* the round returned */
static _Atomic int quit;           /* the helper threads leave */

static void hook(int where) {
  if (where != CORIO__HOOK_P_DROPPED || !atomic_load(&target)) return;
  int zero = 0;
  if (!atomic_compare_exchange_strong(&hook_fired, &zero, 1)) return;
  atomic_store(&go, 1);
  while (!atomic_load(&readied)) test_sleep_ns(100000);
}

static void *foreign_readier(void *arg) {
  (void)arg;
  while (!atomic_load(&quit)) {
    if (atomic_exchange(&go, 0)) {
      corio_ready(atomic_load(&target));
      atomic_store(&readied, 1);
    }
    test_sleep_ns(100000);
  }
  return NULL;
}

static void *watchdog(void *arg) {
  (void)arg;
  for (int i = 0; i < 30000 && !atomic_load(&quit); i++) {
    test_sleep_ns(MS);
    if (atomic_exchange(&finished, 0)) i = 0;
  }
  if (!atomic_load(&quit)) {
    fprintf(stderr, "lost wake-up: a readied coroutine never ran (hook fired: %d)\n",
            atomic_load(&hook_fired));
    abort();
  }
  return NULL;
}

static bool record(corio_g_t *g, void *arg) {
  (void)arg;
  atomic_store(&target, g);
  return true;
}

static void parker(void *arg) {
  corio_park(record, NULL, "test: wait for a foreign ready");
  int v = 1;
  corio_chan_send(arg, &v);
}

static int wakeup_main(void *arg) {
  corio_chan_t *c = arg;
  CHECK_EQ(corio_spawn(parker, c), 0);
  int v = 0;
  CHECK_EQ(corio_chan_recv(c, &v, NULL), 0);
  CHECK_EQ(v, 1);
  return 0;
}

static void run_rounds(int procs, int rounds) {
  test_thread_t t1, t2;
  atomic_store(&quit, 0);
  test_thread_start(&t1, foreign_readier, NULL);
  test_thread_start(&t2, watchdog, NULL);
  corio__sched_test_hook = hook;
  int fired = 0;
  for (int i = 0; i < rounds; i++) {
    atomic_store(&target, NULL);
    atomic_store(&hook_fired, 0);
    atomic_store(&readied, 0);
    corio_chan_t *c = corio_chan_create(sizeof(int), 0);
    run_program(procs, wakeup_main, c);
    corio_chan_destroy(c);
    fired += atomic_load(&hook_fired);
    atomic_store(&finished, 1);
  }
  corio__sched_test_hook = NULL;
  atomic_store(&quit, 1);
  test_thread_join(t1);
  test_thread_join(t2);
  /* With one P the window is always reached: the only M spins, finds
   * nothing and drops its P with the coroutine parked. */
  if (procs == 1) cr_assert_eq(fired, rounds);
  else cr_assert_gt(fired, 0);
}

Test(wakeup, foreign_ready_while_the_only_m_drops_its_p_runs_1p) { run_rounds(1, 20); }

Test(wakeup, foreign_ready_while_an_m_drops_its_p_runs_2p) { run_rounds(2, 20); }
