/* ready_xp floor: one OS thread wakes another that sleeps in the kernel.
 *
 * This is what "ready a coroutine whose P is idle" costs at the bottom: the
 * waker publishes a word and calls futex_wake; the sleeper returns from
 * futex_wait. corio's idle P sleeps the same way (a futex, or epoll_wait
 * broken by an eventfd when it is the poller).
 *
 * Methodology: the waker spins P_READY_GAP_NS first so the sleeper is surely
 * asleep in futex_wait, reads the clock (t0), stores the sequence and wakes;
 * the sleeper reads the clock when futex_wait returns (t1) and publishes it.
 * The waker keeps its CPU busy (spins) until t1 is published, so the wakeup is
 * served by the other CPU, as with a busy waker P. Sample = t1 - t0 (one
 * wakeup). P_READY_WARM warm-up wakeups, P_READY_SAMPLES samples.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "floor.h"

static _Atomic uint32_t seq;       /* futex word: bumped by the waker */
static _Atomic int64_t woke_at;    /* t1 published by the sleeper, 0 when taken */
static _Atomic int stop;

static void futex_wait(_Atomic uint32_t *w, uint32_t val) {
  syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *w) {
  syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *sleeper(void *arg) {
  uint32_t seen = 0;
  while (!atomic_load_explicit(&stop, memory_order_acquire)) {
    uint32_t cur = atomic_load_explicit(&seq, memory_order_acquire);
    if (cur == seen) {
      futex_wait(&seq, seen);
      continue;
    }
    seen = cur;
    atomic_store_explicit(&woke_at, bench_now_ns(), memory_order_release);
  }
  return arg;
}

void floor_ready_xp(const bench_opts_t *o) {
  int warm = BENCH_PICK(o, P_READY_WARM), n = BENCH_PICK(o, P_READY_SAMPLES);
  bench_samples_t s;
  bench_samples_init(&s, (size_t)n);
  pthread_t t;
  if (pthread_create(&t, NULL, sleeper, NULL) != 0)
    bench_die("pthread_create");
  for (int i = -warm; i < n; i++) {
    bench_spin_ns(P_READY_GAP_NS);
    int64_t t0 = bench_now_ns();
    atomic_fetch_add_explicit(&seq, 1, memory_order_release);
    futex_wake(&seq);
    int64_t t1, limit = t0 + 1000000000; /* a lost wakeup is a bug: give up after 1 s */
    while ((t1 = atomic_load_explicit(&woke_at, memory_order_acquire)) == 0)
      if (bench_now_ns() > limit)
        bench_die("sleeper did not wake within 1 s");
    atomic_store_explicit(&woke_at, 0, memory_order_relaxed);
    if (i >= 0) {
      bench_samples_add(&s, t1 - t0, 1);
      bench_progress(FLOOR_IMPL, "wakeups", (uint64_t)i + 1, (uint64_t)n);
    }
  }
  atomic_store_explicit(&stop, 1, memory_order_release);
  atomic_fetch_add_explicit(&seq, 1, memory_order_release);
  futex_wake(&seq);
  pthread_join(t, NULL);
  bench_emit_ns(o, FLOOR_IMPL, &s, -1, "futex_wake to a sleeping thread; waker keeps its CPU");
  bench_samples_free(&s);
}
