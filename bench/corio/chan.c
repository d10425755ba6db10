/* corio scenarios on channels (corio/sync.h). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "corio/sync.h"
#include "corio_bench.h"

/* ---- chan_rt (1 P) ----
 * Methodology: two coroutines on one P and two unbuffered int channels; A
 * sends on ping and receives on pong, B receives on ping and sends on pong. A
 * round trip is one ping and one pong. One sample = a batch of P_BATCH round
 * trips / P_BATCH; P_SMALL_WARM warm-up batches, P_CHAN_SAMPLES samples. */
static corio_chan_t *ping, *pong;

static void ponger(void *arg) {
  int v;
  bool ok;
  for (;;) {
    cb_check(corio_chan_recv(ping, &v, &ok), "recv ping");
    if (!ok)
      return; /* closed: done */
    cb_check(corio_chan_send(pong, &v), "send pong");
  }
}

static void chan_rt(const bench_opts_t *o) {
  int warm = BENCH_PICK(o, P_SMALL_WARM), n = BENCH_PICK(o, P_CHAN_SAMPLES);
  bench_samples_t s;
  bench_samples_init(&s, (size_t)n);
  ping = corio_chan_create(sizeof(int), 0);
  pong = corio_chan_create(sizeof(int), 0);
  if (!ping || !pong)
    bench_die("corio_chan_create failed");
  cb_check(corio_spawn(ponger, NULL), "spawn");
  int64_t phase = 0; /* start of the measured phase, for the time budget */
  for (int i = -warm; i < n; i++) {
    if (i == 0)
      phase = bench_now_ns();
    int64_t t0 = bench_now_ns();
    for (int j = 0; j < P_BATCH; j++) {
      int v = j, back = -1;
      cb_check(corio_chan_send(ping, &v), "send ping");
      cb_check(corio_chan_recv(pong, &back, NULL), "recv pong");
      if (back != j)
        bench_die("chan_rt: sent %d, got %d back", j, back);
    }
    int64_t t1 = bench_now_ns();
    if (i >= 0) {
      bench_samples_add(&s, t1 - t0, P_BATCH);
      bench_progress(CB_IMPL, "round trips", (uint64_t)i + 1, (uint64_t)n);
      if (bench_over_budget(o, phase))
        break;
    }
  }
  cb_check(corio_chan_close(ping), "close");
  corio_yield(); /* let B see the close and finish before the channels go */
  bench_emit_ns(o, CB_IMPL, &s, -1, "unbuffered ping-pong, 2 coroutines");
  bench_samples_free(&s);
}

/* ---- mem_chan (1 P, unguarded stacks) ----
 * Methodology: resident memory (RSS) before and after starting N coroutines
 * (P_MEM_COUNT), each blocked receiving on an unbuffered channel of its own
 * (the channel is counted: it is what the coroutine waits on). The "before"
 * figure is taken after a warm-up that spawned and finished a few coroutines
 * and created channels, so first-use allocator setup is not charged to them.
 * "After" is read once every coroutine has reported that it started and the
 * main coroutine has slept 20 ms (on one P every other coroutine then runs
 * until it parks). Result = RSS delta / N, one value. Unguarded stacks: N
 * guarded stacks would need 2N kernel mappings, above Linux's default limit of
 * 65,530 (vm.max_map_count). Default stack size (reserved, committed lazily). */
static atomic_int mem_started;
static corio_wg_t mem_done = CORIO_WG_INIT;

static void chan_parker(void *arg) {
  atomic_fetch_add_explicit(&mem_started, 1, memory_order_relaxed);
  corio_chan_recv(arg, NULL, NULL);
  corio_wg_done(&mem_done);
}

static void spawn_parkers(corio_chan_t **chans, int n) {
  atomic_store(&mem_started, 0);
  corio_wg_add(&mem_done, n);
  for (int i = 0; i < n; i++) {
    if (!(chans[i] = corio_chan_create(sizeof(int), 0)))
      bench_die("corio_chan_create failed at %d", i);
    cb_check(corio_spawn(chan_parker, chans[i]), "spawn");
    if ((i & 1023) == 1023)
      bench_progress(CB_IMPL, "coroutines parked", (uint64_t)i + 1, (uint64_t)n);
  }
  int64_t limit = bench_now_ns() + 30 * (int64_t)1000000000;
  while (atomic_load(&mem_started) < n) {
    if (bench_now_ns() > limit)
      bench_die("mem_chan: only %d of %d coroutines started in 30 s", atomic_load(&mem_started), n);
    corio_sleep(1000000);
  }
  corio_sleep(20000000);
  bench_progress(CB_IMPL, "coroutines parked", (uint64_t)n, (uint64_t)n);
}

static void release_parkers(corio_chan_t **chans, int n) {
  for (int i = 0; i < n; i++)
    corio_chan_close(chans[i]);
  corio_wg_wait(&mem_done);
  for (int i = 0; i < n; i++)
    corio_chan_destroy(chans[i]);
}

static void mem_chan(const bench_opts_t *o) {
  int n = BENCH_PICK(o, P_MEM_COUNT), warm = 64;
  corio_chan_t **chans = calloc((size_t)n, sizeof *chans);
  if (!chans)
    bench_die("out of memory");
  spawn_parkers(chans, warm);
  release_parkers(chans, warm);
  int64_t before = bench_rss_bytes();
  spawn_parkers(chans, n);
  int64_t after = bench_rss_bytes();
  release_parkers(chans, n);
  free(chans);
  if (before < 0 || after < 0) {
    bench_emit_skip(o, CB_IMPL, "resident memory not readable");
    return;
  }
  char note[160];
  snprintf(note, sizeof note, "%d coroutines, own unbuffered channel each, unguarded %zu KiB stacks",
           n, CORIO_DEFAULT_STACK / 1024);
  bench_emit_bytes(o, CB_IMPL, (double)(after - before) / n, note);
}

const cb_scenario_t cb_group_chan[] = {
    {"chan_rt", 1, CORIO_STACK_GUARDED, chan_rt},
    {"mem_chan", 1, CORIO_STACK_UNGUARDED, mem_chan},
    {NULL, 0, 0, NULL},
};
