/* System-call faults (runtime/fault.h, the CORIO__FAULT_SYS seam) through
 * the public API: a refused registration is an error and leaks nothing; a
 * transient write error is seen by write_ex; a failing poller fails the
 * waiting operations instead of the process; and a sweep that fails the Nth
 * call of each kind over a whole workload (init, spawn, pipes, deadlines,
 * files, channels), then checks that the run ended, the injected error
 * reached a caller where one can see it, and a clean run afterwards works. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "corio/os.h"
#include "corio/poll.h"
#include "corio/sync.h"
#include "check.h"
#include "netpoll_testing.h"
#include "runtime/fault.h"

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

/* ---- a refused registration ---- */

static int enomem_main(void *arg) {
  int before = count_fds();
  corio__fault_arm(CORIO__FAULT_SYS, CORIO__SYS_EPOLL_CTL, 1, 0, ENOMEM);
  corio_file_t *r = (corio_file_t *)&r, *w = (corio_file_t *)&w;
  CHECK_EQ(corio_file_pipe(&r, &w), CORIO_ENOMEM);
  CHECK(r == NULL && w == NULL);
  CHECK_EQ(corio__fault_fired(CORIO__FAULT_SYS), 1);
  CHECK_EQ(count_fds(), before); /* both ends closed */
  /* The second end's registration fails: the first is released too. */
  corio__fault_arm(CORIO__FAULT_SYS, CORIO__SYS_EPOLL_CTL, 2, 0, ENOSPC);
  CHECK_EQ(corio_file_pipe(&r, &w), corio_err_from_errno(ENOSPC));
  CHECK_EQ(count_fds(), before);
  /* corio_fd_open: the error, and the descriptor's mode as it was. */
  int p[2];
  CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
  corio__fault_arm(CORIO__FAULT_SYS, CORIO__SYS_EPOLL_CTL, 1, 0, ENOMEM);
  corio_fd_t *fd = NULL;
  CHECK_EQ(corio_fd_open(p[0], CORIO_FD_PIPE, &fd), CORIO_ENOMEM);
  CHECK_EQ(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
  /* corio_file_new of a non-blocking descriptor goes to the poller too. */
  corio_file_t *f = (corio_file_t *)&f;
  CHECK_EQ(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
  corio__fault_arm(CORIO__FAULT_SYS, CORIO__SYS_EPOLL_CTL, 1, 0, ENOMEM);
  CHECK_EQ(corio_file_new(p[0], "nb", &f), CORIO_ENOMEM);
  CHECK(f == NULL);
  CHECK_EQ(fcntl(p[0], F_SETFL, 0), 0);
  /* The system's file table full: the pipe's own error. */
  corio__fault_arm(CORIO__FAULT_SYS, CORIO__SYS_PIPE, 1, 0, ENFILE);
  CHECK_EQ(corio_file_pipe(&r, &w), corio_err_from_errno(ENFILE));
  CHECK_EQ(count_fds(), before + 2);
  corio__fault_disarm(CORIO__FAULT_SYS);
  /* The next call works, on the poller. */
  CHECK_EQ(corio_fd_open(p[0], CORIO_FD_PIPE, &fd), 0);
  CHECK(corio_fd_pollable(fd));
  CHECK_EQ(corio_fd_set_read_deadline(fd, corio_nanotime() + 10 * MS), 0);
  char c;
  CHECK_EQ(corio_fd_read(fd, &c, 1), CORIO_ETIMEOUT);
  corio_fd_free(fd);
  close(p[1]);
  CHECK_EQ(corio_file_pipe(&r, &w), 0);
  corio_file_free(r);
  corio_file_free(w);
  CHECK_EQ(count_fds(), before);
  return 0;
}

Test(io_fault, a_refused_registration_is_an_error_and_leaks_nothing) {
  run_program(2, enomem_main, NULL);
  corio__fault_disarm(CORIO__FAULT_SYS);
}

static int close_main(void *arg) {
  int before = count_fds();
  corio_file_t *r, *w;
  CHECK_EQ(corio_file_pipe(&r, &w), 0);
  corio__fault_arm(CORIO__FAULT_SYS, CORIO__SYS_CLOSE, 1, 0, EIO);
  CHECK_EQ(corio_file_close(r), corio_err_from_errno(EIO));
  corio__fault_disarm(CORIO__FAULT_SYS);
  CHECK_EQ(corio_file_close(r), CORIO_ECLOSING);
  corio_file_free(r);
  corio_file_free(w);
  CHECK_EQ(count_fds(), before); /* released all the same */
  return 0;
}

Test(io_fault, close_reports_the_error_and_releases_the_descriptor) {
  run_program(1, close_main, NULL);
  corio__fault_disarm(CORIO__FAULT_SYS);
}

/* ---- a transient write error ---- */

typedef struct drainer {
  int fd;
  _Atomic int stop;
} drainer_t;

static void drain_fn(void *arg) {
  drainer_t *d = arg;
  char buf[4096];
  while (!atomic_load(&d->stop)) {
    if (read(d->fd, buf, sizeof buf) <= 0) corio_sleep(MS / 4);
  }
}

/* Until the drainer has emptied the pipe. */
static void wait_empty(int rfd) {
  int64_t give_up = corio_nanotime() + 5000 * MS;
  int n = 1;
  while (ioctl(rfd, FIONREAD, &n) == 0 && n > 0 && corio_nanotime() < give_up) corio_sleep(MS / 4);
  CHECK_EQ(n, 0);
}

static int transient_main(void *arg) {
  int p[2];
  CHECK_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  CHECK(fcntl(p[1], F_SETPIPE_SZ, 4096) > 0);
  corio_fd_t *w = NULL;
  CHECK_EQ(corio_fd_open(p[1], CORIO_FD_PIPE, &w), 0);
  drainer_t d = {p[0], 0};
  CHECK_EQ(corio_spawn(drain_fn, &d), 0);
  static char buf[64 * 1024];
  /* The second write call fails once with ENOSPC, after the first put a
   * pipe's worth out. write_ex reports both. */
  wait_empty(p[0]);
  corio__fault_arm(CORIO__FAULT_SYS, CORIO__SYS_WRITE, 2, 0, ENOSPC);
  size_t n = 0;
  CHECK_EQ(corio_fd_write_ex(w, buf, sizeof buf, &n), corio_err_from_errno(ENOSPC));
  CHECK(n > 0 && n < sizeof buf);
  /* The old form: a short count, the error lost, and (the error being
   * transient) the next call works. */
  wait_empty(p[0]);
  corio__fault_arm(CORIO__FAULT_SYS, CORIO__SYS_WRITE, 2, 0, EIO);
  ptrdiff_t got = corio_fd_write(w, buf, sizeof buf);
  CHECK(got > 0 && (size_t)got < sizeof buf);
  CHECK_EQ(corio__fault_fired(CORIO__FAULT_SYS), 1);
  corio__fault_disarm(CORIO__FAULT_SYS);
  CHECK_EQ(corio_fd_write_ex(w, buf, sizeof buf, &n), 0);
  CHECK_EQ(n, sizeof buf);
  /* EINTR is retried, never seen. */
  corio__fault_arm(CORIO__FAULT_SYS, CORIO__SYS_WRITE, 0, 2, EINTR);
  CHECK_EQ(corio_fd_write_ex(w, buf, sizeof buf, &n), 0);
  CHECK_EQ(n, sizeof buf);
  CHECK(corio__fault_fired(CORIO__FAULT_SYS) > 0);
  corio__fault_disarm(CORIO__FAULT_SYS);
  atomic_store(&d.stop, 1);
  corio_fd_free(w);
  corio_sleep(2 * MS);
  close(p[0]);
  return 0;
}

Test(io_fault, write_ex_sees_a_transient_error_after_a_partial_write) {
  run_program(2, transient_main, NULL);
  corio__fault_disarm(CORIO__FAULT_SYS);
}

/* ---- the poller fails ---- */

static _Atomic int reader_result = 1;

static void parked_reader(void *arg) {
  char c;
  atomic_store(&reader_result, (int)corio_file_read(arg, &c, 1));
}

static void chan_peer(void *arg) {
  int v = 42;
  CHECK_EQ(corio_chan_send(arg, &v), 0);
}

static int poller_fails_main(void *arg) {
  corio_file_t *r, *w;
  CHECK_EQ(corio_file_pipe(&r, &w), 0);
  CHECK_EQ(corio_spawn(parked_reader, r), 0);
  int64_t give_up = corio_nanotime() + 5000 * MS;
  while (corio__netpoll_debug_waiters() == 0 && corio_nanotime() < give_up) corio_sleep(MS / 4);
  CHECK_EQ(corio__netpoll_debug_waiters(), 1);
  /* From now on every poll of the kernel's poller fails with EBADF, as when
   * its descriptor is closed under the runtime. Before, the process aborted
   * ("epoll_wait failed"). */
  corio__fault_arm(CORIO__FAULT_SYS, CORIO__SYS_EPOLL_WAIT, 0, 1, EBADF);
  give_up = corio_nanotime() + 5000 * MS;
  while (atomic_load(&reader_result) == 1 && corio_nanotime() < give_up) corio_sleep(MS);
  CHECK_EQ(atomic_load(&reader_result), CORIO_EPOLLER);
  /* Later waits fail too, and nothing new goes on the poller... */
  char c;
  CHECK_EQ(corio_file_read(r, &c, 1), CORIO_EPOLLER);
  corio_file_t *r2 = NULL, *w2 = NULL;
  CHECK_EQ(corio_file_pipe(&r2, &w2), CORIO_EPOLLER);
  int p[2];
  CHECK_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  CHECK_EQ(corio_file_new(p[0], "nb", &r2), CORIO_EPOLLER);
  corio_fd_t *fd = NULL;
  CHECK_EQ(corio_fd_open(p[1], CORIO_FD_PIPE, &fd), CORIO_EPOLLER);
  close(p[0]);
  close(p[1]);
  /* A regular file never needed the poller: it opens and works. */
  char path[64];
  snprintf(path, sizeof path, "/tmp/corio-io-fault-%d", (int)getpid());
  corio_file_t *f = NULL;
  CHECK_EQ(corio_file_create(path, &f), 0);
  CHECK_EQ(corio_file_write(f, "ok", 2), 2);
  corio_file_free(f);
  unlink(path);
  /* ...but what was ready still works, and the rest of the runtime does. */
  CHECK_EQ(corio_file_write(w, "x", 1), 1);
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio_sleep(5 * MS), 0);
  CHECK(corio_nanotime() - t0 >= 5 * MS);
  corio_chan_t *ch = corio_chan_create(sizeof(int), 0);
  CHECK(ch != NULL);
  CHECK_EQ(corio_spawn(chan_peer, ch), 0);
  int v = 0;
  bool ok = false;
  CHECK_EQ(corio_chan_recv(ch, &v, &ok), 0);
  CHECK(ok && v == 42);
  corio_chan_destroy(ch);
  corio_file_free(r);
  corio_file_free(w);
  return 0;
}

Test(io_fault, a_failing_poller_fails_the_waiters_not_the_process) {
  run_program(2, poller_fails_main, NULL);
  corio__fault_disarm(CORIO__FAULT_SYS);
  /* A new runtime has a working poller again. */
  atomic_store(&reader_result, 1);
  run_program(1, enomem_main, NULL);
  corio__fault_disarm(CORIO__FAULT_SYS);
}

/* ---- the sweep ---- */

/* Errors the workload saw, for "the error reached the caller". */
static _Atomic int seen[64];
static _Atomic int nseen;

static void note(long long r) {
  if (r >= 0) return;
  int e = (int)r;
  int n = atomic_load(&nseen);
  for (int i = 0; i < n && i < 64; i++)
    if (atomic_load(&seen[i]) == e) return;
  int i = atomic_fetch_add(&nseen, 1);
  if (i < 64) atomic_store(&seen[i], e);
}

static bool was_seen(int e) {
  int n = atomic_load(&nseen);
  for (int i = 0; i < n && i < 64; i++)
    if (atomic_load(&seen[i]) == e) return true;
  return false;
}

/* Results a workload may get under faults: any error. What it must never
 * get is a hang (every wait has a deadline, and a side that fails closes its
 * ends so that its peer fails promptly) or a crash. `strict` (a run without
 * faults) wants everything to succeed. */
typedef struct pong {
  corio_file_t *in, *out;
  corio_wg_t *wg;
} pong_t;

#define ROUNDS 8
#define SAFETY (3000 * MS)

static void pong_fn(void *arg) {
  pong_t *p = arg;
  char c;
  for (int i = 0; i < ROUNDS; i++) {
    ptrdiff_t n;
    note(corio_file_set_read_deadline(p->in, corio_nanotime() + SAFETY));
    if ((n = corio_file_read(p->in, &c, 1)) != 1) {
      note(n);
      break;
    }
    if ((n = corio_file_write(p->out, &c, 1)) != 1) {
      note(n);
      break;
    }
  }
  note(corio_file_close(p->in));
  note(corio_file_close(p->out));
  corio_wg_done(p->wg);
}

static void producer_fn(void *arg) {
  for (int i = 0; i < 4; i++) note(corio_chan_send(arg, &i));
  note(corio_chan_close(arg));
}

static int workload(void *arg) {
  bool strict = arg != NULL;
  int bad = 0;
#define STEP(expr)                                                                           \
  do {                                                                                       \
    long long r_ = (long long)(expr);                                                        \
    note(r_);                                                                                \
    if (r_ < 0 && strict) bad++;                                                             \
  } while (0)
  /* Pipe ping-pong with deadlines. */
  corio_file_t *ar = NULL, *aw = NULL, *br = NULL, *bw = NULL;
  int e1 = corio_file_pipe(&ar, &aw);
  int e2 = e1 ? 0 : corio_file_pipe(&br, &bw);
  STEP(e1);
  STEP(e2);
  if (!e1 && !e2) {
    corio_wg_t wg = CORIO_WG_INIT;
    pong_t p = {ar, bw, &wg};
    corio_wg_add(&wg, 1);
    int e = corio_spawn(pong_fn, &p);
    STEP(e);
    if (e) {
      corio_wg_done(&wg);
      corio_file_close(ar);
      corio_file_close(bw);
    }
    char c = 'a';
    for (int i = 0; i < ROUNDS && !e; i++) {
      ptrdiff_t n = corio_file_write(aw, &c, 1);
      if (n != 1) {
        STEP(n);
        break;
      }
      STEP(corio_file_set_read_deadline(br, corio_nanotime() + SAFETY));
      n = corio_file_read(br, &c, 1);
      if (n != 1) {
        STEP(n);
        break;
      }
    }
    STEP(corio_file_close(aw));
    STEP(corio_file_close(br));
    corio_wg_wait(&wg);
    corio_file_free(ar);
    corio_file_free(bw);
    corio_file_free(aw);
    corio_file_free(br);
  } else if (!e1) {
    corio_file_free(ar);
    corio_file_free(aw);
  }
  /* A deadline that must fire. */
  corio_file_t *r = NULL, *w = NULL;
  int e = corio_file_pipe(&r, &w);
  STEP(e);
  if (!e) {
    char c;
    STEP(corio_file_set_read_deadline(r, corio_nanotime() + MS));
    ptrdiff_t n = corio_file_read(r, &c, 1);
    note(n);
    if (strict && n != CORIO_ETIMEOUT) bad++;
    corio_file_free(r);
    corio_file_free(w);
  }
  /* A regular file: create, write, seek, read back. */
  char path[64];
  snprintf(path, sizeof path, "/tmp/corio-io-fault-%d", (int)getpid());
  corio_file_t *f = NULL;
  e = corio_file_create(path, &f);
  STEP(e);
  if (!e) {
    static const char text[] = "the quick brown fox";
    size_t n = 0;
    STEP(corio_file_write_ex(f, text, sizeof text, &n));
    STEP(corio_file_seek(f, 0, CORIO_SEEK_SET));
    char back[sizeof text];
    ptrdiff_t got = corio_file_read(f, back, sizeof back);
    STEP(got);
    if (strict && (got != (ptrdiff_t)sizeof text || memcmp(back, text, sizeof text))) bad++;
    STEP(corio_file_close(f));
    corio_file_free(f);
  }
  unlink(path);
  /* Channels and a sleep. */
  corio_chan_t *ch = corio_chan_create(sizeof(int), 1);
  if (ch) {
    e = corio_spawn(producer_fn, ch);
    STEP(e);
    if (!e) {
      int v;
      bool ok = true;
      while (ok && corio_chan_recv(ch, &v, &ok) == 0) {
      }
    }
    corio_chan_destroy(ch);
  }
  STEP(corio_sleep(MS / 2));
#undef STEP
  return bad;
}

/* One run of the workload on a fresh runtime; corio_run's own result (an
 * init that failed) counts as seen. */
static int run_once(int procs, bool strict) {
  corio_config_t cfg = CORIO_CONFIG_INIT;
  cfg.procs = procs;
  int status = -1;
  int rc = corio_run(&cfg, workload, strict ? (void *)1 : NULL, &status);
  note(rc);
  return rc ? rc : status;
}

typedef struct fault_case {
  uint32_t site;
  int err;
  bool visible; /* the error must reach a caller (not retried inside) */
  int expect;   /* the corio error it appears as */
} fault_case_t;

Test(io_fault, sweep_every_call_over_a_workload, .timeout = 280) {
  signal(SIGPIPE, SIG_IGN);
  const fault_case_t cases[] = {
      {CORIO__SYS_READ, EIO, true, -EIO},
      {CORIO__SYS_READ, EINTR, false, 0},
      {CORIO__SYS_WRITE, ENOSPC, true, -ENOSPC},
      {CORIO__SYS_WRITE, EINTR, false, 0},
      {CORIO__SYS_EPOLL_CTL, ENOMEM, true, CORIO_ENOMEM},
      {CORIO__SYS_EPOLL_WAIT, EINTR, false, 0},
      {CORIO__SYS_POLLER, EMFILE, true, -EMFILE},
      {CORIO__SYS_OPEN, EMFILE, true, -EMFILE},
      {CORIO__SYS_OPEN, EINTR, false, 0},
      {CORIO__SYS_PIPE, EMFILE, true, -EMFILE},
      {CORIO__SYS_FCNTL, EBADF, true, 0},
      {CORIO__SYS_FSTAT, EIO, true, -EIO},
      /* close errors are dropped by corio_file_free (documented); see
       * close_reports_the_error_and_releases_the_descriptor. */
      {CORIO__SYS_CLOSE, EIO, false, 0},
      {CORIO__SYS_SEEK, EIO, true, -EIO},
  };
  int fds = count_fds();
  int runs = 0, fired_runs = 0;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    const fault_case_t *fc = &cases[c];
    /* How many such calls a clean run makes. */
    corio__fault_arm(CORIO__FAULT_SYS, fc->site, 0, 0, fc->err);
    atomic_store(&nseen, 0);
    cr_assert_eq(run_once(2, true), 0, "clean run, case %zu", c);
    uint64_t calls = corio__fault_calls(CORIO__FAULT_SYS);
    cr_assert(calls > 0, "case %zu: the workload makes no such call", c);
    /* Fail call N for each N (every call of the kind, in turn; at most 40
     * spread over the range). */
    uint64_t step = calls > 40 ? (calls + 39) / 40 : 1;
    for (uint64_t n = 1; n <= calls; n += step) {
      atomic_store(&nseen, 0);
      corio__fault_arm(CORIO__FAULT_SYS, fc->site, n, 0, fc->err);
      run_once(2, false);
      bool fired = corio__fault_fired(CORIO__FAULT_SYS) > 0;
      corio__fault_disarm(CORIO__FAULT_SYS);
      runs++;
      fired_runs += fired;
      /* The kind's calls may differ between runs (scheduling): only a fault
       * that fired must be seen. fcntl's failures show as several errors
       * (EBADF at init becomes CORIO_EBADF), so any error will do there. */
      if (fired && fc->visible) {
        if (fc->expect)
          cr_assert(was_seen(fc->expect), "case %zu (site %#x, errno %d), call %llu: %s never "
                    "reached a caller", c, fc->site, fc->err, (unsigned long long)n,
                    corio_err_name(fc->expect));
        else
          cr_assert(atomic_load(&nseen) > 0, "case %zu, call %llu: no error reached a caller",
                    c, (unsigned long long)n);
      }
      /* The runtime keeps working: a clean run right after succeeds. */
      atomic_store(&nseen, 0);
      cr_assert_eq(run_once(2, true), 0, "case %zu, call %llu: the next clean run failed", c,
                   (unsigned long long)n);
      cr_assert_eq(count_fds(), fds, "case %zu, call %llu: descriptors leaked", c,
                   (unsigned long long)n);
    }
  }
  /* One call in K, over a few workloads, mixed kinds. */
  for (uint64_t k = 3; k <= 7; k += 2) {
    corio__fault_arm(CORIO__FAULT_SYS, CORIO__SYS_READ | CORIO__SYS_WRITE | CORIO__SYS_EPOLL_WAIT,
                     0, k, EINTR);
    cr_assert_eq(run_once(2, true), 0, "EINTR one call in %llu", (unsigned long long)k);
    corio__fault_disarm(CORIO__FAULT_SYS);
  }
  fprintf(stderr, "io_fault sweep: %d faulty runs, %d hit their fault\n", runs, fired_runs);
  cr_assert(fired_runs > runs / 2, "only %d of %d runs hit their fault", fired_runs, runs);
  cr_assert_eq(count_fds(), fds);
}
