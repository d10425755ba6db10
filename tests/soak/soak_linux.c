/* The soak: a bounded mixed workload on 2 Ps (pipe ping-pong, sleeps,
 * deadlines, channels, open/close churn) while another thread delivers
 * signals to the process at a high rate. It fails when a kind of work stops
 * making progress for 10 s, when any operation returns an
 * error the workload did not ask for, when a deadline fires early, when a
 * coroutine is still running after the stop (stranded), or when descriptors,
 * threads or resident memory do not return to their baseline after
 * corio_shutdown.
 *
 *   corio_soak [seconds]     default 10; scripts/test.sh runs it longer under
 *                            AddressSanitizer (CORIO_SOAK_SECONDS)
 *
 * The baseline is taken after a short warm-up run (init, the workload,
 * shutdown), so that what the C library and the sanitizers keep for good
 * (arenas, thread caches) is in it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "corio/corio.h"

#ifdef CORIO_ASAN
/* Freed memory waits in ASan's quarantine (256 MB by default) before it can
 * be reused; a small one lets resident memory settle within the soak. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
  return "quarantine_size_mb=4:thread_local_quarantine_size_kb=256";
}
#endif

#define MS ((int64_t)1000000)
#define US ((int64_t)1000)

enum { K_PONG, K_SLEEP, K_DEADLINE, K_CHAN, K_CHURN, KINDS };
static const char *kind_name[KINDS] = {"ping-pong", "sleep", "deadline", "channel", "churn"};

static _Atomic int stop;
static _Atomic int live;
static _Atomic int64_t beats[KINDS];
static _Atomic int failures;
static char first_failure[256];
static _Atomic uint64_t signals_sent, signals_got;
static long rss_kb(void);
/* Resident memory sampled at each check period of the long run. */
static long rss_samples[4096];
static int nrss;

static void fail(const char *what, long long v) {
  if (atomic_fetch_add(&failures, 1) == 0)
    snprintf(first_failure, sizeof first_failure, "%s (%lld: %s)", what, v,
             v <= 0 ? corio_err_name((int)v) : "");
}

#define EXPECT(cond, v)                                                                      \
  do {                                                                                       \
    if (!(cond)) fail(#cond, (long long)(v));                                                \
  } while (0)

static void beat(int k) { atomic_fetch_add_explicit(&beats[k], 1, memory_order_relaxed); }

static uint32_t rnd(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

/* ---- the workers ---- */

typedef struct pong {
  corio_file_t *in, *out;
  bool first;
} pong_t;

/* Two coroutines bounce a byte over a pair of pipes; the first ends the game
 * at the stop by closing its writing end, which the other reads as EOF. */
static void pong_fn(void *arg) {
  pong_t *p = arg;
  char c = 'x';
  for (;;) {
    if (p->first) {
      if (atomic_load(&stop)) break;
      ptrdiff_t n = corio_file_write(p->out, &c, 1);
      EXPECT(n == 1, n);
      if (n != 1) break;
    }
    ptrdiff_t n = corio_file_read(p->in, &c, 1);
    if (n == CORIO_EEOF && !p->first) break;
    EXPECT(n == 1, n);
    if (n != 1) break;
    if (!p->first) {
      n = corio_file_write(p->out, &c, 1);
      EXPECT(n == 1, n);
      if (n != 1) break;
    }
    beat(K_PONG);
  }
  EXPECT(corio_file_close(p->out) == 0, 0);
  corio_file_free(p->out);
  corio_file_free(p->in); /* each side owns the two ends it uses */
  atomic_fetch_sub(&live, 1);
}

static void sleep_fn(void *arg) {
  uint32_t seed = (uint32_t)(uintptr_t)arg | 1;
  while (!atomic_load(&stop)) {
    int64_t d = (int64_t)(rnd(&seed) % 2000) * US;
    int64_t t0 = corio_nanotime();
    int rc = corio_sleep(d);
    EXPECT(rc == 0, rc);
    EXPECT(corio_nanotime() - t0 >= d, corio_nanotime() - t0 - d);
    beat(K_SLEEP);
  }
  atomic_fetch_sub(&live, 1);
}

/* Reads of a pipe nobody writes, with deadlines that are moved now and then
 * while the read waits (by a helper), and must never fire early. */
typedef struct dl {
  corio_file_t *r, *w;
  corio_mutex_t mu;  /* a setting and its record go together */
  int64_t last;      /* the reader's latest deadline, 0 none */
  int64_t moved_min; /* the earliest the mover set during this read */
  _Atomic int mover_done;
  uint32_t seed;
} dl_t;

static void deadline_fn(void *arg) {
  dl_t *d = arg;
  uint32_t seed = d->seed; /* the mover reads d->seed: our own copy */
  char c;
  while (!atomic_load(&stop)) {
    int64_t when = corio_nanotime() + (int64_t)(200 + rnd(&seed) % 3000) * US;
    corio_mutex_lock(&d->mu);
    d->last = when;
    d->moved_min = INT64_MAX;
    int rc = corio_file_set_read_deadline(d->r, when);
    corio_mutex_unlock(&d->mu);
    EXPECT(rc == 0, rc);
    ptrdiff_t n = corio_file_read(d->r, &c, 1);
    EXPECT(n == CORIO_ETIMEOUT, n);
    int64_t now = corio_nanotime();
    /* Never before every deadline set during the read. */
    corio_mutex_lock(&d->mu);
    int64_t floor = d->moved_min < when ? d->moved_min : when;
    corio_mutex_unlock(&d->mu);
    EXPECT(now >= floor, now - floor);
    beat(K_DEADLINE);
  }
  while (!atomic_load(&d->mover_done)) corio_sleep(MS / 4);
  corio_file_free(d->r);
  corio_file_free(d->w);
  atomic_fetch_sub(&live, 1);
}

static void deadline_mover_fn(void *arg) {
  dl_t *d = arg;
  uint32_t seed = d->seed ^ 0x5bd1e995u;
  while (!atomic_load(&stop)) {
    corio_sleep((int64_t)(rnd(&seed) % 1000) * US);
    corio_mutex_lock(&d->mu);
    if (d->last) {
      int64_t v = d->last + (int64_t)(rnd(&seed) % 400) * US - 100 * US;
      int rc = corio_file_set_read_deadline(d->r, v);
      EXPECT(rc == 0, rc);
      if (v < d->moved_min) d->moved_min = v;
    }
    corio_mutex_unlock(&d->mu);
  }
  atomic_store(&d->mover_done, 1);
  atomic_fetch_sub(&live, 1);
}

static void producer_fn(void *arg) {
  corio_chan_t *ch = arg;
  int v = 0;
  while (!atomic_load(&stop)) {
    int rc = corio_chan_send(ch, &v);
    EXPECT(rc == 0, rc);
    v++;
    /* A pause now and then: a pair that hands off for ever keeps the next
     * G slot (runnext) of its P busy, and without preemption a G queued
     * behind it waits until the pair parks (the soak's first runs starved
     * the main coroutine, its timer long fired). */
    if (v % 64 == 0) corio_sleep(50 * US);
  }
  EXPECT(corio_chan_close(ch) == 0, 0);
  atomic_fetch_sub(&live, 1);
}

static void consumer_fn(void *arg) {
  corio_chan_t *ch = arg;
  int v, want = 0;
  bool ok = true;
  for (;;) {
    int rc = corio_chan_recv(ch, &v, &ok);
    EXPECT(rc == 0, rc);
    if (rc || !ok) break;
    EXPECT(v == want, v - want);
    want = v + 1;
    beat(K_CHAN);
  }
  corio_chan_destroy(ch);
  atomic_fetch_sub(&live, 1);
}

static void churn_fn(void *arg) {
  int id = (int)(uintptr_t)arg;
  char path[64];
  snprintf(path, sizeof path, "/tmp/corio-soak-%d-%d", (int)getpid(), id);
  while (!atomic_load(&stop)) {
    corio_file_t *r, *w;
    int rc = corio_file_pipe(&r, &w);
    EXPECT(rc == 0, rc);
    if (rc == 0) {
      char c = 'c';
      ptrdiff_t n = corio_file_write(w, &c, 1);
      EXPECT(n == 1, n);
      n = corio_file_read(r, &c, 1);
      EXPECT(n == 1, n);
      EXPECT(corio_file_close(w) == 0, 0);
      n = corio_file_read(r, &c, 1);
      EXPECT(n == CORIO_EEOF, n);
      corio_file_free(r);
      corio_file_free(w);
    }
    corio_file_t *f;
    rc = corio_file_create(path, &f);
    EXPECT(rc == 0, rc);
    if (rc == 0) {
      size_t done = 0;
      rc = (int)corio_file_write_ex(f, "soak", 4, &done);
      EXPECT(rc == 0 && done == 4, rc);
      char back[4];
      ptrdiff_t n = corio_file_read_at(f, back, 4, 0);
      EXPECT(n == 4, n);
      EXPECT(corio_file_close(f) == 0, 0);
      corio_file_free(f);
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
      corio_fd_t *a = NULL, *b = NULL;
      rc = corio_fd_open(sv[0], CORIO_FD_STREAM, &a);
      EXPECT(rc == 0, rc);
      int rc2 = corio_fd_open(sv[1], CORIO_FD_STREAM, &b);
      EXPECT(rc2 == 0, rc2);
      if (rc == 0 && rc2 == 0) {
        ptrdiff_t n = corio_fd_write(a, "ab", 2);
        EXPECT(n == 2, n);
        char buf[2];
        n = corio_fd_read(b, buf, 2);
        EXPECT(n > 0, n);
      }
      if (a) corio_fd_free(a);
      else close(sv[0]);
      if (b) corio_fd_free(b);
      else close(sv[1]);
    } else {
      fail("socketpair", -errno);
    }
    beat(K_CHURN);
  }
  unlink(path);
  atomic_fetch_sub(&live, 1);
}

/* ---- the run ---- */

static int spawn_counted(corio_fn_t fn, void *arg) {
  atomic_fetch_add(&live, 1);
  int rc = corio_spawn(fn, arg);
  if (rc) {
    atomic_fetch_sub(&live, 1);
    fail("spawn", rc);
  }
  return rc;
}

#define PONGS 4
#define SLEEPERS 8
#define DEADLINES 4
#define CHANS 2
#define CHURNERS 2

static int soak_main(void *arg) {
  int64_t seconds = (int64_t)(intptr_t)arg;
  atomic_store(&stop, 0);
  static pong_t pongs[PONGS][2];
  static dl_t dls[DEADLINES];
  for (int i = 0; i < PONGS; i++) {
    corio_file_t *ar, *aw, *br, *bw;
    if (corio_file_pipe(&ar, &aw) || corio_file_pipe(&br, &bw)) {
      fail("pipe", 0);
      return 1;
    }
    pongs[i][0] = (pong_t){br, aw, true};
    pongs[i][1] = (pong_t){ar, bw, false};
    spawn_counted(pong_fn, &pongs[i][0]);
    spawn_counted(pong_fn, &pongs[i][1]);
  }
  for (int i = 0; i < SLEEPERS; i++) spawn_counted(sleep_fn, (void *)(uintptr_t)(i * 7919 + 1));
  for (int i = 0; i < DEADLINES; i++) {
    dl_t *d = &dls[i];
    memset(d, 0, sizeof *d);
    d->mu = (corio_mutex_t)CORIO_MUTEX_INIT;
    d->seed = 0x9E3779B9u * (uint32_t)(i + 1);
    if (corio_file_pipe(&d->r, &d->w)) {
      fail("pipe", 0);
      return 1;
    }
    spawn_counted(deadline_fn, d);
    spawn_counted(deadline_mover_fn, d);
  }
  for (int i = 0; i < CHANS; i++) {
    corio_chan_t *ch = corio_chan_create(sizeof(int), (size_t)i * 4);
    if (!ch) {
      fail("chan_create", 0);
      return 1;
    }
    spawn_counted(producer_fn, ch);
    spawn_counted(consumer_fn, ch);
  }
  for (int i = 0; i < CHURNERS; i++) spawn_counted(churn_fn, (void *)(uintptr_t)i);

  /* Every kind must make progress: checked every 2 s, a kind that has
   * made none for STALL_MS fails (a loaded CI machine under ASan can hold
   * one up for a second or two; a hang or a starved kind never recovers). */
  enum { STALL_MS = 10000 };
  int64_t end = corio_nanotime() + seconds * 1000 * MS;
  int64_t last[KINDS] = {0}, moved[KINDS];
  for (int k = 0; k < KINDS; k++) moved[k] = corio_nanotime();
  int periods = 0;
  while (corio_nanotime() < end && atomic_load(&failures) == 0) {
    corio_sleep(2000 * MS);
    periods++;
    if (nrss < 4096) rss_samples[nrss++] = rss_kb();
    int64_t now = corio_nanotime();
    for (int k = 0; k < KINDS; k++) {
      int64_t b = atomic_load(&beats[k]);
      if (b != last[k]) moved[k] = now;
      last[k] = b;
      if (now - moved[k] > STALL_MS * MS) {
        char m[96];
        snprintf(m, sizeof m, "no progress of %s for %d s", kind_name[k], STALL_MS / 1000);
        fail(m, 0);
      }
    }
  }
  atomic_store(&stop, 1);
  /* No stranded coroutine: every worker leaves within a bound. */
  int64_t give_up = corio_nanotime() + 20000 * MS;
  while (atomic_load(&live) > 0 && corio_nanotime() < give_up) corio_sleep(MS);
  if (atomic_load(&live) > 0) fail("coroutines stranded after the stop", atomic_load(&live));
  (void)periods;
  return 0;
}

static void on_signal(int sig) {
  (void)sig;
  atomic_fetch_add_explicit(&signals_got, 1, memory_order_relaxed);
}

static _Atomic int signaller_stop;

/* Signals to the process (any thread may take one) every 50 us. */
static void *signaller(void *arg) {
  (void)arg;
  while (!atomic_load(&signaller_stop)) {
    kill(getpid(), SIGUSR1);
    atomic_fetch_add_explicit(&signals_sent, 1, memory_order_relaxed);
    struct timespec ts = {0, 50 * 1000};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

static int count_dir(const char *path) {
  DIR *d = opendir(path);
  if (!d) return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long size = 0, res = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &size, &res) != 2) res = 0;
    fclose(f);
  }
  return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static int run(int64_t seconds) {
  corio_config_t cfg = CORIO_CONFIG_INIT;
  cfg.procs = 2;
  int status = -1;
  int rc = corio_run(&cfg, soak_main, (void *)(intptr_t)seconds, &status);
  if (rc) fail("corio_run", rc);
  return rc ? rc : status;
}

int main(int argc, char **argv) {
  int64_t seconds = argc > 1 ? atoll(argv[1]) : 10;
  if (seconds < 4) seconds = 4;
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: blocking calls see EINTR */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, NULL);

  /* Warm-up, then the baseline. */
  run(4);
  int fds0 = count_dir("/proc/self/fd"), threads0 = count_dir("/proc/self/task");
  long rss0 = rss_kb();
  pthread_t th;
  if (pthread_create(&th, NULL, signaller, NULL) != 0) {
    fprintf(stderr, "soak: cannot start the signal thread\n");
    return 1;
  }
  int64_t t0 = corio_nanotime();
  nrss = 0;
  run(seconds);
  atomic_store(&signaller_stop, 1);
  pthread_join(th, NULL);
  int64_t took = corio_nanotime() - t0;
  int fds1 = count_dir("/proc/self/fd"), threads1 = count_dir("/proc/self/task");
  long rss1 = rss_kb();

  fprintf(stderr, "soak: %.1f s on 2 Ps; progress:", (double)took / 1e9);
  for (int k = 0; k < KINDS; k++)
    fprintf(stderr, " %s %lld", kind_name[k], (long long)atomic_load(&beats[k]));
  fprintf(stderr, "; signals sent %llu, taken %llu\n", (unsigned long long)signals_sent,
          (unsigned long long)signals_got);
  fprintf(stderr, "soak: descriptors %d -> %d, threads %d -> %d, RSS %ld -> %ld kB\n", fds0,
          fds1, threads0, threads1, rss0, rss1);
  fprintf(stderr, "soak: RSS while running (kB, every 2 s):");
  for (int i = 0; i < nrss; i++) fprintf(stderr, " %ld", rss_samples[i]);
  fprintf(stderr, "\n");
  if (fds1 != fds0) fail("descriptors did not return to the baseline", fds1 - fds0);
  if (threads1 != threads0) fail("threads did not return to the baseline", threads1 - threads0);
  /* Allocator caches settle at slightly different sizes: a leak of the
   * workload's rate would be far above this. */
  if (rss1 > rss0 + 32 * 1024) fail("resident memory did not return to the baseline", rss1 - rss0);
  /* And no growth in the second half of the run, once caches (and ASan's
   * quarantine) have filled: a leak at the workload's rate shows here. */
  if (nrss >= 6) {
    long mid = rss_samples[nrss / 2];
    long end = (rss_samples[nrss - 1] + rss_samples[nrss - 2] + rss_samples[nrss - 3]) / 3;
    long slack = mid / 10 > 4096 ? mid / 10 : 4096;
    if (end > mid + slack) fail("resident memory grew in the second half of the run", end - mid);
  }
  if (atomic_load(&failures)) {
    fprintf(stderr, "soak: FAILED, %d failures; first: %s\n", atomic_load(&failures),
            first_failure);
    return 1;
  }
  fprintf(stderr, "soak: ok\n");
  return 0;
}
