/* Deadlines never fire early (issue 12, item 10), whatever the interleaving
 * of moves and firings: on 4 Ps, several coroutines keep moving the read
 * deadline of each pipe (later, earlier, off, past) while its reader waits,
 * and every timeout the reader gets must come at or after a deadline that
 * was in force at some moment of its read.
 *
 * The bookkeeping that makes "in force" exact: each pipe's setters take a
 * test mutex, append the value to the pipe's log, then set it; so the log's
 * order is the order in which the settings took effect, and an entry is
 * logged before it can act. A reader notes the log's length (under the same
 * mutex) before it reads: the setting in force when it starts is the last
 * entry then, and any setting that acted before the read returned is in the
 * log by the time the reader looks after its timeout. A timeout at time R is
 * early when R is before every non-zero deadline among those entries (0
 * means none, which never times out). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corio/os.h"
#include "corio/sync.h"
#include "check.h"

#define US ((int64_t)1000)
#define PIPES 4
#define SETTERS 3
#define LOG_MAX 40000

typedef struct pipe_state {
  corio_file_t *r, *w;
  corio_mutex_t mu;
  int64_t log[LOG_MAX];
  int n;
  _Atomic int stop;
  _Atomic int64_t timeouts, reads, early;
  uint32_t seed;
  corio_wg_t *wg;
} pipe_state_t;

static pipe_state_t pipes[PIPES];

static uint32_t rnd(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

/* Under p->mu: log d, then set it. false when the log is full. */
static bool set_logged(pipe_state_t *p, int64_t d) {
  if (p->n == LOG_MAX) return false;
  p->log[p->n++] = d;
  CHECK_EQ(corio_file_set_read_deadline(p->r, d), 0);
  return true;
}

/* A coroutine's own seed, drawn from its pipe's under the pipe's mutex. */
static uint32_t own_seed(pipe_state_t *p) {
  corio_mutex_lock(&p->mu);
  uint32_t s = rnd(&p->seed) | 1;
  corio_mutex_unlock(&p->mu);
  return s;
}

static void setter_fn(void *arg) {
  pipe_state_t *p = arg;
  uint32_t seed = own_seed(p);
  while (!atomic_load(&p->stop)) {
    uint32_t x = rnd(&seed);
    int64_t now = corio_nanotime();
    int64_t d;
    switch (x % 8) {
    case 0: d = 0; break;                 /* off */
    case 1: d = now - 1; break;           /* past: expires at once */
    case 2: d = now + 20 * US; break;     /* about to fire */
    default: d = now + (int64_t)(50 + (x >> 8) % 3000) * US; break;
    }
    corio_mutex_lock(&p->mu);
    bool ok = set_logged(p, d);
    corio_mutex_unlock(&p->mu);
    if (!ok) break;
    if ((x >> 4) % 4 == 0) corio_sleep((int64_t)((x >> 12) % 400) * US);
    else corio_yield();
  }
  corio_wg_done(p->wg);
}

static void writer_fn(void *arg) {
  pipe_state_t *p = arg;
  uint32_t seed = own_seed(p);
  while (!atomic_load(&p->stop)) {
    corio_sleep((int64_t)(500 + rnd(&seed) % 4000) * US);
    if (corio_file_write(p->w, "x", 1) != 1) break;
  }
  corio_wg_done(p->wg);
}

static void reader_fn(void *arg) {
  pipe_state_t *p = arg;
  char c;
  for (;;) {
    corio_mutex_lock(&p->mu);
    int i0 = p->n;
    corio_mutex_unlock(&p->mu);
    ptrdiff_t r = corio_file_read(p->r, &c, 1);
    int64_t now = corio_nanotime();
    atomic_fetch_add(&p->reads, 1);
    if (r == 1) continue;
    if (r != CORIO_ETIMEOUT) {
      CHECK_EQ(r, CORIO_ETIMEOUT);
      break;
    }
    atomic_fetch_add(&p->timeouts, 1);
    corio_mutex_lock(&p->mu);
    int n1 = p->n;
    int64_t min = 0;
    for (int i = i0 > 0 ? i0 - 1 : 0; i < n1; i++)
      if (p->log[i] != 0 && (min == 0 || p->log[i] < min)) min = p->log[i];
    corio_mutex_unlock(&p->mu);
    if (min == 0 || now < min) {
      atomic_fetch_add(&p->early, 1);
      char m[200];
      snprintf(m, sizeof m, "a read timed out %lld ns before every deadline in force (entries %d..%d)",
               (long long)(min ? min - now : -1), i0 - 1, n1 - 1);
      check_fail(__FILE__, __LINE__, m);
    }
    if (atomic_load(&p->stop)) break;
    /* A past deadline fails every read at once: let the setters run. */
    corio_sleep(50 * US);
  }
  corio_wg_done(p->wg);
}

static int64_t run_ms = 1500;

static int stress_main(void *arg) {
  corio_wg_t wg = CORIO_WG_INIT;
  for (int i = 0; i < PIPES; i++) {
    pipe_state_t *p = &pipes[i];
    memset(p, 0, sizeof *p);
    p->seed = 0x9E3779B9u * (uint32_t)(i + 1) + (uint32_t)(uintptr_t)arg;
    p->mu = (corio_mutex_t)CORIO_MUTEX_INIT;
    p->wg = &wg;
    CHECK_EQ(corio_file_pipe(&p->r, &p->w), 0);
    corio_wg_add(&wg, SETTERS + 2);
    for (int s = 0; s < SETTERS; s++) CHECK_EQ(corio_spawn(setter_fn, p), 0);
    CHECK_EQ(corio_spawn(writer_fn, p), 0);
    CHECK_EQ(corio_spawn(reader_fn, p), 0);
  }
  corio_sleep(run_ms * MS);
  for (int i = 0; i < PIPES; i++) atomic_store(&pipes[i].stop, 1);
  /* Release the readers: a deadline in the past, logged like the others. */
  for (int i = 0; i < PIPES; i++) {
    corio_mutex_lock(&pipes[i].mu);
    pipes[i].n = pipes[i].n < LOG_MAX ? pipes[i].n : LOG_MAX - 1;
    set_logged(&pipes[i], corio_nanotime() - 1);
    corio_mutex_unlock(&pipes[i].mu);
  }
  corio_wg_wait(&wg);
  int64_t timeouts = 0, reads = 0, early = 0, sets = 0;
  for (int i = 0; i < PIPES; i++) {
    timeouts += pipes[i].timeouts;
    reads += pipes[i].reads;
    early += pipes[i].early;
    sets += pipes[i].n;
    corio_file_free(pipes[i].r);
    corio_file_free(pipes[i].w);
  }
  fprintf(stderr, "deadline stress: %lld deadlines set, %lld reads, %lld timeouts, %lld early\n",
          (long long)sets, (long long)reads, (long long)timeouts, (long long)early);
  CHECK_EQ(early, 0);
  CHECK(timeouts > 100); /* the deadlines did cut in */
  return 0;
}

Test(deadline_stress, deadlines_moved_by_several_coroutines_never_fire_early, .timeout = 300) {
  const char *ms = getenv("CORIO_DEADLINE_STRESS_MS");
  if (ms) run_ms = atoll(ms);
  for (int round = 0; round < 3; round++) run_program(4, stress_main, (void *)(uintptr_t)round);
}
