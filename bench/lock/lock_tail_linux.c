/* The short runtime lock's tail latency (issue 12, item 12): the lock as it
 * was (three-state futex lock whose unlock is a plain store when it reads
 * "no sleeper", with sleepers re-checking every 200 us because that store
 * can erase a waiter's announcement) against the textbook futex mutex
 * (Drepper's "mutex 2": unlock by exchange, wake when it was contended),
 * which corio now uses. Both are written out here so that they can be run
 * side by side in one binary.
 *
 * Workload: T threads (2 and 4) each take the lock, do a short section (a
 * few dependent increments of shared data, like a channel's or poll
 * descriptor's bookkeeping), release it, and do a little work outside.
 * Each acquisition's latency (from the call to holding the lock) is
 * recorded; the report gives p50, p99, p99.9 and the maximum in ns.
 *
 *   bench_lock_tail [iterations per thread, default 200000]
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void futex_wait(_Atomic uint32_t *a, uint32_t v, int64_t ns) {
  struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
  syscall(SYS_futex, a, FUTEX_WAIT_PRIVATE, v, ns < 0 ? NULL : &ts, NULL, 0);
}
static void futex_wake(_Atomic uint32_t *a, int n) {
  syscall(SYS_futex, a, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

static void slow_lock(_Atomic uint32_t *s, int64_t wait_ns) {
  uint32_t c = 1;
  for (int i = 0; i < 64; i++) {
    c = 0;
    if (atomic_load_explicit(s, memory_order_relaxed) == 0 &&
        atomic_compare_exchange_weak_explicit(s, &c, 1, memory_order_acquire, memory_order_relaxed))
      return;
    __builtin_ia32_pause();
  }
  if (c != 2) c = atomic_exchange_explicit(s, 2, memory_order_acquire);
  while (c != 0) {
    futex_wait(s, 2, wait_ns);
    c = atomic_exchange_explicit(s, 2, memory_order_acquire);
  }
}

static inline void lock(_Atomic uint32_t *s, int64_t wait_ns) {
  uint32_t c = 0;
  if (!atomic_compare_exchange_strong_explicit(s, &c, 1, memory_order_acquire, memory_order_relaxed))
    slow_lock(s, wait_ns);
}

/* The old release: a plain store unless it reads "sleepers". */
static inline void unlock_plain(_Atomic uint32_t *s) {
  if (atomic_load_explicit(s, memory_order_relaxed) != 2)
    atomic_store_explicit(s, 0, memory_order_release);
  else if (atomic_exchange_explicit(s, 0, memory_order_release) == 2)
    futex_wake(s, 1);
}

/* The textbook release. */
static inline void unlock_xchg(_Atomic uint32_t *s) {
  if (atomic_exchange_explicit(s, 0, memory_order_release) == 2) futex_wake(s, 1);
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct {
  _Atomic uint32_t state;
  char pad[60];
  volatile uint64_t data[4];
  int textbook;
  long iters;
  _Atomic int ready, go;
} shared_t;

typedef struct {
  shared_t *sh;
  int64_t *lat;
} arg_t;

static void *worker(void *p) {
  arg_t *a = p;
  shared_t *sh = a->sh;
  atomic_fetch_add(&sh->ready, 1);
  while (!atomic_load(&sh->go)) {
  }
  uint64_t x = 1;
  for (long i = 0; i < sh->iters; i++) {
    int64_t t0 = now_ns();
    lock(&sh->state, sh->textbook ? -1 : 200000);
    int64_t t1 = now_ns();
    for (int k = 0; k < 4; k++) sh->data[k] += sh->data[(k + 1) & 3] + 1;
    if (sh->textbook) unlock_xchg(&sh->state);
    else unlock_plain(&sh->state);
    a->lat[i] = t1 - t0;
    for (int k = 0; k < 50; k++) x = x * 6364136223846793005ull + 1; /* work outside */
  }
  return (void *)(uintptr_t)(x & 1);
}

static int cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static void run(int threads, int textbook, long iters) {
  shared_t sh = {0};
  sh.textbook = textbook;
  sh.iters = iters;
  pthread_t th[8];
  arg_t args[8];
  int64_t *all = malloc(sizeof(int64_t) * (size_t)iters * (size_t)threads);
  if (!all) exit(1);
  for (int i = 0; i < threads; i++) {
    args[i] = (arg_t){&sh, all + (size_t)i * (size_t)iters};
    pthread_create(&th[i], NULL, worker, &args[i]);
  }
  while (atomic_load(&sh.ready) != threads) {
  }
  int64_t t0 = now_ns();
  atomic_store(&sh.go, 1);
  for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
  int64_t wall = now_ns() - t0;
  size_t n = (size_t)iters * (size_t)threads;
  qsort(all, n, sizeof *all, cmp);
  printf("%-9s threads=%d  p50=%lld  p99=%lld  p99.9=%lld  max=%lld ns  (%.1f ns/op wall)\n",
         textbook ? "textbook" : "plain", threads, (long long)all[n / 2],
         (long long)all[n * 99 / 100], (long long)all[n * 999 / 1000], (long long)all[n - 1],
         (double)wall / (double)n);
  free(all);
}

int main(int argc, char **argv) {
  long iters = argc > 1 ? atol(argv[1]) : 200000;
  for (int threads = 2; threads <= 4; threads += 2)
    for (int rep = 0; rep < 2; rep++)
      for (int textbook = 0; textbook <= 1; textbook++) run(threads, textbook, iters);
  return 0;
}
