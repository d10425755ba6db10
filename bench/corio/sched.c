/* corio scenarios that need only the scheduler (corio/runtime.h). */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "corio_bench.h"

/* ---- yield_rt (1 P) ----
 * Methodology: two coroutines on one P; B yields in a loop until told to stop,
 * A times batches of P_BATCH corio_yield calls. Each of A's yields is a round
 * trip: A -> B -> A. One sample = batch time / P_BATCH; P_SMALL_WARM warm-up
 * batches (they also get B running), then P_YIELD_SAMPLES samples. */
static atomic_int yield_stop;
static atomic_llong yield_b_turns;

static void yielder(void *arg) {
  while (!atomic_load_explicit(&yield_stop, memory_order_relaxed)) {
    /* Only B writes the counter: a load and a store, like the floor's plain
     * increment, not a locked read-modify-write the floor does not pay. */
    atomic_store_explicit(&yield_b_turns,
                          atomic_load_explicit(&yield_b_turns, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    corio_yield();
  }
}

static void yield_rt(const bench_opts_t *o) {
  int warm = BENCH_PICK(o, P_SMALL_WARM), n = BENCH_PICK(o, P_YIELD_SAMPLES);
  bench_samples_t s;
  bench_samples_init(&s, (size_t)n);
  cb_check(corio_spawn(yielder, NULL), "spawn");
  int64_t phase = 0; /* start of the measured phase, for the time budget */
  for (int i = -warm; i < n; i++) {
    if (i == 0)
      phase = bench_now_ns();
    int64_t t0 = bench_now_ns();
    for (int j = 0; j < P_BATCH; j++)
      corio_yield();
    int64_t t1 = bench_now_ns();
    if (i >= 0) {
      bench_samples_add(&s, t1 - t0, P_BATCH);
      bench_progress(CB_IMPL, "round trips", (uint64_t)i + 1, (uint64_t)n);
      if (bench_over_budget(o, phase))
        break;
    }
  }
  atomic_store(&yield_stop, 1);
  corio_yield();
  /* Every yield of A must have let B run: otherwise this measured nothing. */
  long long turns = atomic_load(&yield_b_turns);
  if (turns < (long long)(warm + (int)s.n) * P_BATCH - 1)
    bench_die("yield_rt: B ran %lld times for %d yields", turns, (warm + (int)s.n) * P_BATCH);
  bench_emit_ns(o, CB_IMPL, &s, -1, "corio_yield ping-pong, 2 coroutines");
  bench_samples_free(&s);
}

/* ---- ready_xp (2 Ps) ----
 * Methodology: a waiter coroutine parks (corio_park; its unlock callback
 * publishes it as parked once its stack is switched out). The waker, another
 * coroutine, waits until the waiter is parked, spins P_READY_GAP_NS so the
 * other P's thread has gone idle (asleep), reads the clock (t0) and calls
 * corio_ready; the waiter reads the clock as soon as corio_park returns (t1).
 * The waker keeps spinning (keeps its P busy) until t1 is published, so the
 * waiter has to be run by the other P. Sample = t1 - t0. If the waiter has not
 * run after 100 ms the waker starts yielding (the sample then shows the delay
 * in the tail instead of hanging the benchmark). P_READY_WARM warm-up,
 * P_READY_SAMPLES samples. */
static _Atomic(corio_g_t *) parked_waiter;
static atomic_llong woke_at;
static atomic_int ready_stop;
static atomic_int late_wakeups;

static bool publish_parked(corio_g_t *g, void *arg) {
  atomic_store_explicit(&parked_waiter, g, memory_order_release);
  return true;
}

static void waiter(void *arg) {
  while (!atomic_load_explicit(&ready_stop, memory_order_acquire)) {
    corio_park(publish_parked, NULL, "bench ready_xp");
    atomic_store_explicit(&woke_at, bench_now_ns(), memory_order_release);
  }
}

static corio_g_t *await_parked(void) {
  corio_g_t *g;
  int64_t limit = bench_now_ns() + 5 * (int64_t)1000000000;
  while (!(g = atomic_exchange_explicit(&parked_waiter, NULL, memory_order_acquire))) {
    if (bench_now_ns() > limit)
      bench_die("ready_xp: waiter did not park within 5 s");
    corio_yield();
  }
  return g;
}

static void ready_xp(const bench_opts_t *o) {
  int warm = BENCH_PICK(o, P_READY_WARM), n = BENCH_PICK(o, P_READY_SAMPLES);
  bench_samples_t s;
  bench_samples_init(&s, (size_t)n);
  cb_check(corio_spawn(waiter, NULL), "spawn");
  int64_t phase = 0; /* start of the measured phase, for the time budget */
  for (int i = -warm; i <= n; i++) {
    if (i == 0)
      phase = bench_now_ns();
    corio_g_t *g = await_parked();
    if (i == n) { /* the last wakeup lets the waiter see stop and finish */
      atomic_store_explicit(&ready_stop, 1, memory_order_release);
      corio_ready(g);
      break;
    }
    bench_spin_ns(P_READY_GAP_NS);
    atomic_store_explicit(&woke_at, 0, memory_order_relaxed);
    int64_t t0 = bench_now_ns(), t1, late = t0 + 100000000, limit = t0 + 5000000000LL;
    corio_ready(g);
    while ((t1 = atomic_load_explicit(&woke_at, memory_order_acquire)) == 0) {
      int64_t now = bench_now_ns();
      if (now > limit)
        bench_die("ready_xp: the readied waiter did not run within 5 s");
      if (now > late)
        corio_yield();
    }
    if (t1 - t0 > 100000000)
      atomic_fetch_add(&late_wakeups, 1);
    if (i >= 0) {
      bench_samples_add(&s, t1 - t0, 1);
      bench_progress(CB_IMPL, "wakeups", (uint64_t)i + 1, (uint64_t)n);
      if (bench_over_budget(o, phase))
        n = i + 1; /* the next turn stops the waiter */
    }
  }
  char note[128];
  snprintf(note, sizeof note, "corio_ready to a parked coroutine, waker keeps its P%s",
           atomic_load(&late_wakeups) ? "; some waited for the waker to yield" : "");
  bench_emit_ns(o, CB_IMPL, &s, -1, note);
  bench_samples_free(&s);
}

/* ---- sleep_1ms (1 P) ----
 * Methodology: corio_sleep(1 ms) in a loop; sample = time around the call
 * minus 1 ms (the overshoot). Nothing else runs. P_TIMER_WARM warm-up,
 * P_TIMER_SAMPLES samples. */
static void sleep_1ms(const bench_opts_t *o) {
  int warm = BENCH_PICK(o, P_TIMER_WARM), n = BENCH_PICK(o, P_TIMER_SAMPLES);
  bench_samples_t s;
  bench_samples_init(&s, (size_t)n);
  int64_t phase = 0; /* start of the measured phase, for the time budget */
  for (int i = -warm; i < n; i++) {
    if (i == 0)
      phase = bench_now_ns();
    int64_t t0 = bench_now_ns();
    cb_check(corio_sleep(P_TIMER_NS), "corio_sleep");
    int64_t t1 = bench_now_ns();
    if (t1 - t0 < P_TIMER_NS)
      bench_die("corio_sleep returned early: %lld ns", (long long)(t1 - t0));
    if (i >= 0) {
      bench_samples_add_overshoot(&s, t1 - t0, P_TIMER_NS);
      bench_progress(CB_IMPL, "sleeps", (uint64_t)i + 1, (uint64_t)n);
      if (bench_over_budget(o, phase))
        break;
    }
  }
  bench_emit_ns(o, CB_IMPL, &s, -1, "corio_sleep");
  bench_samples_free(&s);
}

const cb_scenario_t cb_group_sched[] = {
    {"yield_rt", 1, CORIO_STACK_GUARDED, yield_rt},
    {"ready_xp", 2, CORIO_STACK_GUARDED, ready_xp},
    {"sleep_1ms", 1, CORIO_STACK_GUARDED, sleep_1ms},
    {NULL, 0, 0, NULL},
};
