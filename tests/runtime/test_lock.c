/* corio__lock_t (runtime/lock.c): mutual exclusion and progress under
 * contention from plain OS threads, including waiters that go to sleep while
 * a holder keeps the lock, and unlocks racing with waiters announcing
 * themselves (the plain-store unlock's window). */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdint.h>

#include "base.h"
#include "test_util.h"
#include "thread_util.h"

enum { THREADS = 4 };

static corio__lock_t lk = CORIO__LOCK_INIT;
static long counter;        /* plain: the lock must order every access */
static atomic_int inside;   /* holders at once: must never exceed 1 */
static atomic_int overlaps;

static void critical(void) {
  if (atomic_fetch_add(&inside, 1) != 0) atomic_fetch_add(&overlaps, 1);
  counter++;
  atomic_fetch_sub(&inside, 1);
}

typedef struct {
  int iters;
  int64_t hold_ns; /* sleep this long inside every 64th critical section */
} job_t;

static void *hammer(void *arg) {
  job_t *j = arg;
  for (int i = 0; i < j->iters; i++) {
    corio__lock(&lk);
    critical();
    if (j->hold_ns && i % 64 == 0) test_sleep_ns(j->hold_ns);
    corio__unlock(&lk);
  }
  return NULL;
}

static void run_threads(job_t *j) {
  test_thread_t t[THREADS];
  counter = 0;
  atomic_store(&overlaps, 0);
  for (int i = 0; i < THREADS; i++) test_thread_start(&t[i], hammer, j);
  for (int i = 0; i < THREADS; i++) test_thread_join(t[i]);
  cr_assert_eq(atomic_load(&overlaps), 0, "two holders at once");
  cr_assert_eq(counter, (long)THREADS * j->iters, "lost increments");
  /* Unlocked at the end: a fresh CAS takes it at once. */
  corio__lock(&lk);
  corio__unlock(&lk);
}

Test(lock, short_sections_exclude_each_other, .timeout = 120) {
  job_t j = {CORIO_TEST_SANITIZED ? 50000 : 300000, 0};
  run_threads(&j);
}

/* Holders that sleep make the others spin out and sleep in the kernel; every
 * one of them must get the lock again (a lost wake-up would at worst cost the
 * bounded re-check delay, never a hang). */
Test(lock, sleepers_are_woken_when_holders_sleep, .timeout = 120) {
  job_t j = {4000, 20 * 1000};
  run_threads(&j);
}
