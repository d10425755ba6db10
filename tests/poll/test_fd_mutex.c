/* fd_mutex: references, read / write locks, close, overflow. */
#include <signal.h>
#include <stdlib.h>

#include "check.h"
#include "fd_mutex_testing.h"

/* ---- uncontended, on the test thread (no lock needs to wait) ---- */

Test(fd_mutex, lock_and_unlock) {
  corio__fd_mutex_t mu = CORIO__FD_MUTEX_INIT;
  cr_assert_eq(corio__fdmu_incref(&mu), 0);
  cr_assert_eq(corio__fdmu_rwlock(&mu, true), 0);
  cr_assert_eq(corio__fdmu_rwlock(&mu, false), 0); /* reads and writes don't exclude */
  corio__fdmu_view_t v = corio__fdmu_view(&mu);
  cr_assert(v.rlocked && v.wlocked && !v.closed);
  cr_assert_eq(v.refs, 3);
  cr_assert(!corio__fdmu_rwunlock(&mu, true));
  cr_assert(!corio__fdmu_rwunlock(&mu, false));
  cr_assert(!corio__fdmu_decref(&mu));
  v = corio__fdmu_view(&mu);
  cr_assert(!v.rlocked && !v.wlocked);
  cr_assert_eq(v.refs, 0);
  /* Relock after unlock. */
  cr_assert_eq(corio__fdmu_rwlock(&mu, true), 0);
  cr_assert(!corio__fdmu_rwunlock(&mu, true));
}

Test(fd_mutex, close_fails_later_operations) {
  corio__fd_mutex_t mu = CORIO__FD_MUTEX_INIT;
  cr_assert_eq(corio__fdmu_incref(&mu), 0);
  cr_assert_eq(corio__fdmu_incref_and_close(&mu), 0);
  cr_assert_eq(corio__fdmu_incref_and_close(&mu), CORIO_ECLOSING); /* second close */
  cr_assert_eq(corio__fdmu_incref(&mu), CORIO_ECLOSING);
  cr_assert_eq(corio__fdmu_rwlock(&mu, true), CORIO_ECLOSING);
  cr_assert_eq(corio__fdmu_rwlock(&mu, false), CORIO_ECLOSING);
  cr_assert(!corio__fdmu_decref(&mu)); /* the close's own: one left */
  cr_assert(corio__fdmu_decref(&mu));  /* last reference of a closed FD */
  corio__fdmu_view_t v = corio__fdmu_view(&mu);
  cr_assert(v.closed);
  cr_assert_eq(v.refs, 0);
}

Test(fd_mutex, unlock_reports_last_reference_of_closed) {
  corio__fd_mutex_t mu = CORIO__FD_MUTEX_INIT;
  cr_assert_eq(corio__fdmu_rwlock(&mu, false), 0);
  cr_assert_eq(corio__fdmu_incref_and_close(&mu), 0);
  cr_assert(!corio__fdmu_decref(&mu));
  cr_assert(corio__fdmu_rwunlock(&mu, false));
}

/* ---- overflow: every count refuses its 2^20-th member ---- */

Test(fd_mutex, overflow_gives_too_many) {
  const uint32_t max = CORIO__FDMU_COUNT_MAX;
  corio__fd_mutex_t mu = CORIO__FD_MUTEX_INIT;
  corio__fdmu_view_t v = {.refs = max - 1};
  corio__fdmu_set_view(&mu, &v);
  cr_assert_eq(corio__fdmu_incref(&mu), 0); /* the last one that fits */
  cr_assert_eq(corio__fdmu_view(&mu).refs, max);
  cr_assert_eq(corio__fdmu_incref(&mu), CORIO_ETOOMANY);
  cr_assert_eq(corio__fdmu_rwlock(&mu, true), CORIO_ETOOMANY);
  cr_assert_eq(corio__fdmu_rwlock(&mu, false), CORIO_ETOOMANY);
  cr_assert_eq(corio__fdmu_incref_and_close(&mu), CORIO_ETOOMANY);
  v = corio__fdmu_view(&mu); /* unchanged, not wrapped */
  cr_assert_eq(v.refs, max);
  cr_assert(!v.closed && !v.rlocked && !v.wlocked);
  cr_assert_eq(v.rwait + v.wwait, 0);
  cr_assert(!corio__fdmu_decref(&mu));
  cr_assert_eq(corio__fdmu_incref(&mu), 0);

  /* Waiter counts: the lock is held and max waiters are queued. */
  corio__fdmu_view_t w = {.rlocked = true, .wlocked = true, .refs = 2, .rwait = max, .wwait = max};
  corio__fdmu_set_view(&mu, &w);
  cr_assert_eq(corio__fdmu_rwlock(&mu, true), CORIO_ETOOMANY);
  cr_assert_eq(corio__fdmu_rwlock(&mu, false), CORIO_ETOOMANY);
  v = corio__fdmu_view(&mu);
  cr_assert_eq(v.rwait, max);
  cr_assert_eq(v.wwait, max);
  cr_assert_eq(v.refs, 2);
}

/* Waiting needs a coroutine; a thread that is not one is told so and leaves
 * no trace in the word. */
Test(fd_mutex, wait_off_coroutine_is_refused) {
  corio__fd_mutex_t mu = CORIO__FD_MUTEX_INIT;
  cr_assert_eq(corio__fdmu_rwlock(&mu, true), 0);
  cr_assert_eq(corio__fdmu_rwlock(&mu, true), CORIO_ENOTCORO);
  corio__fdmu_view_t v = corio__fdmu_view(&mu);
  cr_assert_eq(v.rwait, 0);
  cr_assert_eq(v.refs, 1);
}

Test(fd_mutex, decref_without_reference_is_fatal, .signal = SIGABRT) {
  corio__fd_mutex_t mu = CORIO__FD_MUTEX_INIT;
  corio__fdmu_decref(&mu);
}

Test(fd_mutex, unlock_not_held_is_fatal, .signal = SIGABRT) {
  corio__fd_mutex_t mu = CORIO__FD_MUTEX_INIT;
  cr_assert_eq(corio__fdmu_incref(&mu), 0);
  corio__fdmu_rwunlock(&mu, true);
}

/* ---- contended: coroutines on several Ps ---- */

enum { NWAIT = 8 };

static corio__fd_mutex_t cmu;
static _Atomic int started, failed_closing, acquired, finished;

static void lock_waiter(void *arg) {
  bool read = arg != NULL;
  atomic_fetch_add(&started, 1);
  int err = corio__fdmu_rwlock(&cmu, read);
  if (err == CORIO_ECLOSING) atomic_fetch_add(&failed_closing, 1);
  else {
    CHECK_EQ(err, 0);
    atomic_fetch_add(&acquired, 1);
    corio__fdmu_rwunlock(&cmu, read);
  }
  atomic_fetch_add(&finished, 1);
}

/* Wait (yielding) until the word shows n readers and n writers queued. */
static void wait_queued(uint32_t n) {
  int64_t give_up = corio_nanotime() + 5000 * MS;
  corio__fdmu_view_t v;
  while (v = corio__fdmu_view(&cmu), (v.rwait != n || v.wwait != n) && corio_nanotime() < give_up)
    corio_yield();
  CHECK_EQ(v.rwait, n);
  CHECK_EQ(v.wwait, n);
}

/* Take both locks, then queue NWAIT readers and NWAIT writers behind them. */
static void hold_both_with_waiters_queued(void) {
  CHECK_EQ(corio__fdmu_rwlock(&cmu, true), 0);
  CHECK_EQ(corio__fdmu_rwlock(&cmu, false), 0);
  for (int i = 0; i < NWAIT; i++) {
    CHECK_EQ(corio_spawn(lock_waiter, (void *)1), 0);
    CHECK_EQ(corio_spawn(lock_waiter, NULL), 0);
  }
  wait_queued(NWAIT);
}

static int close_unblocks_waiters_main(void *arg) {
  hold_both_with_waiters_queued();
  CHECK_EQ(corio__fdmu_incref_and_close(&cmu), 0);
  /* Every waiter wakes and fails, although both locks are still held. */
  wait_for(&finished, 2 * NWAIT);
  CHECK_EQ(atomic_load(&failed_closing), 2 * NWAIT);
  CHECK_EQ(atomic_load(&acquired), 0);
  corio__fdmu_view_t v = corio__fdmu_view(&cmu);
  CHECK_EQ(v.rwait + v.wwait, 0);
  CHECK_EQ(v.refs, 3);
  CHECK(!corio__fdmu_rwunlock(&cmu, true));
  CHECK(!corio__fdmu_decref(&cmu));
  CHECK(corio__fdmu_rwunlock(&cmu, false)); /* the last one */
  return 0;
}

Test(fd_mutex, close_unblocks_waiting_readers_and_writers) {
  run_program(4, close_unblocks_waiters_main, NULL);
}

/* Unlock hands the lock to queued waiters one at a time. */
static int unlock_wakes_waiters_main(void *arg) {
  hold_both_with_waiters_queued();
  CHECK(!corio__fdmu_rwunlock(&cmu, true));
  CHECK(!corio__fdmu_rwunlock(&cmu, false));
  wait_for(&finished, 2 * NWAIT);
  CHECK_EQ(atomic_load(&acquired), 2 * NWAIT);
  corio__fdmu_view_t v = corio__fdmu_view(&cmu);
  CHECK_EQ(v.refs, 0);
  CHECK(!v.rlocked && !v.wlocked);
  return 0;
}

Test(fd_mutex, unlock_wakes_waiters_in_turn) { run_program(4, unlock_wakes_waiters_main, NULL); }

/* Close while operations hold references on other Ps: exactly the last one
 * to leave learns that it must destroy, whoever it is. */
static _Atomic int holders_in, destroyers, go_close;

static void holder(void *arg) {
  bool read = (intptr_t)arg % 3 == 0, write = (intptr_t)arg % 3 == 1;
  int err = read ? corio__fdmu_rwlock(&cmu, true)
                 : write ? corio__fdmu_rwlock(&cmu, false) : corio__fdmu_incref(&cmu);
  if (err) {
    CHECK_EQ(err, CORIO_ECLOSING);
    atomic_fetch_add(&finished, 1);
    return;
  }
  atomic_fetch_add(&holders_in, 1);
  while (!atomic_load(&go_close)) corio_yield();
  for (int i = 0; i < (int)(intptr_t)arg % 5; i++) corio_yield();
  bool last = read ? corio__fdmu_rwunlock(&cmu, true)
                   : write ? corio__fdmu_rwunlock(&cmu, false) : corio__fdmu_decref(&cmu);
  if (last) atomic_fetch_add(&destroyers, 1);
  atomic_fetch_add(&finished, 1);
}

static int close_with_operations_in_flight_main(void *arg) {
  enum { N = 30 };
  for (int i = 0; i < N; i++) CHECK_EQ(corio_spawn(holder, (void *)(intptr_t)i), 0);
  /* Readers and writers beyond the first of each queue on the locks. */
  int64_t give_up = corio_nanotime() + 5000 * MS;
  while (corio__fdmu_view(&cmu).rwait + corio__fdmu_view(&cmu).wwait + atomic_load(&holders_in) <
             N &&
         corio_nanotime() < give_up)
    corio_yield();
  CHECK_EQ(corio__fdmu_incref_and_close(&cmu), 0);
  atomic_store(&go_close, 1);
  corio_yield();
  if (corio__fdmu_decref(&cmu)) atomic_fetch_add(&destroyers, 1);
  wait_for(&finished, N);
  CHECK_EQ(atomic_load(&destroyers), 1);
  corio__fdmu_view_t v = corio__fdmu_view(&cmu);
  CHECK(v.closed);
  CHECK_EQ(v.refs, 0);
  CHECK_EQ(v.rwait + v.wwait, 0);
  return 0;
}

Test(fd_mutex, close_with_operations_in_flight) {
  run_program(4, close_with_operations_in_flight_main, NULL);
}
