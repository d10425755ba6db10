/* fd_mutex under load: 4 Ps, 100k lock operations from many coroutines,
 * checking mutual exclusion of readers with readers and writers with writers,
 * then a close in the middle of the storm. */
#include "check.h"
#include "fd_mutex_testing.h"

enum { WORKERS = 16, OPS = 100000, PER_WORKER = OPS / WORKERS };

static corio__fd_mutex_t mu;
static _Atomic int readers_in, writers_in; /* holders of each lock right now */
static _Atomic int done_workers, ops_done, ops_closed, destroyers;
static _Atomic int close_after; /* close once ops_done reaches this (0: never) */
static _Atomic bool closed;     /* the close has been made */
static _Atomic int max_queued;  /* most waiters seen queued: proof of contention */

static uint32_t rnd(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

static void one_op(uint32_t *seed) {
  /* Past the mark, new operations wait for the close (those holding a lock
   * across a yield keep holding it), so the close lands in the middle of the
   * storm even when the OS keeps main's thread off the CPU for a while. */
  int mark = atomic_load(&close_after);
  while (mark && atomic_load(&ops_done) >= mark && !atomic_load(&closed)) corio_yield();
  uint32_t r = rnd(seed);
  int kind = (int)(r % 3);
  int err = kind == 2 ? corio__fdmu_incref(&mu) : corio__fdmu_rwlock(&mu, kind == 0);
  if (err) {
    CHECK_EQ(err, CORIO_ECLOSING);
    atomic_fetch_add(&ops_closed, 1);
    return;
  }
  _Atomic int *in = kind == 0 ? &readers_in : kind == 1 ? &writers_in : NULL;
  if (in) CHECK_EQ(atomic_fetch_add(in, 1), 0);
  corio__fdmu_view_t v = corio__fdmu_view(&mu);
  int q = (int)(v.rwait + v.wwait), m = atomic_load(&max_queued);
  while (q > m && !atomic_compare_exchange_weak(&max_queued, &m, q)) {
  }
  if (r & 0x100) corio_yield(); /* hold it across a switch now and then */
  if (in) CHECK_EQ(atomic_fetch_sub(in, 1), 1);
  bool last = kind == 2 ? corio__fdmu_decref(&mu) : corio__fdmu_rwunlock(&mu, kind == 0);
  if (last) atomic_fetch_add(&destroyers, 1);
  atomic_fetch_add(&ops_done, 1);
}

static void worker(void *arg) {
  uint32_t seed = (uint32_t)(uintptr_t)arg * 2654435761u + 1;
  for (int i = 0; i < PER_WORKER; i++) one_op(&seed);
  atomic_fetch_add(&done_workers, 1);
}

static int storm(void *arg) {
  atomic_store(&close_after, (int)(intptr_t)arg);
  for (int i = 0; i < WORKERS; i++) CHECK_EQ(corio_spawn(worker, (void *)(intptr_t)(i + 1)), 0);
  if (atomic_load(&close_after)) {
    while (atomic_load(&ops_done) < atomic_load(&close_after)) corio_yield();
    CHECK_EQ(corio__fdmu_incref_and_close(&mu), 0);
    atomic_store(&closed, true);
    if (corio__fdmu_decref(&mu)) atomic_fetch_add(&destroyers, 1);
  }
  int64_t give_up = corio_nanotime() + 120000 * MS;
  while (atomic_load(&done_workers) < WORKERS && corio_nanotime() < give_up) corio_sleep(MS);
  CHECK_EQ(atomic_load(&done_workers), WORKERS);
  CHECK_EQ(atomic_load(&ops_done) + atomic_load(&ops_closed), OPS);
  corio__fdmu_view_t v = corio__fdmu_view(&mu);
  CHECK_EQ(v.refs, 0);
  CHECK_EQ(v.rwait + v.wwait, 0);
  CHECK(!v.rlocked && !v.wlocked);
  return 0;
}

Test(fd_mutex_stress, hundred_thousand_operations_on_four_procs, .timeout = 300) {
  run_program(4, storm, (void *)0);
  cr_assert_eq(atomic_load(&ops_done), OPS);
  cr_assert_eq(atomic_load(&destroyers), 0);
  cr_assert_gt(atomic_load(&max_queued), 1, "the locks were never contended");
  cr_log_info("most waiters queued at once: %d", atomic_load(&max_queued));
}

Test(fd_mutex_stress, close_during_the_storm, .timeout = 300) {
  run_program(4, storm, (void *)(intptr_t)(OPS / 3));
  cr_assert(atomic_load(&ops_closed) > 0, "no operation saw the close");
  cr_assert_eq(atomic_load(&destroyers), 1, "exactly one last reference");
  cr_assert(corio__fdmu_view(&mu).closed);
}
