/* Time arithmetic at the ends of int64_t (issue 12, item 7): durations and
 * deadlines saturate, so corio_sleep(INT64_MAX) lasts until shutdown instead
 * of overflowing into the past and returning at once (which it did: UBSan
 * reported the signed overflow in corio_sleep's deadline sum). */
#include <criterion/criterion.h>
#include <stdatomic.h>

#include "check.h"
#include "corio/runtime.h"
#include "corio/sync.h"
#include "sched.h"

static _Atomic int woke;

static void sleep_max(void *arg) {
  int64_t ns = *(int64_t *)arg;
  corio_sleep(ns);
  atomic_fetch_add(&woke, 1);
}

static void sleep_until_max(void *arg) {
  (void)arg;
  corio_sleep_until(INT64_MAX);
  atomic_fetch_add(&woke, 1);
}

static int64_t durations[] = {INT64_MAX, INT64_MAX - 1, INT64_MAX / 2 + 1, (int64_t)1 << 62};

static int long_sleeps_main(void *arg) {
  (void)arg;
  for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++)
    CHECK_EQ(corio_spawn(sleep_max, &durations[i]), 0);
  CHECK_EQ(corio_spawn(sleep_until_max, NULL), 0);
  /* Deadlines at the far end are accepted and never reached. */
  uint32_t sem = 0;
  corio_sema_release(&sem);
  CHECK_EQ(corio_sema_acquire_until(&sem, INT64_MAX), 0);
  corio_chan_t *c = corio_chan_create(sizeof(int), 1);
  int v = 4;
  CHECK_EQ(corio_chan_send(c, &v), 0);
  corio_select_case_t cs = {c, CORIO_SELECT_RECV, &v, false};
  CHECK_EQ(corio_select(&cs, 1, INT64_MAX), 0);
  corio_chan_destroy(c);
  /* Let the sleepers run, park and stay parked while time passes. */
  CHECK_EQ(corio_sleep(50 * MS), 0);
  CHECK_EQ(atomic_load(&woke), 0);
  return 0;
}

Test(time, sleep_of_int64_max_lasts_until_shutdown) {
  for (int procs = 1; procs <= 2; procs++) {
    atomic_store(&woke, 0);
    run_program(procs, long_sleeps_main, NULL);
    cr_assert_eq(atomic_load(&woke), 0, "a sleep of about INT64_MAX ns returned");
  }
}

Test(time, time_add_saturates) {
  cr_assert_eq(corio__time_add(1, INT64_MAX), INT64_MAX);
  cr_assert_eq(corio__time_add(INT64_MAX, 1), INT64_MAX);
  cr_assert_eq(corio__time_add(-2, INT64_MIN), INT64_MIN);
  cr_assert_eq(corio__time_add(5, -3), 2);
  cr_assert_eq(corio__time_add(INT64_MAX, INT64_MIN), -1);
}
