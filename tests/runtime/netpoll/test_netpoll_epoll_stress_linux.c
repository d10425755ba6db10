/* Stress for poll descriptors over epoll, on 4 Ps: 10,000 descriptor
 * lifetimes (open, wait, close, reuse) with wake-ups from coroutines and
 * foreign threads, deadlines that expire, move and race with writes, closes
 * while waiting, and stale events from registrations that outlive their
 * descriptor. Every wait must end (no lost wake-up) and every OK wait must
 * find its byte (no wrong wake-up). */
#define _GNU_SOURCE /* pipe2 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "corio/runtime.h"
#include "corio/sync.h"
#include "netpoll.h"
#include "netpoll_testing.h"

#define US ((int64_t)1000)
#define WORKERS 64
#define LIFETIMES 10000
#define GHOSTS 2

/* ---- foreign writer threads ---- */

typedef struct job {
  int fd;
  unsigned char byte;
} job_t;

static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  job_t q[WORKERS];
  int head, n;
  bool stop;
} jobs = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {{0, 0}}, 0, 0, false};

static void push_job(int fd, unsigned char byte) {
  pthread_mutex_lock(&jobs.mu);
  jobs.q[(jobs.head + jobs.n++) % WORKERS] = (job_t){fd, byte};
  pthread_cond_signal(&jobs.cv);
  pthread_mutex_unlock(&jobs.mu);
}

static void *job_thread(void *arg) {
  for (;;) {
    pthread_mutex_lock(&jobs.mu);
    while (jobs.n == 0 && !jobs.stop)
      pthread_cond_wait(&jobs.cv, &jobs.mu);
    if (jobs.n == 0) {
      pthread_mutex_unlock(&jobs.mu);
      return NULL;
    }
    job_t j = jobs.q[jobs.head];
    jobs.head = (jobs.head + 1) % WORKERS;
    jobs.n--;
    pthread_mutex_unlock(&jobs.mu);
    if (write(j.fd, &j.byte, 1) != 1)
      check_fail(__FILE__, __LINE__, "foreign write failed");
  }
}

/* ---- one descriptor lifetime ---- */

enum { S_COROUTINE, S_THREAD, S_DEADLINE, S_RACE, S_MOVE, S_UNBLOCK, S_COUNT };

typedef struct worker {
  int id;
  uint64_t rand;
  int ghost[GHOSTS][2]; /* read-end dup and write end of pipes with stale registrations */
  int64_t lifetimes;
} worker_t;

typedef struct helper {
  corio__pd_t *pd;
  int scenario;
  int wfd;
  unsigned char byte;
  int yields;
  int64_t move_to; /* S_MOVE: the deadline set, published before setting it */
  corio_wg_t wg;
} helper_t;

static int devnull = -1; /* a file to dup2 over a registered fd number */
static _Atomic int64_t stat_ok, stat_timeout, stat_closing, stat_wrong, stat_early, stat_parked;

static uint32_t next_rand(worker_t *w) {
  w->rand ^= w->rand << 13;
  w->rand ^= w->rand >> 7;
  w->rand ^= w->rand << 17;
  return (uint32_t)(w->rand >> 16);
}

static void helper_fn(void *arg) {
  helper_t *h = arg;
  for (int i = 0; i < h->yields; i++)
    corio_yield();
  switch (h->scenario) {
  case S_COROUTINE:
  case S_RACE:
    if (write(h->wfd, &h->byte, 1) != 1)
      check_fail(__FILE__, __LINE__, "write failed");
    break;
  case S_MOVE:
    h->move_to = corio_nanotime() + (h->yields % 5) * 200 * US;
    corio__pd_set_deadline(h->pd, h->move_to, 'r');
    break;
  case S_UNBLOCK:
    corio__pd_unblock(h->pd);
    break;
  }
  corio_wg_done(&h->wg);
}

/* Make a stale event: write to a ghost pipe whose registration outlived its
 * descriptor (now reused by someone else, perhaps this very worker). */
static void poke_ghosts(worker_t *w) {
  for (int i = 0; i < GHOSTS; i++)
    if (w->ghost[i][1] >= 0) {
      unsigned char c = 'g';
      (void)!write(w->ghost[i][1], &c, 1);
    }
}

static void retire(worker_t *w, corio__pd_t *pd, int p[2], bool ghost) {
  if (ghost) {
    /* Keep the pipe alive through a dup and point the registered fd number
     * at another file (dup2: the number is never free, so no other worker's
     * registration can be hit): EPOLL_CTL_DEL then finds nothing and epoll
     * keeps reporting on the pipe with the descriptor's old data. */
    int slot = (int)(next_rand(w) % GHOSTS);
    if (w->ghost[slot][0] >= 0) {
      close(w->ghost[slot][0]);
      close(w->ghost[slot][1]);
    }
    w->ghost[slot][0] = dup(p[0]);
    w->ghost[slot][1] = p[1];
    CHECK(dup2(devnull, p[0]) == p[0]);
    corio__pd_unblock(pd);
    corio__pd_close(pd);
    close(p[0]);
    return;
  }
  corio__pd_unblock(pd);
  corio__pd_close(pd);
  close(p[0]);
  close(p[1]);
}

static void one_lifetime(worker_t *w, int64_t n) {
  int p[2];
  if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) {
    check_fail(__FILE__, __LINE__, "pipe2");
    return;
  }
  corio__pd_t *pd;
  if (corio__pd_open((uintptr_t)p[0], &pd) != 0) {
    check_fail(__FILE__, __LINE__, "pd_open");
    close(p[0]);
    close(p[1]);
    return;
  }
  int scenario = (int)(next_rand(w) % S_COUNT);
  unsigned char byte = (unsigned char)(n * 31 + w->id);
  helper_t h = {pd, scenario, p[1], byte, (int)(next_rand(w) % 4), 0, CORIO_WG_INIT};
  int64_t start = corio_nanotime();
  int64_t deadline = 0;
  if (scenario == S_DEADLINE)
    deadline = start + (next_rand(w) % 2000) * US;
  else if (scenario == S_RACE)
    deadline = start + (next_rand(w) % 1000) * US;
  else if (scenario == S_MOVE)
    deadline = start + 5000 * MS;
  if (deadline)
    corio__pd_set_deadline(pd, deadline, 'r');

  bool helper = scenario != S_DEADLINE && scenario != S_THREAD;
  if (helper) {
    corio_wg_add(&h.wg, 1);
    if (corio_spawn(helper_fn, &h) != 0) {
      check_fail(__FILE__, __LINE__, "spawn");
      corio_wg_done(&h.wg);
    }
  } else if (scenario == S_THREAD) {
    push_job(p[1], byte);
  }
  if (next_rand(w) % 4 == 0)
    poke_ghosts(w);

  /* The poll layer's read loop. */
  int rc = corio__pd_reset(pd, 'r');
  int got = -1;
  while (rc == CORIO__POLL_OK) {
    unsigned char c;
    ssize_t r = read(p[0], &c, 1);
    if (r == 1) {
      got = c;
      break;
    }
    if (!(r < 0 && errno == EAGAIN)) {
      check_fail(__FILE__, __LINE__, "read");
      break;
    }
    int64_t before = corio_nanotime();
    rc = corio__pd_wait(pd, 'r');
    if (corio_nanotime() - before > 20 * US)
      atomic_fetch_add(&stat_parked, 1); /* roughly: waits that really slept */
    if (rc == CORIO__POLL_OK) {
      /* Woken as ready: the byte must be there now. */
      r = read(p[0], &c, 1);
      if (r == 1) {
        got = c;
      } else {
        atomic_fetch_add(&stat_wrong, 1);
        check_fail(__FILE__, __LINE__, "woken as ready with nothing to read");
      }
      break;
    }
  }
  int64_t woke = corio_nanotime();
  if (helper)
    corio_wg_wait(&h.wg); /* before the pipe can close under the helper */

  switch (scenario) {
  case S_COROUTINE:
  case S_THREAD:
    CHECK(rc == CORIO__POLL_OK && got == byte);
    break;
  case S_DEADLINE:
    CHECK(rc == CORIO__POLL_ERR_TIMEOUT);
    break;
  case S_RACE:
    CHECK((rc == CORIO__POLL_OK && got == byte) || rc == CORIO__POLL_ERR_TIMEOUT);
    break;
  case S_MOVE:
    CHECK(rc == CORIO__POLL_ERR_TIMEOUT);
    break;
  case S_UNBLOCK:
    CHECK(rc == CORIO__POLL_ERR_CLOSING);
    break;
  }
  if (rc == CORIO__POLL_ERR_TIMEOUT) {
    int64_t due = scenario == S_MOVE ? h.move_to : deadline;
    if (woke < due) {
      atomic_fetch_add(&stat_early, 1);
      check_fail(__FILE__, __LINE__, "deadline fired early");
    }
  }
  atomic_fetch_add(rc == CORIO__POLL_OK ? &stat_ok
                   : rc == CORIO__POLL_ERR_TIMEOUT ? &stat_timeout
                                                   : &stat_closing,
                   1);
  if (scenario != S_UNBLOCK)
    retire(w, pd, p, next_rand(w) % 8 == 0);
  else {
    corio__pd_close(pd); /* the helper did the unblock */
    close(p[0]);
    close(p[1]);
  }
}

static _Atomic int workers_done;
static corio_wg_t all_done = CORIO_WG_INIT;

static void worker_fn(void *arg) {
  worker_t *w = arg;
  for (int64_t n = 0; n < w->lifetimes; n++)
    one_lifetime(w, n);
  for (int i = 0; i < GHOSTS; i++)
    if (w->ghost[i][0] >= 0) {
      close(w->ghost[i][0]);
      close(w->ghost[i][1]);
    }
  atomic_fetch_add(&workers_done, 1);
  corio_wg_done(&all_done);
}

static worker_t workers[WORKERS];

static int stress_main(void *arg) {
  devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  CHECK(devnull >= 0);
  pthread_t th[2];
  for (int i = 0; i < 2; i++)
    CHECK(pthread_create(&th[i], NULL, job_thread, NULL) == 0);
  corio_wg_add(&all_done, WORKERS);
  for (int i = 0; i < WORKERS; i++) {
    worker_t *w = &workers[i];
    w->id = i;
    w->rand = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
    w->lifetimes = LIFETIMES / WORKERS + (i < LIFETIMES % WORKERS);
    for (int g = 0; g < GHOSTS; g++)
      w->ghost[g][0] = w->ghost[g][1] = -1;
    CHECK(corio_spawn(worker_fn, w) == 0);
  }
  /* A lost wake-up leaves a worker parked for ever: give up after a minute
   * and say so rather than hang. */
  int64_t give_up = corio_nanotime() + 60000 * MS;
  while (atomic_load(&workers_done) < WORKERS && corio_nanotime() < give_up)
    corio_sleep(10 * MS);
  bool finished = atomic_load(&workers_done) == WORKERS;
  if (finished)
    corio_wg_wait(&all_done);
  else
    check_fail(__FILE__, __LINE__, "workers still waiting after 60 s: a lost wake-up");
  pthread_mutex_lock(&jobs.mu);
  jobs.stop = true;
  pthread_cond_broadcast(&jobs.cv);
  pthread_mutex_unlock(&jobs.mu);
  for (int i = 0; i < 2; i++)
    pthread_join(th[i], NULL);
  close(devnull);
  return finished ? 0 : 1;
}

Test(netpoll_stress, ten_thousand_descriptors_on_4_procs, .timeout = 300) {
  corio_config_t cfg = CORIO_CONFIG_INIT;
  cfg.procs = 4;
  int status = -1;
  int64_t t0 = corio_nanotime();
  int rc = corio_run(&cfg, stress_main, NULL, &status);
  fprintf(stderr,
          "netpoll stress: %d lifetimes in %.2f s: %lld ok, %lld timeout, %lld closing, "
          "%lld wrong, %lld early; about %lld waits slept; %llu stale events dropped\n",
          LIFETIMES, (corio_nanotime() - t0) / 1e9, (long long)atomic_load(&stat_ok),
          (long long)atomic_load(&stat_timeout), (long long)atomic_load(&stat_closing),
          (long long)atomic_load(&stat_wrong), (long long)atomic_load(&stat_early),
          (long long)atomic_load(&stat_parked),
          (unsigned long long)corio__netpoll_debug_stale_events());
  assert_run_ok(rc, status);
  cr_assert_eq(atomic_load(&stat_ok) + atomic_load(&stat_timeout) + atomic_load(&stat_closing),
               LIFETIMES);
}
