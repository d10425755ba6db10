/* corio_mutex_t: exclusion, trylock, fairness, misuse. */
#include <signal.h>

#include "corio/sync.h"
#define CHECK_WAIT_MS 2000 /* the sync suites' bound for wait_for */
#include "check.h"

static int lock_and_trylock(void *arg) {
  corio_mutex_t m = CORIO_MUTEX_INIT;
  CHECK_EQ(corio_mutex_trylock(&m), 0);
  CHECK_EQ(corio_mutex_trylock(&m), CORIO_EWOULDBLOCK);
  CHECK_EQ(corio_mutex_unlock(&m), 0);
  CHECK_EQ(corio_mutex_lock(&m), 0);
  CHECK_EQ(corio_mutex_trylock(&m), CORIO_EWOULDBLOCK);
  CHECK_EQ(corio_mutex_unlock(&m), 0);
  CHECK_EQ(corio_mutex_trylock(&m), 0);
  CHECK_EQ(corio_mutex_unlock(&m), 0);
  return 0;
}

Test(mutex, lock_and_trylock) { run_program(1, lock_and_trylock, NULL); }

/* ---- 100 coroutines on 4 Ps counting to a known total ---- */

typedef struct counter {
  corio_mutex_t mu;
  long value;          /* guarded by mu; deliberately not atomic */
  _Atomic int inside;  /* coroutines in the critical section: must stay <= 1 */
  corio_wg_t wg;
} counter_t;

static counter_t ctr = {CORIO_MUTEX_INIT, 0, 0, CORIO_WG_INIT};

static void incrementer(void *arg) {
  for (int i = 0; i < 1000; i++) {
    CHECK_EQ(corio_mutex_lock(&ctr.mu), 0);
    CHECK_EQ(atomic_fetch_add(&ctr.inside, 1), 0);
    long v = ctr.value;
    if (i % 50 == 0)
      corio_yield(); /* hold it across a switch now and then: waiters park */
    ctr.value = v + 1;
    atomic_fetch_sub(&ctr.inside, 1);
    CHECK_EQ(corio_mutex_unlock(&ctr.mu), 0);
  }
  corio_wg_done(&ctr.wg);
}

static int contention_counts_to_total(void *arg) {
  corio_wg_add(&ctr.wg, 100);
  for (int i = 0; i < 100; i++)
    CHECK_EQ(corio_spawn(incrementer, NULL), 0);
  CHECK_EQ(corio_wg_wait(&ctr.wg), 0);
  CHECK_EQ(ctr.value, 100 * 1000);
  CHECK_EQ(ctr.mu.state, 0);
  return 0;
}

Test(mutex, contention_counts_to_total) { run_program(4, contention_counts_to_total, NULL); }

/* ---- starvation: a hog that re-locks at once cannot keep a waiter out ----
 * On one P the woken waiter always finds the hog holding the mutex again, so
 * without starvation mode it would wait forever. */

typedef struct hog {
  corio_mutex_t mu;
  _Atomic int stop;
  _Atomic int started;
  long rounds;
  int64_t waited;
  corio_wg_t wg;
} hog_t;

static hog_t hog = {CORIO_MUTEX_INIT, 0, 0, 0, 0, CORIO_WG_INIT};

static void hogger(void *arg) {
  atomic_store(&hog.started, 1);
  while (!atomic_load(&hog.stop)) {
    corio_mutex_lock(&hog.mu);
    hog.rounds++;
    corio_yield(); /* long critical sections, released only to re-lock */
    corio_mutex_unlock(&hog.mu);
  }
  corio_wg_done(&hog.wg);
}

static void latecomer(void *arg) {
  int64_t t0 = corio_nanotime();
  corio_mutex_lock(&hog.mu);
  hog.waited = corio_nanotime() - t0;
  atomic_store(&hog.stop, 1);
  corio_mutex_unlock(&hog.mu);
  corio_wg_done(&hog.wg);
}

static int waiter_is_not_starved(void *arg) {
  corio_wg_add(&hog.wg, 2);
  CHECK_EQ(corio_spawn(hogger, NULL), 0);
  wait_for(&hog.started, 1);
  corio_sleep(5 * MS);
  CHECK_EQ(corio_spawn(latecomer, NULL), 0);
  CHECK_EQ(corio_wg_wait(&hog.wg), 0);
  CHECK(hog.waited < 1000 * MS);
  CHECK(hog.rounds > 0);
  return 0;
}

Test(mutex, waiter_is_not_starved) { run_program(1, waiter_is_not_starved, NULL); }

/* ---- unlock by another coroutine (allowed, as in Go) ---- */

static corio_mutex_t handed = CORIO_MUTEX_INIT;
static _Atomic int handed_state;

static void unlocker(void *arg) {
  CHECK_EQ(corio_mutex_unlock(&handed), 0);
  atomic_store(&handed_state, 1);
}

static int unlock_from_another_coroutine(void *arg) {
  CHECK_EQ(corio_mutex_lock(&handed), 0);
  CHECK_EQ(corio_spawn(unlocker, NULL), 0);
  CHECK_EQ(corio_mutex_lock(&handed), 0); /* blocks until unlocker runs */
  CHECK_EQ(atomic_load(&handed_state), 1);
  CHECK_EQ(corio_mutex_unlock(&handed), 0);
  return 0;
}

Test(mutex, unlock_from_another_coroutine) { run_program(2, unlock_from_another_coroutine, NULL); }

/* ---- misuse and bad input ---- */

static int unlock_unlocked(void *arg) {
  corio_mutex_t m = CORIO_MUTEX_INIT;
  corio_mutex_unlock(&m);
  return 0;
}

Test(mutex, unlock_of_unlocked_is_fatal, .signal = SIGABRT) {
  run_program(1, unlock_unlocked, NULL);
}

Test(mutex, bad_input) {
  corio_mutex_t m = CORIO_MUTEX_INIT;
  cr_assert_eq(corio_mutex_lock(NULL), CORIO_EINVAL);
  cr_assert_eq(corio_mutex_trylock(NULL), CORIO_EINVAL);
  cr_assert_eq(corio_mutex_unlock(NULL), CORIO_EINVAL);
  cr_assert_eq(corio_mutex_lock(&m), CORIO_ENOTCORO); /* not a coroutine */
  /* The non-blocking calls work on any thread. */
  cr_assert_eq(corio_mutex_trylock(&m), 0);
  cr_assert_eq(corio_mutex_unlock(&m), 0);
}
