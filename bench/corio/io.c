/* corio scenarios on files: pipes, socketpairs (corio/os.h; the wake storm
 * and memory scenarios also use corio/sync.h). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "corio/os.h"
#include "corio/sync.h"
#include "corio_bench.h"

/* ---- pipe_rt_1p (1 P) and pipe_rt_2p (2 Ps) ----
 * Methodology: two pipes from corio_file_pipe, a->b and b->a. Coroutine B
 * reads a byte from a->b and writes it to b->a until end of file; coroutine A
 * (main) writes a byte to a->b and reads the answer from b->a. Both park in
 * the poller while waiting. Reads ask for 64 bytes, as the floor's do, and
 * get one: a short read, after which corio, like the floor, waits for
 * readiness before the next read instead of hearing EAGAIN first (the
 * short-read rule; corio_file_pipe's ends qualify for it). Sample = one
 * round trip, timed around A's write
 * and read. P_PIPE_WARM warm-up round trips, P_PIPE_SAMPLES samples. With two
 * Ps the scheduler decides where each coroutine runs, as Go's does. */
static corio_file_t *ab_r, *ab_w, *ba_r, *ba_w;
static corio_wg_t echo_done = CORIO_WG_INIT;

static void pipe_echo(void *arg) {
  char buf[64];
  for (;;) {
    ptrdiff_t n = corio_file_read(ab_r, buf, sizeof buf);
    if (n == CORIO_EEOF)
      break;
    cb_check((int)(n < 0 ? n : 0), "pipe echo read");
    ptrdiff_t w = corio_file_write(ba_w, buf, (size_t)n);
    cb_check((int)(w < 0 ? w : 0), "pipe echo write");
  }
  corio_wg_done(&echo_done);
}

static void pipe_rt(const bench_opts_t *o) {
  int warm = BENCH_PICK(o, P_PIPE_WARM), n = BENCH_PICK(o, P_PIPE_SAMPLES);
  bench_samples_t s;
  char buf[64];
  bench_samples_init(&s, (size_t)n);
  cb_check(corio_file_pipe(&ab_r, &ab_w), "corio_file_pipe");
  cb_check(corio_file_pipe(&ba_r, &ba_w), "corio_file_pipe");
  corio_wg_add(&echo_done, 1);
  cb_check(corio_spawn(pipe_echo, NULL), "spawn");
  int64_t phase = 0; /* start of the measured phase, for the time budget */
  for (int i = -warm; i < n; i++) {
    if (i == 0)
      phase = bench_now_ns();
    int64_t t0 = bench_now_ns();
    if (corio_file_write(ab_w, "x", 1) != 1)
      bench_die("pipe write failed");
    ptrdiff_t r = corio_file_read(ba_r, buf, sizeof buf);
    int64_t t1 = bench_now_ns();
    if (r != 1)
      bench_die("pipe read: %s", r < 0 ? corio_strerror((int)r) : "wrong count");
    if (i >= 0) {
      bench_samples_add(&s, t1 - t0, 1);
      bench_progress(CB_IMPL, "round trips", (uint64_t)i + 1, (uint64_t)n);
      if (bench_over_budget(o, phase))
        break;
    }
  }
  corio_file_close(ab_w); /* B reads end of file and finishes */
  corio_wg_wait(&echo_done);
  corio_file_free(ab_w), corio_file_free(ab_r), corio_file_free(ba_r), corio_file_free(ba_w);
  bench_emit_ns(o, CB_IMPL, &s, -1, "corio_file_pipe, 2 coroutines");
  bench_samples_free(&s);
}

/* ---- deadline_1ms (1 P) ----
 * Methodology: a read on an empty pipe (its writer open) with a read deadline
 * 1 ms ahead; the read must fail with CORIO_ETIMEOUT. Sample = time from just
 * before setting the deadline to the read's return, minus 1 ms (overshoot).
 * P_TIMER_WARM warm-up, P_TIMER_SAMPLES samples. */
static void deadline_1ms(const bench_opts_t *o) {
  int warm = BENCH_PICK(o, P_TIMER_WARM), n = BENCH_PICK(o, P_TIMER_SAMPLES);
  bench_samples_t s;
  corio_file_t *r, *w;
  char buf[16];
  bench_samples_init(&s, (size_t)n);
  cb_check(corio_file_pipe(&r, &w), "corio_file_pipe");
  int64_t phase = 0; /* start of the measured phase, for the time budget */
  for (int i = -warm; i < n; i++) {
    if (i == 0)
      phase = bench_now_ns();
    int64_t t0 = bench_now_ns();
    cb_check(corio_file_set_read_deadline(r, corio_nanotime() + P_TIMER_NS), "set deadline");
    ptrdiff_t got = corio_file_read(r, buf, sizeof buf);
    int64_t t1 = bench_now_ns();
    if (got != CORIO_ETIMEOUT)
      bench_die("deadline read returned %td, not CORIO_ETIMEOUT", got);
    if (i >= 0) {
      bench_samples_add_overshoot(&s, t1 - t0, P_TIMER_NS);
      bench_progress(CB_IMPL, "deadlines", (uint64_t)i + 1, (uint64_t)n);
      if (bench_over_budget(o, phase))
        break;
    }
  }
  corio_file_free(r), corio_file_free(w);
  bench_emit_ns(o, CB_IMPL, &s, -1, "corio_file_read with a read deadline, empty pipe");
  bench_samples_free(&s);
}

/* ---- wake_storm (1 P) ----
 * Methodology: P_STORM_READERS coroutines, each parked reading its own
 * readable end (cb_open_ends: socketpair ends on Unix). A round: the main
 * coroutine writes one byte for every reader (P_STORM_READERS writes, no
 * yield in between), then waits on a semaphore; each reader, when it has read
 * its byte, counts itself, and the last one reads the clock and releases the
 * semaphore; the readers then park again for the next round. Sample = time
 * from the first write to the last reader having run. P_STORM_WARM warm-up
 * rounds, P_STORM_ROUNDS samples. ops/s counts wakeups. */
static corio_file_t **st_rd, **st_wr;
static atomic_int st_ran;
static atomic_llong st_last;
static uint32_t st_sema;
static corio_wg_t st_exit = CORIO_WG_INIT;

static void storm_reader(void *arg) {
  corio_file_t *f = st_rd[(intptr_t)arg];
  char buf[16];
  for (;;) {
    ptrdiff_t n = corio_file_read(f, buf, sizeof buf);
    if (n < 0)
      break; /* closed at the end */
    if (atomic_fetch_add_explicit(&st_ran, 1, memory_order_acq_rel) + 1 == P_STORM_READERS) {
      atomic_store_explicit(&st_last, bench_now_ns(), memory_order_release);
      corio_sema_release(&st_sema);
    }
  }
  corio_wg_done(&st_exit);
}

static void wake_storm(const bench_opts_t *o) {
  int warm = BENCH_PICK(o, P_STORM_WARM), n = BENCH_PICK(o, P_STORM_ROUNDS);
  int nr = P_STORM_READERS;
  const char *how;
  bench_samples_t s;
  if (cb_raise_nofile(nr + 256) < nr + 64)
    bench_die("need %d descriptors; the open-file limit is too low", nr + 64);
  st_rd = calloc((size_t)nr, sizeof *st_rd);
  st_wr = calloc((size_t)nr, sizeof *st_wr);
  if (!st_rd || !st_wr)
    bench_die("out of memory");
  bench_samples_init(&s, (size_t)n);
  cb_open_ends(nr, st_rd, st_wr, &how);
  corio_wg_add(&st_exit, nr);
  for (intptr_t i = 0; i < nr; i++)
    cb_check(corio_spawn(storm_reader, (void *)i), "spawn");
  corio_sleep(10000000); /* let every reader park */
  int64_t phase = 0; /* start of the measured phase, for the time budget */
  for (int round = -warm; round < n; round++) {
    if (round == 0)
      phase = bench_now_ns();
    atomic_store(&st_ran, 0);
    int64_t t0 = bench_now_ns();
    for (int i = 0; i < nr; i++)
      if (corio_file_write(st_wr[i], "x", 1) != 1)
        bench_die("storm write %d failed", i);
    cb_check(corio_sema_acquire(&st_sema), "sema");
    int64_t t1 = atomic_load_explicit(&st_last, memory_order_acquire);
    if (round >= 0) {
      bench_samples_add(&s, t1 - t0, 1);
      s.ops += nr - 1; /* ops/s counts wakeups */
      bench_progress(CB_IMPL, "storms", (uint64_t)round + 1, (uint64_t)n);
      if (bench_over_budget(o, phase))
        break;
    }
  }
  cb_close_ends(nr, st_rd, st_wr);
  corio_wg_wait(&st_exit);
  cb_free_ends(nr, st_rd, st_wr);
  char note[128];
  snprintf(note, sizeof note, "%d coroutines on %d %s, 1 P", nr, nr, how);
  bench_emit_ns(o, CB_IMPL, &s, -1, note);
  bench_samples_free(&s);
  free(st_rd), free(st_wr);
}

/* ---- mem_io (1 P, unguarded stacks) ----
 * Methodology: as mem_chan (RSS before and after, warm-up first, 20 ms of
 * settling), with N = P_MEM_COUNT coroutines each blocked in corio_file_read.
 * N readers would need N descriptors; the hard open-file limit may be lower,
 * so the readers share E = min(N, hard limit - 256) ends (rounded down to
 * even), round-robin: on each end one reader waits in the poller and the
 * others wait for the File's read lock (a runtime semaphore), as goroutines
 * sharing an os.File do. The ends (and their poll descriptors) are counted. */
static atomic_int io_started;
static corio_wg_t io_done = CORIO_WG_INIT;

static void io_parker(void *arg) {
  char c;
  atomic_fetch_add_explicit(&io_started, 1, memory_order_relaxed);
  corio_file_read(arg, &c, 1); /* returns when the end is closed */
  corio_wg_done(&io_done);
}

static void park_readers(corio_file_t **rd, int ends, int n) {
  atomic_store(&io_started, 0);
  corio_wg_add(&io_done, n);
  for (int i = 0; i < n; i++) {
    cb_check(corio_spawn(io_parker, rd[i % ends]), "spawn");
    if ((i & 1023) == 1023)
      bench_progress(CB_IMPL, "coroutines parked", (uint64_t)i + 1, (uint64_t)n);
  }
  int64_t limit = bench_now_ns() + 30 * (int64_t)1000000000;
  while (atomic_load(&io_started) < n) {
    if (bench_now_ns() > limit)
      bench_die("mem_io: only %d of %d coroutines started in 30 s", atomic_load(&io_started), n);
    corio_sleep(1000000);
  }
  corio_sleep(20000000);
  bench_progress(CB_IMPL, "coroutines parked", (uint64_t)n, (uint64_t)n);
}

static void mem_io(const bench_opts_t *o) {
  int n = BENCH_PICK(o, P_MEM_COUNT);
  long lim = cb_nofile_hard() - 256;
  int ends = (int)(lim < n ? lim : n) & ~1;
  const char *how;
  if (ends < 2 || cb_raise_nofile(ends + 256) < ends + 64)
    bench_die("mem_io: too few descriptors");
  corio_file_t **rd = calloc((size_t)ends, sizeof *rd), **wr = calloc((size_t)ends, sizeof *wr);
  corio_file_t *wrd[2], *wwr[2];
  if (!rd || !wr)
    bench_die("out of memory");
  /* Warm-up: a pair of ends, a few readers, closed again. */
  cb_open_ends(2, wrd, wwr, &how);
  park_readers(wrd, 2, 64);
  cb_close_ends(2, wrd, wwr);
  corio_wg_wait(&io_done);
  cb_free_ends(2, wrd, wwr);
  int64_t before = bench_rss_bytes();
  cb_open_ends(ends, rd, wr, &how);
  park_readers(rd, ends, n);
  int64_t after = bench_rss_bytes();
  cb_close_ends(ends, rd, wr);
  corio_wg_wait(&io_done);
  cb_free_ends(ends, rd, wr);
  free(rd), free(wr);
  if (before < 0 || after < 0) {
    bench_emit_skip(o, CB_IMPL, "resident memory not readable");
    return;
  }
  char note[256];
  char share[128] = "";
  if (ends < n)
    snprintf(share, sizeof share, " (%.1f per end: %s)", (double)n / ends, cb_nofile_what());
  snprintf(note, sizeof note, "%d readers on %d %s%s, unguarded stacks", n, ends, how, share);
  bench_emit_bytes(o, CB_IMPL, (double)(after - before) / n, note);
}

const cb_scenario_t cb_group_io[] = {
    {"pipe_rt_1p", 1, CORIO_STACK_GUARDED, pipe_rt},
    {"pipe_rt_2p", 2, CORIO_STACK_GUARDED, pipe_rt},
    {"deadline_1ms", 1, CORIO_STACK_GUARDED, deadline_1ms},
    {"wake_storm", 1, CORIO_STACK_GUARDED, wake_storm},
    {"mem_io", 1, CORIO_STACK_UNGUARDED, mem_io},
    {NULL, 0, 0, NULL},
};
