/* Scheduler behaviour: life cycle, spawn, yield, park/ready, sleep, timers,
 * syscall handoff, foreign threads, shutdown, bad input. */
#include <criterion/criterion.h>
#include <fenv.h>
#include <stdatomic.h>
#include <signal.h>
#include <string.h>

#include "corio/runtime.h"
#include "test_util.h"
#include "thread_util.h"

static void nop(void *arg) { (void)arg; }

/* ---- life cycle ---- */

static int main_returns_42(void *arg) {
  (void)arg;
  return 42;
}

Test(sched, main_exit_status_reaches_embedder) {
  cr_assert_eq(corio_test_run(1, main_returns_42, NULL), 42);
  cr_assert_eq(corio_test_run(4, main_returns_42, NULL), 42);
}

Test(sched, init_twice_and_main_without_init_are_errors) {
  int st;
  cr_assert_eq(corio_main(main_returns_42, NULL, &st), CORIO_ENOTINIT);
  cr_assert_eq(corio_shutdown(), CORIO_ENOTINIT);
  cr_assert_eq(corio_init(NULL), 0);
  cr_assert_eq(corio_init(NULL), CORIO_EALREADY);
  cr_assert_eq(corio_main(NULL, NULL, &st), CORIO_EINVAL);
  cr_assert_eq(corio_main(main_returns_42, NULL, &st), 0);
  cr_assert_eq(st, 42);
  cr_assert_eq(corio_main(main_returns_42, NULL, &st), CORIO_EALREADY);
  cr_assert_eq(corio_spawn(NULL, NULL), CORIO_ESHUTDOWN);
  cr_assert_eq(corio_shutdown(), 0);
  /* And again, from scratch. */
  cr_assert_eq(corio_test_run(2, main_returns_42, NULL), 42);
}

Test(sched, bad_config_is_rejected) {
  corio_config_t cfg = CORIO_CONFIG_INIT;
  cfg.procs = -1;
  cr_assert_eq(corio_init(&cfg), CORIO_EINVAL);
  cfg.procs = CORIO_MAX_PROCS + 1;
  cr_assert_eq(corio_init(&cfg), CORIO_EINVAL);
  cfg.procs = 1;
  cfg.stack_size = 100;
  cr_assert_eq(corio_init(&cfg), CORIO_EINVAL);
  cfg.stack_size = (size_t)1 << 40;
  cr_assert_eq(corio_init(&cfg), CORIO_EINVAL);
  cfg.stack_size = 0;
  cfg.stack_policy = (corio_stack_policy_t)7;
  cr_assert_eq(corio_init(&cfg), CORIO_EINVAL);
  cfg.stack_policy = CORIO_STACK_GUARDED;
  corio_allocator_t half = {0};
  cfg.allocator = &half;
  cr_assert_eq(corio_init(&cfg), CORIO_EINVAL);
  cr_assert_eq(corio_procs(), 0);
}

Test(sched, corio_procs_env_sets_the_number_of_ps) {
  test_setenv("CORIO_PROCS", "3");
  cr_assert_eq(corio_init(NULL), 0);
  cr_assert_eq(corio_procs(), 3);
  cr_assert_eq(corio_shutdown(), 0);
  test_setenv("CORIO_PROCS", "zero");
  cr_assert_eq(corio_init(NULL), CORIO_EINVAL);
  test_unsetenv("CORIO_PROCS");
}

/* ---- bad input from coroutines and from plain threads ---- */

static int bad_spawn_main(void *arg) {
  (void)arg;
  if (corio_spawn(NULL, NULL) != CORIO_EINVAL) return 1;
  if (corio_spawn_stack(nop, NULL, 1) != CORIO_EINVAL) return 2;
  if (corio_spawn_stack(nop, NULL, (size_t)1 << 40) != CORIO_EINVAL) return 3;
  if (corio_spawn_stack(nop, NULL, CORIO_MIN_STACK) != 0) return 4;
  return 0;
}

Test(sched, bad_spawn_arguments_are_errors) {
  cr_assert_eq(corio_test_run(1, bad_spawn_main, NULL), 0);
}

Test(sched, blocking_calls_outside_a_coroutine_are_errors) {
  cr_assert_eq(corio_yield(), CORIO_ENOTCORO);
  cr_assert_eq(corio_sleep(1000), CORIO_ENOTCORO);
  cr_assert_eq(corio_park(NULL, NULL, "x"), CORIO_ENOTCORO);
  cr_assert_eq(corio_syscall_enter(), CORIO_ENOTCORO);
  cr_assert_eq(corio_syscall_exit(), CORIO_ENOTCORO);
  cr_assert_null(corio_current());
  cr_assert_eq(corio_spawn(nop, NULL), CORIO_ENOTINIT);
}

static int blocking_from_thread_rc[3];
static void *blocking_thread(void *arg) {
  (void)arg;
  blocking_from_thread_rc[0] = corio_yield();
  blocking_from_thread_rc[1] = corio_sleep(1000);
  blocking_from_thread_rc[2] = corio_park(NULL, NULL, "x");
  return NULL;
}

static int blocking_thread_main(void *arg) {
  (void)arg;
  test_thread_t t;
  test_thread_start(&t, blocking_thread, NULL);
  corio_syscall_enter();
  test_thread_join(t);
  corio_syscall_exit();
  return 0;
}

Test(sched, blocking_calls_from_a_foreign_thread_during_main_are_errors) {
  cr_assert_eq(corio_test_run(2, blocking_thread_main, NULL), 0);
  for (int i = 0; i < 3; i++) cr_assert_eq(blocking_from_thread_rc[i], CORIO_ENOTCORO);
}

/* ---- many coroutines ---- */

static atomic_int done_count;

static void count_one(void *arg) {
  (void)arg;
  atomic_fetch_add(&done_count, 1);
}

static int spawn_many_main(void *arg) {
  int n = (int)(intptr_t)arg;
  for (int i = 0; i < n; i++) {
    int rc = corio_spawn(count_one, NULL);
    if (rc) return rc;
    if (i % 1000 == 999) corio_yield();
  }
  while (atomic_load(&done_count) < n) corio_yield();
  return 0;
}

Test(sched, spawn_100k_coroutines_to_completion, .timeout = 120) {
  atomic_store(&done_count, 0);
  cr_assert_eq(corio_test_run(4, spawn_many_main, (void *)(intptr_t)100000), 0);
  cr_assert_eq(atomic_load(&done_count), 100000);
}

/* 100k coroutines alive at the same time need the unguarded policy: guarded
 * stacks cost two kernel mappings each. */
static corio_g_t *parked[100000];
static atomic_int nparked;

static bool note_parked(corio_g_t *g, void *arg) {
  parked[(intptr_t)arg] = g;
  atomic_fetch_add(&nparked, 1);
  return true;
}

static void park_until_released(void *arg) {
  corio_park(note_parked, arg, "test");
  atomic_fetch_add(&done_count, 1);
}

static int park_many_main(void *arg) {
  int n = (int)(intptr_t)arg;
  for (int i = 0; i < n; i++) {
    int rc = corio_spawn(park_until_released, (void *)(intptr_t)i);
    if (rc) return rc;
  }
  while (atomic_load(&nparked) < n) corio_yield();
  for (int i = 0; i < n; i++) corio_ready(parked[i]);
  while (atomic_load(&done_count) < n) corio_yield();
  return 0;
}

/* TSan gives each coroutine a fiber, and fibers share its ~8k thread slots. */
#ifdef CORIO_TSAN
#define NPARKED 6000
#else
#define NPARKED 100000
#endif

Test(sched, park_100k_coroutines_at_once_unguarded, .timeout = 120) {
  atomic_store(&done_count, 0);
  atomic_store(&nparked, 0);
  corio_config_t cfg = CORIO_CONFIG_INIT;
  cfg.procs = 4;
  cfg.stack_policy = CORIO_STACK_UNGUARDED;
  cfg.stack_size = 32 * 1024;
  int st = -1;
  cr_assert_eq(corio_run(&cfg, park_many_main, (void *)(intptr_t)NPARKED, &st), 0);
  cr_assert_eq(st, 0);
  cr_assert_eq(atomic_load(&done_count), NPARKED);
}

static int map_limit_main(void *arg) {
  (void)arg;
  /* Guarded stacks until the kernel's mapping limit: must be a clean error. */
  for (int i = 0; i < 100000; i++) {
    int rc = corio_spawn(park_until_released, (void *)(intptr_t)i);
    if (rc == CORIO_EMAPLIMIT) {
      int n = i;
      while (atomic_load(&nparked) < n) corio_yield();
      for (int j = 0; j < n; j++) corio_ready(parked[j]);
      while (atomic_load(&done_count) < n) corio_yield();
      return 0;
    }
    if (rc) return rc;
  }
  return 1; /* the limit was never reached */
}

/* The sanitizers need kernel mappings of their own and fail first. */
Test(sched, guarded_stacks_report_the_mapping_limit, .timeout = 120,
     .disabled = CORIO_TEST_SANITIZED || !TEST_HAS_MAP_LIMIT) {
  atomic_store(&done_count, 0);
  atomic_store(&nparked, 0);
  int st = corio_test_run(2, map_limit_main, NULL);
  if (st == 1) cr_skip_test("vm.max_map_count allows 100k guarded stacks here");
  cr_assert_eq(st, 0, "spawn failed with %d (%s)", st, corio_strerror(st));
}

/* ---- yield ---- */

static int order[64];
static atomic_int order_n;

static void yielder(void *arg) {
  int id = (int)(intptr_t)arg;
  for (int i = 0; i < 4; i++) {
    order[atomic_fetch_add(&order_n, 1)] = id;
    corio_yield();
  }
}

static int yield_pingpong_main(void *arg) {
  (void)arg;
  corio_spawn(yielder, (void *)1);
  corio_spawn(yielder, (void *)2);
  while (atomic_load(&order_n) < 8) corio_yield();
  return 0;
}

Test(sched, yield_alternates_on_one_p) {
  atomic_store(&order_n, 0);
  cr_assert_eq(corio_test_run(1, yield_pingpong_main, NULL), 0);
  for (int i = 1; i < 8; i++) cr_assert_neq(order[i], order[i - 1], "position %d", i);
}

/* With fp_env_per_coroutine, the rounding mode (MXCSR and the x87 control
 * word) is saved like a callee-saved register: each coroutine keeps its own
 * across switches, on one P and when it moves between Ms. The switch skips
 * loading the control words when they are equal, so both the equal and the
 * differing case are exercised. */
static atomic_int fp_errors;

static void fp_keeper(void *arg) {
  int mode = (int)(intptr_t)arg;
  if (fesetround(mode) != 0) atomic_fetch_add(&fp_errors, 1);
  for (int i = 0; i < 2000; i++) {
    corio_yield();
    volatile double one = 1.0, three = 3.0;
    double third = one / three;
    if (fegetround() != mode) atomic_fetch_add(&fp_errors, 1);
    /* 1/3 rounds differently upward and downward: the SSE unit really uses it. */
    if (mode == FE_UPWARD && !(third * 3.0 >= 1.0)) atomic_fetch_add(&fp_errors, 1);
    if (mode == FE_DOWNWARD && !(third * 3.0 <= 1.0)) atomic_fetch_add(&fp_errors, 1);
  }
}

static int fp_modes_main(void *arg) {
  (void)arg;
  static const int modes[] = {FE_UPWARD, FE_DOWNWARD, FE_TONEAREST, FE_TOWARDZERO, FE_TONEAREST};
  for (int r = 0; r < 4; r++)
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
      corio_spawn(fp_keeper, (void *)(intptr_t)modes[i]);
  for (int i = 0; i < 4000; i++) {
    corio_yield();
    if (fegetround() != FE_TONEAREST) atomic_fetch_add(&fp_errors, 1);
  }
  return 0;
}

Test(sched, fp_env_per_coroutine_keeps_each_rounding_mode) {
  for (int procs = 1; procs <= 2; procs++) {
    corio_config_t cfg = CORIO_CONFIG_INIT;
    cfg.procs = procs;
    cfg.fp_env_per_coroutine = true;
    atomic_store(&fp_errors, 0);
    int status = -1;
    cr_assert_eq(corio_run(&cfg, fp_modes_main, NULL, &status), 0);
    cr_assert_eq(status, 0);
    cr_assert_eq(atomic_load(&fp_errors), 0, "%d Ps: a coroutine saw another's rounding mode", procs);
  }
}

/* By default the control state belongs to the thread, as documented: on one
 * P, a mode one coroutine leaves set is what the next one runs with. */
static atomic_int seen_mode;

static void set_upward_and_yield(void *arg) {
  (void)arg;
  fesetround(FE_UPWARD);
  corio_yield();
  fesetround(FE_TONEAREST); /* restore before returning, as the contract asks */
}

static int shared_fp_main(void *arg) {
  (void)arg;
  corio_spawn(set_upward_and_yield, NULL);
  corio_yield(); /* the spawned coroutine runs, sets the mode and yields back */
  atomic_store(&seen_mode, fegetround());
  corio_yield();
  return 0;
}

Test(sched, fp_env_belongs_to_the_thread_by_default) {
  cr_assert_eq(corio_test_run(1, shared_fp_main, NULL), 0);
  cr_assert_eq(atomic_load(&seen_mode), FE_UPWARD);
  cr_assert_eq(fegetround(), FE_TONEAREST);
}

/* ---- park/ready across Ms ---- */

typedef struct {
  _Atomic(corio_g_t *) waiter;
  atomic_int turn;
} pingpong_t;

static bool publish(corio_g_t *g, void *arg) {
  atomic_store((_Atomic(corio_g_t *) *)arg, g);
  return true;
}

static corio_g_t *take(_Atomic(corio_g_t *) *slot) {
  corio_g_t *g;
  while (!(g = atomic_exchange(slot, NULL))) corio_yield();
  return g;
}

static pingpong_t pp;
static long shared_counter; /* plain: park/ready must order the accesses */
static atomic_bool ponger_done;

static void ponger(void *arg) {
  int rounds = (int)(intptr_t)arg;
  for (int i = 0; i < rounds; i++) {
    corio_park(publish, &pp.waiter, "pong");
    shared_counter++;
  }
  atomic_store_explicit(&ponger_done, true, memory_order_release);
}

static int park_ready_main(void *arg) {
  int rounds = (int)(intptr_t)arg;
  corio_spawn(ponger, arg);
  for (int i = 0; i < rounds; i++) {
    corio_g_t *g = take(&pp.waiter);
    shared_counter++;
    corio_ready(g);
  }
  /* Wait for the last increment; the flag's release/acquire orders it. */
  while (!atomic_load_explicit(&ponger_done, memory_order_acquire)) corio_yield();
  return 0;
}

Test(sched, park_ready_across_ms_with_4_ps, .timeout = 60) {
  shared_counter = 0;
  atomic_store(&ponger_done, false);
  cr_assert_eq(corio_test_run(4, park_ready_main, (void *)(intptr_t)20000), 0);
  cr_assert_eq(shared_counter, 40000);
}

/* ---- foreign threads ---- */

static atomic_int foreign_ran;

static void foreign_child(void *arg) {
  (void)arg;
  atomic_fetch_add(&foreign_ran, 1);
}

static void *foreign_spawner(void *arg) {
  (void)arg;
  for (int i = 0; i < 1000; i++)
    if (corio_spawn(foreign_child, NULL) != 0) return (void *)1;
  return NULL;
}

static int foreign_main(void *arg) {
  (void)arg;
  test_thread_t t;
  test_thread_start(&t, foreign_spawner, NULL);
  while (atomic_load(&foreign_ran) < 1000) corio_sleep(100000);
  corio_syscall_enter();
  void *r = test_thread_join(t);
  corio_syscall_exit();
  return r ? 1 : 0;
}

Test(sched, spawn_from_a_foreign_thread) {
  atomic_store(&foreign_ran, 0);
  cr_assert_eq(corio_test_run(2, foreign_main, NULL), 0);
  cr_assert_eq(atomic_load(&foreign_ran), 1000);
}

static _Atomic(corio_g_t *) foreign_waiter;

static void *foreign_readier(void *arg) {
  (void)arg;
  corio_g_t *g;
  while (!(g = atomic_exchange(&foreign_waiter, NULL))) test_sleep_ns(100000);
  corio_ready(g);
  return NULL;
}

static int foreign_ready_main(void *arg) {
  (void)arg;
  test_thread_t t;
  test_thread_start(&t, foreign_readier, NULL);
  corio_park(publish, &foreign_waiter, "foreign ready");
  corio_syscall_enter();
  test_thread_join(t);
  corio_syscall_exit();
  return 7;
}

Test(sched, ready_from_a_foreign_thread) {
  cr_assert_eq(corio_test_run(1, foreign_ready_main, NULL), 7);
  cr_assert_eq(corio_test_run(3, foreign_ready_main, NULL), 7);
}

static void *spawn_before_main_thread(void *arg) {
  (void)arg;
  return (void *)(intptr_t)corio_spawn(foreign_child, NULL);
}

static int wait_for_one(void *arg) {
  (void)arg;
  while (atomic_load(&foreign_ran) < 2) corio_yield();
  return 0;
}

Test(sched, spawn_between_init_and_main_runs_once_main_starts) {
  atomic_store(&foreign_ran, 0);
  corio_config_t cfg = CORIO_CONFIG_INIT;
  cfg.procs = 2;
  cr_assert_eq(corio_init(&cfg), 0);
  cr_assert_eq(corio_spawn(foreign_child, NULL), 0);
  test_thread_t t;
  test_thread_start(&t, spawn_before_main_thread, NULL);
  cr_assert_eq((intptr_t)test_thread_join(t), 0);
  int st;
  cr_assert_eq(corio_main(wait_for_one, NULL, &st), 0);
  cr_assert_eq(corio_shutdown(), 0);
}

/* ---- shutdown ---- */

static void park_forever(void *arg) {
  (void)arg;
  corio_park(NULL, NULL, "forever");
}

static void sleep_long(void *arg) {
  (void)arg;
  corio_sleep(3600LL * 1000000000);
}

static int leave_parked_main(void *arg) {
  (void)arg;
  for (int i = 0; i < 1000; i++) {
    corio_spawn(park_forever, NULL);
    corio_spawn(sleep_long, NULL);
  }
  corio_sleep(1000000);
  return 3;
}

Test(sched, shutdown_with_parked_and_sleeping_coroutines) {
  for (int round = 0; round < 3; round++)
    cr_assert_eq(corio_test_run(4, leave_parked_main, NULL), 3);
}

/* ---- stack overflow ---- */

static int recurse(volatile char *prev, int depth) {
  volatile char buf[512];
  buf[0] = (char)depth;
  if (prev) buf[1] = prev[0];
  return recurse(buf, depth + 1) + buf[0];
}

static void overflow(void *arg) {
  (void)arg;
  recurse(NULL, 0);
}

static int overflow_main(void *arg) {
  (void)arg;
  corio_spawn_stack(overflow, NULL, 64 * 1024);
  corio_sleep(5LL * 1000000000);
  return 0;
}

/* ASan replaces the guard-page fault with its own stack-overflow report, so
 * this one runs in the plain build only. */
Test(sched, stack_overflow_hits_the_guard_page, .signal = SIGSEGV, .disabled = CORIO_TEST_SANITIZED) {
  corio_test_run(1, overflow_main, NULL);
}

/* ---- timers and sleep ---- */

#define NSLEEPERS 200
static int64_t woke_at[NSLEEPERS];
static int64_t wanted[NSLEEPERS];
static int wake_order[NSLEEPERS];
static atomic_int nwoke;

static void sleeper(void *arg) {
  int i = (int)(intptr_t)arg;
  corio_sleep_until(wanted[i]);
  woke_at[i] = corio_nanotime();
  wake_order[atomic_fetch_add(&nwoke, 1)] = i;
}

static int timers_main(void *arg) {
  (void)arg;
  /* Spawned in a scrambled order. On one P none of them runs before main
   * blocks, so the deadlines (0.5 ms apart, the first 20 ms away) are set
   * after spawning: spawning is slow under the sanitizers. */
  for (int k = 0; k < NSLEEPERS; k++) corio_spawn(sleeper, (void *)(intptr_t)((k * 37) % NSLEEPERS));
  int64_t base = corio_nanotime() + 20000000;
  for (int i = 0; i < NSLEEPERS; i++) wanted[i] = base + (int64_t)i * 500000;
  while (atomic_load(&nwoke) < NSLEEPERS) corio_sleep(1000000);
  return 0;
}

Test(sched, timers_fire_in_order_and_never_early) {
  atomic_store(&nwoke, 0);
  cr_assert_eq(corio_test_run(1, timers_main, NULL), 0);
  for (int i = 0; i < NSLEEPERS; i++)
    cr_assert_geq(woke_at[i], wanted[i], "sleeper %d woke %lld ns early", i,
                  (long long)(wanted[i] - woke_at[i]));
  /* On one P the wake-ups come in deadline order. */
  for (int k = 1; k < NSLEEPERS; k++) cr_assert_lt(wake_order[k - 1], wake_order[k]);
}

static int sleep_idle_main(void *arg) {
  (void)arg;
  for (int i = 0; i < 100; i++) corio_spawn(sleep_long, NULL);
  int64_t cpu0 = test_cpu_time_ns();
  corio_sleep(300000000); /* 300 ms */
  int64_t used = test_cpu_time_ns() - cpu0;
  /* Idle Ms sleep in the poller or on a futex: far less than one busy core. */
  return used < 100000000 ? 0 : (int)(used / 1000000);
}

Test(sched, sleeping_coroutines_do_not_keep_an_m_busy) {
  int st = corio_test_run(4, sleep_idle_main, NULL);
  cr_assert_eq(st, 0, "300 ms of sleeping used %d ms of CPU", st);
}

/* ---- syscall handoff ---- */

static atomic_long progress;
static atomic_bool blocker_done;

static void blocker(void *arg) {
  (void)arg;
  corio_syscall_enter();
  test_sleep_ns(200000000); /* a plain OS sleep: the thread is blocked */
  corio_syscall_exit();
  atomic_store(&blocker_done, true);
}

static void worker(void *arg) {
  (void)arg;
  while (!atomic_load(&blocker_done)) {
    atomic_fetch_add(&progress, 1);
    corio_yield();
  }
}

static int handoff_main(void *arg) {
  long *during = arg;
  corio_spawn(blocker, NULL);
  corio_spawn(worker, NULL);
  corio_sleep(50000000);
  long a = atomic_load(&progress);
  corio_sleep(100000000);
  long b = atomic_load(&progress);
  *during = b - a;
  while (!atomic_load(&blocker_done)) corio_sleep(1000000);
  return 0;
}

Test(sched, syscall_hands_the_p_to_another_m) {
  long during = 0;
  atomic_store(&progress, 0);
  atomic_store(&blocker_done, false);
  cr_assert_eq(corio_test_run(1, handoff_main, &during), 0);
  /* With one P, the worker ran while the blocker held its thread in the OS. */
  cr_assert_gt(during, 1000, "worker made %ld steps while the blocker slept", during);
}
