/* Semaphores keyed by address: corio_sema_acquire / _until / release. */
#include "sched.h"
#include "corio/sync.h"
#define CHECK_WAIT_MS 2000 /* the sync suites' bound for wait_for */
#include "check.h"
#include "thread_util.h"

/* ---- immediate acquire, FIFO wake-up order (1 P: repeatable order) ---- */

static int takes_available_tokens(void *arg) {
  uint32_t sem = 2;
  CHECK_EQ(corio_sema_acquire(&sem), 0);
  CHECK_EQ(corio_sema_acquire(&sem), 0);
  CHECK_EQ(sem, 0);
  CHECK_EQ(corio_sema_acquire_until(&sem, 1), CORIO_ETIMEOUT); /* past: poll */
  corio_sema_release(&sem);
  CHECK_EQ(corio_sema_acquire_until(&sem, 1), 0);
  CHECK_EQ(sem, 0);
  return 0;
}

Test(sema, acquire_takes_available_tokens) { run_program(1, takes_available_tokens, NULL); }

typedef struct fifo {
  uint32_t sem;
  _Atomic int blocked; /* waiters that are about to block */
  int order[8];
  _Atomic int norder;
  uint32_t *addr; /* where waiters wait */
} fifo_t;

static fifo_t fifo;

static void fifo_waiter(void *arg) {
  int id = (int)(intptr_t)arg;
  atomic_fetch_add(&fifo.blocked, 1);
  CHECK_EQ(corio_sema_acquire(fifo.addr), 0);
  fifo.order[atomic_fetch_add(&fifo.norder, 1)] = id;
}

/* Spawn waiters one by one, each parked before the next starts; then release
 * one token at a time and let the woken waiter record itself. */
static int release_wakes_in_fifo_order(void *arg) {
  fifo.addr = &fifo.sem;
  for (int i = 0; i < 5; i++) {
    CHECK_EQ(corio_spawn(fifo_waiter, (void *)(intptr_t)i), 0);
    wait_for(&fifo.blocked, i + 1); /* 1 P: it ran up to its park */
  }
  corio_yield();
  CHECK_EQ(atomic_load(&fifo.norder), 0); /* all still blocked */
  for (int i = 0; i < 5; i++) {
    corio_sema_release(fifo.addr);
    wait_for(&fifo.norder, i + 1);
  }
  for (int i = 0; i < 5; i++)
    CHECK_EQ(fifo.order[i], i);
  CHECK_EQ(fifo.sem, 0);
  return 0;
}

Test(sema, release_wakes_in_fifo_order) { run_program(1, release_wakes_in_fifo_order, NULL); }

/* ---- addresses sharing a root of the hash table ---- */

static uint32_t shared_root[2 * 251 * 2];

static void root_waiter(void *arg) {
  uint32_t *addr = arg;
  atomic_fetch_add(&fifo.blocked, 1);
  CHECK_EQ(corio_sema_acquire(addr), 0);
  fifo.order[atomic_fetch_add(&fifo.norder, 1)] = addr == &shared_root[0] ? 0 : 1;
}

/* Two addresses 251 * 8 bytes apart hash to the same root: a release on one
 * must wake a waiter on that one only. */
static int release_wakes_only_its_address(void *arg) {
  uint32_t *a = &shared_root[0], *b = &shared_root[2 * 251];
  CHECK_EQ(corio_spawn(root_waiter, a), 0);
  wait_for(&fifo.blocked, 1);
  CHECK_EQ(corio_spawn(root_waiter, b), 0);
  wait_for(&fifo.blocked, 2);
  corio_sema_release(b);
  wait_for(&fifo.norder, 1);
  CHECK_EQ(fifo.order[0], 1);
  corio_sema_release(a);
  wait_for(&fifo.norder, 2);
  CHECK_EQ(fifo.order[1], 0);
  return 0;
}

Test(sema, release_wakes_only_its_address) { run_program(1, release_wakes_only_its_address, NULL); }

/* ---- deadlines ---- */

static int acquire_until_times_out(void *arg) {
  uint32_t sem = 0;
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio_sema_acquire_until(&sem, t0 + 20 * MS), CORIO_ETIMEOUT);
  int64_t took = corio_nanotime() - t0;
  CHECK(took >= 20 * MS); /* never early */
  CHECK(took < 2000 * MS);
  CHECK_EQ(sem, 0);
  return 0;
}

Test(sema, acquire_until_times_out) { run_program(2, acquire_until_times_out, NULL); }

static void release_later(void *arg) {
  corio_sleep(10 * MS);
  corio_sema_release(arg);
}

static int acquire_until_woken_before_deadline(void *arg) {
  uint32_t sem = 0;
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio_spawn(release_later, &sem), 0);
  CHECK_EQ(corio_sema_acquire_until(&sem, t0 + 5000 * MS), 0);
  CHECK(corio_nanotime() - t0 < 4000 * MS);
  CHECK_EQ(sem, 0);
  return 0;
}

Test(sema, acquire_until_woken_before_deadline) {
  run_program(2, acquire_until_woken_before_deadline, NULL);
}

/* A waiter in the middle of an address's queue times out; the others keep
 * their order. */
static void timed_waiter(void *arg) {
  atomic_fetch_add(&fifo.blocked, 1);
  CHECK_EQ(corio_sema_acquire_until(fifo.addr, corio_nanotime() + 10 * MS), CORIO_ETIMEOUT);
  fifo.order[atomic_fetch_add(&fifo.norder, 1)] = 9;
}

static int timeout_leaves_queue_in_order(void *arg) {
  fifo.addr = &fifo.sem;
  CHECK_EQ(corio_spawn(fifo_waiter, (void *)(intptr_t)0), 0);
  wait_for(&fifo.blocked, 1);
  CHECK_EQ(corio_spawn(timed_waiter, NULL), 0);
  wait_for(&fifo.blocked, 2);
  CHECK_EQ(corio_spawn(fifo_waiter, (void *)(intptr_t)1), 0);
  wait_for(&fifo.blocked, 3);
  wait_for(&fifo.norder, 1); /* the timed waiter gave up, and nobody else left */
  CHECK_EQ(fifo.order[0], 9);
  corio_sema_release(fifo.addr);
  wait_for(&fifo.norder, 2);
  corio_sema_release(fifo.addr);
  wait_for(&fifo.norder, 3);
  CHECK_EQ(fifo.order[1], 0);
  CHECK_EQ(fifo.order[2], 1);
  return 0;
}

Test(sema, timeout_leaves_queue_in_order) { run_program(1, timeout_leaves_queue_in_order, NULL); }

/* ---- across Ps ---- */

typedef struct pingpong {
  uint32_t ping, pong;
  int rounds;
  corio_wg_t wg;
} pingpong_t;

static void ponger(void *arg) {
  pingpong_t *pp = arg;
  for (int i = 0; i < pp->rounds; i++) {
    CHECK_EQ(corio_sema_acquire(&pp->ping), 0);
    corio_sema_release(&pp->pong);
  }
  corio_wg_done(&pp->wg);
}

static void pinger(void *arg) {
  pingpong_t *pp = arg;
  for (int i = 0; i < pp->rounds; i++) {
    corio_sema_release(&pp->ping);
    CHECK_EQ(corio_sema_acquire(&pp->pong), 0);
  }
  corio_wg_done(&pp->wg);
}

/* Eight ping-pong pairs on four Ps: every wake-up is a release on one P for
 * a waiter that may have parked on another. */
static int wakes_across_ps(void *arg) {
  static pingpong_t pairs[8];
  for (int i = 0; i < 8; i++) {
    pairs[i] = (pingpong_t){.rounds = 5000, .wg = CORIO_WG_INIT};
    corio_wg_add(&pairs[i].wg, 2);
    CHECK_EQ(corio_spawn(ponger, &pairs[i]), 0);
    CHECK_EQ(corio_spawn(pinger, &pairs[i]), 0);
  }
  for (int i = 0; i < 8; i++) {
    CHECK_EQ(corio_wg_wait(&pairs[i].wg), 0);
    CHECK_EQ(pairs[i].ping, 0);
    CHECK_EQ(pairs[i].pong, 0);
  }
  return 0;
}

Test(sema, wakes_across_ps) { run_program(4, wakes_across_ps, NULL); }

/* Releases racing timeouts: every token is either taken by exactly one
 * successful acquire or still in the count. */
typedef struct race {
  uint32_t sem;
  _Atomic int taken;
  corio_wg_t wg;
} race_t;

static void racing_acquirer(void *arg) {
  race_t *r = arg;
  for (int i = 0; i < 200; i++) {
    int rc = corio_sema_acquire_until(&r->sem, corio_nanotime() + (i % 3) * 100000);
    CHECK(rc == 0 || rc == CORIO_ETIMEOUT);
    if (rc == 0)
      atomic_fetch_add(&r->taken, 1);
  }
  corio_wg_done(&r->wg);
}

static void racing_releaser(void *arg) {
  race_t *r = arg;
  for (int i = 0; i < 300; i++) {
    corio_sema_release(&r->sem);
    if (i % 4 == 0)
      corio_sleep(50000);
    else
      corio_yield();
  }
  corio_wg_done(&r->wg);
}

static int release_races_timeouts(void *arg) {
  static race_t r = {.wg = CORIO_WG_INIT};
  corio_wg_add(&r.wg, 6);
  for (int i = 0; i < 4; i++)
    CHECK_EQ(corio_spawn(racing_acquirer, &r), 0);
  for (int i = 0; i < 2; i++)
    CHECK_EQ(corio_spawn(racing_releaser, &r), 0);
  CHECK_EQ(corio_wg_wait(&r.wg), 0);
  CHECK_EQ(atomic_load(&r.taken) + (int)r.sem, 600);
  return 0;
}

Test(sema, release_races_timeouts) { run_program(4, release_races_timeouts, NULL); }

/* ---- release from scheduler context and from a foreign thread ---- */

static uint32_t timer_sem;
static void timer_releases(void *arg, uintptr_t seq) { corio_sema_release(&timer_sem); }

static int release_from_timer_callback(void *arg) {
  static corio__timer_t t;
  corio__timer_init(&t, timer_releases, NULL);
  int64_t t0 = corio_nanotime(); /* before arming: the timer fires at t0 + 5 ms or later */
  corio__timer_reset(&t, t0 + 5 * MS, 0);
  CHECK_EQ(corio_sema_acquire_until(&timer_sem, t0 + 5000 * MS), 0);
  CHECK(corio_nanotime() - t0 >= 5 * MS);
  return 0;
}

Test(sema, release_from_timer_callback) { run_program(2, release_from_timer_callback, NULL); }

static uint32_t thread_sem;
static void *thread_releases(void *arg) {
  for (int i = 0; i < 100; i++)
    corio_sema_release(&thread_sem);
  CHECK_EQ(corio_sema_acquire(&thread_sem), CORIO_ENOTCORO);
  return NULL;
}

static int release_from_foreign_thread(void *arg) {
  test_thread_t th;
  test_thread_start(&th, thread_releases, NULL);
  for (int i = 0; i < 100; i++)
    CHECK_EQ(corio_sema_acquire(&thread_sem), 0);
  /* The thread has made its last release; join without blocking a P long. */
  corio_syscall_enter();
  test_thread_join(th);
  corio_syscall_exit();
  CHECK_EQ(thread_sem, 0);
  return 0;
}

Test(sema, release_from_foreign_thread) { run_program(2, release_from_foreign_thread, NULL); }

/* ---- a waiter abandoned at shutdown does not haunt the next runtime ---- */

static uint32_t abandoned_sem;

static void abandoned_waiter(void *arg) {
  atomic_store(&fifo.blocked, 1);
  corio_sema_acquire(&abandoned_sem); /* never returns: main exits first */
}

static int abandon_a_waiter(void *arg) {
  CHECK_EQ(corio_spawn(abandoned_waiter, NULL), 0);
  wait_for(&fifo.blocked, 1); /* 1 P: it is parked now */
  return 0;
}

static int reuse_the_address(void *arg) {
  /* Its stack is gone; the table must not lead a release to it. */
  corio_sema_release(&abandoned_sem);
  CHECK_EQ(corio_sema_acquire(&abandoned_sem), 0);
  return 0;
}

Test(sema, shutdown_forgets_abandoned_waiters) {
  run_program(1, abandon_a_waiter, NULL);
  run_program(1, reuse_the_address, NULL);
}

/* ---- bad input ---- */

Test(sema, bad_input) {
  uint32_t sem = 1;
  cr_assert_eq(corio_sema_acquire(NULL), CORIO_EINVAL);
  cr_assert_eq(corio_sema_acquire_until(NULL, 0), CORIO_EINVAL);
  corio_sema_release(NULL); /* ignored */
  /* Not a coroutine: an error even though a token is available. */
  cr_assert_eq(corio_sema_acquire(&sem), CORIO_ENOTCORO);
  cr_assert_eq(corio_sema_acquire_until(&sem, 1), CORIO_ENOTCORO);
  cr_assert_eq(sem, 1);
}
