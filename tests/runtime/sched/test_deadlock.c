/* Deadlock detection (corio_config_t.detect_deadlock): corio_main returns
 * CORIO_EDEADLOCK when no coroutine can run again, and never while one can
 * (a sleeper, a coroutine in a system call section, a select with a
 * timeout, a semaphore with a deadline). I/O waiters: test_deadlock_unix.c. */
#include <criterion/criterion.h>
#include <stdatomic.h>

#include "check.h"
#include "corio/runtime.h"
#include "corio/sync.h"
#include "thread_util.h"

static int run_detecting(int procs, corio_main_fn_t fn, void *arg, int *status) {
  corio_config_t cfg = CORIO_CONFIG_INIT;
  cfg.procs = procs;
  cfg.detect_deadlock = true;
  int rc = corio_init(&cfg);
  if (rc) return rc;
  rc = corio_main(fn, arg, status);
  int rc2 = corio_shutdown();
  cr_assert_eq(rc2, 0, "corio_shutdown: %s", corio_strerror(rc2));
  return rc;
}

static int returns_5(void *arg) {
  (void)arg;
  return 5;
}

/* After a deadlock and its shutdown, a new runtime works. */
static void assert_runtime_usable(int procs) {
  int st = -1;
  cr_assert_eq(run_detecting(procs, returns_5, NULL, &st), 0);
  cr_assert_eq(st, 5);
}

Test(deadlock, config_init_leaves_it_off) {
  corio_config_t cfg = CORIO_CONFIG_INIT;
  cr_assert(!cfg.detect_deadlock);
  cr_assert_str_eq(corio_strerror(CORIO_EDEADLOCK), "all coroutines are asleep: deadlock");
  cr_assert_str_eq(corio_err_name(CORIO_EDEADLOCK), "CORIO_EDEADLOCK");
  cr_assert_eq(CORIO_EDEADLOCK, -4118);
}

/* ---- reported ---- */

typedef struct {
  corio_chan_t *a, *b, *done;
  _Atomic int started;
} pair_t;

/* Each waits for the other's message first: neither ever sends. */
static void wait_a_then_send_b(void *arg) {
  pair_t *p = arg;
  atomic_fetch_add(&p->started, 1);
  int v;
  corio_chan_recv(p->a, &v, NULL);
  corio_chan_send(p->b, &v);
  corio_chan_send(p->done, &v);
}

static void wait_b_then_send_a(void *arg) {
  pair_t *p = arg;
  atomic_fetch_add(&p->started, 1);
  int v;
  corio_chan_recv(p->b, &v, NULL);
  corio_chan_send(p->a, &v);
  corio_chan_send(p->done, &v);
}

static int pair_main(void *arg) {
  pair_t *p = arg;
  CHECK_EQ(corio_spawn(wait_a_then_send_b, p), 0);
  CHECK_EQ(corio_spawn(wait_b_then_send_a, p), 0);
  int v;
  corio_chan_recv(p->done, &v, NULL);
  check_fail(__FILE__, __LINE__, "main received from a deadlocked pair");
  return 0;
}

Test(deadlock, two_coroutines_waiting_on_each_other_are_reported) {
  for (int procs = 1; procs <= 4; procs++) {
    pair_t p = {corio_chan_create(sizeof(int), 0), corio_chan_create(sizeof(int), 0),
                corio_chan_create(sizeof(int), 0), 0};
    int st = -1;
    cr_assert_eq(run_detecting(procs, pair_main, &p, &st), CORIO_EDEADLOCK, "procs %d", procs);
    cr_assert_eq(st, -1, "exit status written on a deadlock");
    cr_assert_eq(atomic_load(&p.started), 2);
    assert_checks_passed();
    /* The runtime is gone: destroying channels its abandoned coroutines
     * wait on is allowed. */
    corio_chan_destroy(p.a);
    corio_chan_destroy(p.b);
    corio_chan_destroy(p.done);
    assert_runtime_usable(procs);
  }
}

static int relock_main(void *arg) {
  corio_mutex_t *mu = arg;
  CHECK_EQ(corio_mutex_lock(mu), 0);
  corio_mutex_lock(mu); /* nobody will ever unlock it */
  check_fail(__FILE__, __LINE__, "main took a mutex it already held");
  return 0;
}

Test(deadlock, main_locking_a_mutex_it_holds_is_reported) {
  for (int procs = 1; procs <= 2; procs++) {
    corio_mutex_t mu = CORIO_MUTEX_INIT;
    int st = -1;
    cr_assert_eq(run_detecting(procs, relock_main, &mu, &st), CORIO_EDEADLOCK);
    assert_checks_passed();
    assert_runtime_usable(procs);
  }
}

typedef struct {
  corio_mutex_t mu;
  corio_wg_t wg;
} held_t;

/* Takes the mutex and exits without unlocking it. */
static void lock_and_leave(void *arg) {
  held_t *h = arg;
  corio_mutex_lock(&h->mu);
  corio_sleep(2 * MS); /* a pending timer meanwhile: no report yet */
  corio_wg_done(&h->wg);
}

static int abandoned_mutex_main(void *arg) {
  held_t *h = arg;
  corio_wg_add(&h->wg, 4);
  for (int i = 0; i < 4; i++) CHECK_EQ(corio_spawn(lock_and_leave, h), 0);
  corio_wg_wait(&h->wg);
  check_fail(__FILE__, __LINE__, "every locker finished: the mutex was unlocked");
  return 0;
}

/* The first locker leaves with the mutex held: the other three and main
 * (waiting for all four) can never run again, once the sleep is over. */
Test(deadlock, waiters_on_a_mutex_nobody_unlocks_are_reported) {
  for (int procs = 1; procs <= 4; procs += 3) {
    held_t h = {CORIO_MUTEX_INIT, CORIO_WG_INIT};
    int st = -1;
    cr_assert_eq(run_detecting(procs, abandoned_mutex_main, &h, &st), CORIO_EDEADLOCK);
    assert_checks_passed();
    assert_runtime_usable(procs);
  }
}

/* ---- not reported ---- */

static void sleep_then_send(void *arg) {
  corio_sleep(20 * MS);
  int v = 7;
  corio_chan_send(arg, &v);
}

static int wait_for_sleeper_main(void *arg) {
  corio_chan_t *c = arg;
  CHECK_EQ(corio_spawn(sleep_then_send, c), 0);
  int v = 0;
  CHECK_EQ(corio_chan_recv(c, &v, NULL), 0);
  CHECK_EQ(v, 7);
  CHECK_EQ(corio_sleep(10 * MS), 0);
  return 0;
}

Test(deadlock, a_sleeper_is_not_a_deadlock) {
  for (int procs = 1; procs <= 4; procs += 3) {
    corio_chan_t *c = corio_chan_create(sizeof(int), 0);
    int st = -1;
    cr_assert_eq(run_detecting(procs, wait_for_sleeper_main, c, &st), 0);
    cr_assert_eq(st, 0);
    assert_checks_passed();
    corio_chan_destroy(c);
  }
}

static int select_timeout_main(void *arg) {
  corio_chan_t *c = arg;
  int v;
  corio_select_case_t cs = {c, CORIO_SELECT_RECV, &v, false};
  CHECK_EQ(corio_select(&cs, 1, corio_nanotime() + 20 * MS), CORIO_ETIMEOUT);
  uint32_t sem = 0;
  CHECK_EQ(corio_sema_acquire_until(&sem, corio_nanotime() + 10 * MS), CORIO_ETIMEOUT);
  return 0;
}

Test(deadlock, a_select_or_semaphore_timeout_is_not_a_deadlock) {
  for (int procs = 1; procs <= 2; procs++) {
    corio_chan_t *c = corio_chan_create(sizeof(int), 0);
    int st = -1;
    cr_assert_eq(run_detecting(procs, select_timeout_main, c, &st), 0);
    cr_assert_eq(st, 0);
    assert_checks_passed();
    corio_chan_destroy(c);
  }
}

/* In a system call section for long enough that sysmon retakes its P and
 * every P goes idle. */
static void long_syscall_then_send(void *arg) {
  CHECK_EQ(corio_syscall_enter(), 0);
  test_sleep_ns(50 * MS);
  CHECK_EQ(corio_syscall_exit(), 0);
  int v = 3;
  corio_chan_send(arg, &v);
}

static int wait_for_syscall_main(void *arg) {
  corio_chan_t *c = arg;
  CHECK_EQ(corio_spawn(long_syscall_then_send, c), 0);
  int v = 0;
  CHECK_EQ(corio_chan_recv(c, &v, NULL), 0);
  CHECK_EQ(v, 3);
  return 0;
}

Test(deadlock, a_coroutine_in_a_system_call_is_not_a_deadlock) {
  for (int procs = 1; procs <= 2; procs++) {
    for (int round = 0; round < 3; round++) {
      corio_chan_t *c = corio_chan_create(sizeof(int), 0);
      int st = -1;
      cr_assert_eq(run_detecting(procs, wait_for_syscall_main, c, &st), 0, "procs %d", procs);
      cr_assert_eq(st, 0);
      assert_checks_passed();
      corio_chan_destroy(c);
    }
  }
}

/* ---- without the flag, nothing changes ---- */

typedef struct {
  corio_chan_t *c;
  _Atomic int parked;
} foreign_t;

/* A foreign thread readies main: allowed without the flag. */
static void *foreign_sender(void *arg) {
  foreign_t *f = arg;
  while (!atomic_load(&f->parked)) test_sleep_ns(MS);
  test_sleep_ns(20 * MS); /* main is in its receive by now, or about to be */
  int v = 9;
  while (corio_chan_try_send(f->c, &v) == CORIO_EWOULDBLOCK) test_sleep_ns(MS);
  return NULL;
}

static int foreign_main(void *arg) {
  foreign_t *f = arg;
  atomic_store(&f->parked, 1);
  int v = 0;
  CHECK_EQ(corio_chan_recv(f->c, &v, NULL), 0);
  CHECK_EQ(v, 9);
  return 0;
}

Test(deadlock, without_the_flag_a_foreign_thread_may_ready_main) {
  foreign_t f = {corio_chan_create(sizeof(int), 1), 0};
  test_thread_t t;
  test_thread_start(&t, foreign_sender, &f);
  run_program(2, foreign_main, &f);
  test_thread_join(t);
  corio_chan_destroy(f.c);
}
