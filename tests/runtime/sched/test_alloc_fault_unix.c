/* Allocation failure (issue 12, item 2): the allocation wrapper is made to
 * fail the Nth allocation (base_testing.h) for every N over a whole
 * workload -- init, spawn, channels, select, sleep, mutex, wait group,
 * semaphores with deadlines, pipes, an FD, a regular file, deadlines -- and
 * each time: no crash (the process used to die with "out of memory growing
 * the G table / a timer heap / creating an M"), every error that reaches a
 * caller is CORIO_ENOMEM (or the documented NULL of corio_chan_create), no
 * leak (the ASan build's leak check), and a clean run right after, with
 * failures off, does all of the work. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base_testing.h"
#include "check.h"
#include "fd_util.h"
#include "corio/os.h"
#include "corio/poll.h"
#include "corio/runtime.h"
#include "corio/sync.h"

typedef struct {
  bool faulty;           /* failures are on: ENOMEM is an allowed answer */
  const char *path;      /* a scratch regular file */
  _Atomic int done;      /* workers that did all their work */
  _Atomic int nomem;     /* ENOMEM answers seen */
  _Atomic int swallowed; /* pipes left off the poller without an error */
  corio_chan_t *ch;
  corio_mutex_t mu;
  corio_wg_t wg;
  int counter;
} wl_t;

/* rc is 0 (or a count), or ENOMEM when failures are on. */
#define OK_OR_NOMEM(w, expr, okcond)                                                          \
  ({                                                                                         \
    long long rc_ = (long long)(expr);                                                       \
    bool ok_ = (okcond);                                                                     \
    if (!ok_) {                                                                              \
      if ((w)->faulty && rc_ == CORIO_ENOMEM) atomic_fetch_add(&(w)->nomem, 1);              \
      else check_eq_fail(__FILE__, __LINE__, #expr, #okcond, rc_, 0);                        \
    }                                                                                        \
    ok_;                                                                                     \
  })

static void worker(void *arg) {
  wl_t *w = arg;
  int v = 1;
  CHECK_EQ(corio_chan_send(w->ch, &v), 0);
  if (OK_OR_NOMEM(w, corio_sleep(100000), rc_ == 0)) {
  }
  CHECK_EQ(corio_mutex_lock(&w->mu), 0);
  w->counter++;
  CHECK_EQ(corio_mutex_unlock(&w->mu), 0);
  atomic_fetch_add(&w->done, 1);
  corio_wg_done(&w->wg);
}

static void pipes(wl_t *w) {
  corio_file_t *r = NULL, *wr = NULL;
  if (!OK_OR_NOMEM(w, corio_file_pipe(&r, &wr), rc_ == 0)) return;
  char buf[16];
  CHECK_EQ(corio_file_write(wr, "hello", 5), 5);
  CHECK_EQ(corio_file_read(r, buf, sizeof buf), 5);
  int drc = corio_file_set_read_deadline(r, corio_nanotime() + 200000);
  if (w->faulty && drc == CORIO_ENODEADLINE) {
    /* The pipe came back off the poller: its registration's allocation
     * failed and corio_file_pipe swallowed the error (issue 12, item 3, the
     * rel-io branch's). A read would block the thread for good: count it. */
    atomic_fetch_add(&w->swallowed, 1);
  } else {
    CHECK_EQ(drc, 0);
    CHECK_EQ(corio_file_read(r, buf, sizeof buf), CORIO_ETIMEOUT);
  }
  CHECK_EQ(corio_file_close(r), 0);
  CHECK_EQ(corio_file_close(wr), 0);
  corio_file_free(r);
  corio_file_free(wr);

  int p[2];
  CHECK_EQ(test_pipe(p, O_NONBLOCK | O_CLOEXEC), 0);
  corio_fd_t *fd = NULL;
  if (OK_OR_NOMEM(w, corio_fd_open((corio_handle_t)p[0], CORIO_FD_PIPE, &fd), rc_ == 0)) {
    CHECK_EQ(write(p[1], "x", 1), 1);
    CHECK_EQ(corio_fd_read(fd, buf, sizeof buf), 1);
    CHECK_EQ(corio_fd_close(fd), 0);
    corio_fd_free(fd);
  } else {
    close(p[0]);
  }
  close(p[1]);
}

static void regular_file(wl_t *w) {
  corio_file_t *f = NULL;
  if (!OK_OR_NOMEM(w, corio_file_create(w->path, &f), rc_ == 0)) return;
  char buf[8] = {0};
  CHECK_EQ(corio_file_write(f, "abc", 3), 3);
  CHECK_EQ(corio_file_read_at(f, buf, 3, 0), 3);
  CHECK(buf[0] == 'a' && buf[2] == 'c');
  CHECK_EQ(corio_file_close(f), 0);
  corio_file_free(f);
}

#define NWORKERS 6

static int workload(void *arg) {
  wl_t *w = arg;
  w->ch = corio_chan_create(sizeof(int), 2);
  if (!w->ch) {
    CHECK(w->faulty);
    atomic_fetch_add(&w->nomem, 1);
    return 0;
  }
  int spawned = 0;
  for (int i = 0; i < NWORKERS; i++) {
    corio_wg_add(&w->wg, 1);
    if (OK_OR_NOMEM(w, corio_spawn(worker, w), rc_ == 0)) spawned++;
    else corio_wg_done(&w->wg);
  }
  for (int i = 0; i < spawned; i++) {
    int v = 0;
    CHECK_EQ(corio_chan_recv(w->ch, &v, NULL), 0);
  }
  corio_select_case_t cs = {w->ch, CORIO_SELECT_RECV, NULL, false};
  OK_OR_NOMEM(w, corio_select(&cs, 1, corio_nanotime() + 200000), rc_ == CORIO_ETIMEOUT);
  uint32_t sem = 0;
  OK_OR_NOMEM(w, corio_sema_acquire_until(&sem, corio_nanotime() + 200000), rc_ == CORIO_ETIMEOUT);
  pipes(w);
  regular_file(w);
  CHECK_EQ(corio_wg_wait(&w->wg), 0);
  CHECK_EQ(atomic_load(&w->done), spawned);
  CHECK_EQ(w->counter, spawned);
  corio_chan_destroy(w->ch);
  return 0;
}

/* One run; returns the allocations it made. With failures off every step
 * must have happened. */
static uint64_t run_once(int procs, const char *path, uint64_t nth, uint32_t one_in_k) {
  wl_t w = {.faulty = nth != 0 || one_in_k != 0, .path = path, .mu = CORIO_MUTEX_INIT,
            .wg = CORIO_WG_INIT};
  corio_config_t cfg = CORIO_CONFIG_INIT;
  cfg.procs = procs;
  corio__fault_alloc_set(nth, one_in_k);
  int rc = corio_init(&cfg);
  if (rc == 0) {
    int st = -1;
    rc = corio_main(workload, &w, &st);
    cr_assert(rc == 0 || (w.faulty && rc == CORIO_ENOMEM), "corio_main: %s (nth %llu)",
              corio_strerror(rc), (unsigned long long)nth);
    cr_assert_eq(corio_shutdown(), 0);
  } else {
    cr_assert(w.faulty && rc == CORIO_ENOMEM, "corio_init: %s", corio_strerror(rc));
  }
  uint64_t seen = corio__fault_alloc_seen();
  corio__fault_alloc_off();
  cr_assert(!atomic_load(&check_failed), "nth %llu: %s", (unsigned long long)nth, check_msg);
  if (!w.faulty) cr_assert_eq(atomic_load(&w.done), NWORKERS);
  return seen;
}

static void sweep(int procs) {
  char path[] = "/tmp/corio-alloc-fault-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  close(fd);
  uint64_t total = run_once(procs, path, 0, 0);
  cr_assert_gt(total, 10, "the workload made %llu allocations", (unsigned long long)total);
  uint64_t failed_runs = 0;
  for (uint64_t n = 1; n <= total + 2; n++) {
    run_once(procs, path, n, 0);
    failed_runs += corio__fault_alloc_failed();
    run_once(procs, path, 0, 0); /* and the runtime works again */
  }
  cr_assert_gt(failed_runs, total / 2, "only %llu of %llu runs saw their failure",
               (unsigned long long)failed_runs, (unsigned long long)total);
  /* One allocation in K, for K small enough to hit many at once. */
  for (uint32_t k = 2; k <= 7; k++) {
    run_once(procs, path, 0, k);
    run_once(procs, path, 0, 0);
  }
  unlink(path);
}

Test(alloc_fault, every_allocation_of_a_workload_can_fail_1p) { sweep(1); }

Test(alloc_fault, every_allocation_of_a_workload_can_fail_2p) { sweep(2); }
