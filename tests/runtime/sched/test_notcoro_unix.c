/* Blocking calls from a thread that runs no coroutine (issue 12, item 6):
 * every layer's call that would have to wait returns CORIO_ENOTCORO, having
 * done nothing, and the objects stay usable; calls that need not wait work.
 * Through the public API only: files, FDs, channels, select, locks,
 * semaphores, wait groups, sleep, park. Before the netpoller's wait checked
 * its caller, a file or FD read from such a thread aborted the process
 * ("corio__park called outside a coroutine"). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <unistd.h>

#include "check.h"
#include "fd_util.h"
#include "corio/os.h"
#include "corio/poll.h"
#include "corio/runtime.h"
#include "corio/sync.h"
#include "thread_util.h"

typedef struct {
  corio_file_t *r, *w;     /* an empty pipe */
  corio_file_t *fr, *fw;   /* a pipe whose write end is full */
  corio_fd_t *fd;          /* an FD on the read end of an empty pipe */
  int fd_peer;             /* its write end */
  corio_chan_t *unbuf;
  corio_mutex_t mu;        /* held by main */
  uint32_t sem;            /* no tokens */
  corio_wg_t wg;           /* counter 1 */
  _Atomic int reading;     /* main is blocked reading r2 */
  corio_file_t *r2, *w2;
  _Atomic int done;
} objs_t;

static bool never(corio_g_t *g, void *arg) {
  (void)g;
  (void)arg;
  return false;
}

static void *foreign(void *arg) {
  objs_t *o = arg;
  char buf[8];
  int v = 1;
  bool ok;
  /* The poller's wait: files and FDs. */
  CHECK_EQ(corio_file_read(o->r, buf, sizeof buf), CORIO_ENOTCORO);
  CHECK_EQ(corio_file_write(o->fw, "x", 1), CORIO_ENOTCORO);
  CHECK_EQ(corio_fd_read(o->fd, buf, sizeof buf), CORIO_ENOTCORO);
  /* The FD's own lock: main is blocked reading r2 and holds its read lock. */
  for (int i = 0; i < 5000 && !atomic_load(&o->reading); i++) test_sleep_ns(MS);
  CHECK_EQ(corio_file_read(o->r2, buf, sizeof buf), CORIO_ENOTCORO);
  /* Channels, select, locks, semaphores, wait groups, time, park. */
  CHECK_EQ(corio_chan_send(o->unbuf, &v), CORIO_ENOTCORO);
  CHECK_EQ(corio_chan_recv(o->unbuf, &v, &ok), CORIO_ENOTCORO);
  corio_select_case_t cs = {o->unbuf, CORIO_SELECT_RECV, &v, false};
  CHECK_EQ(corio_select(&cs, 1, 0), CORIO_ENOTCORO);
  CHECK_EQ(corio_mutex_lock(&o->mu), CORIO_ENOTCORO);
  CHECK_EQ(corio_sema_acquire(&o->sem), CORIO_ENOTCORO);
  CHECK_EQ(corio_sema_acquire_until(&o->sem, corio_nanotime() + MS), CORIO_ENOTCORO);
  CHECK_EQ(corio_wg_wait(&o->wg), CORIO_ENOTCORO);
  CHECK_EQ(corio_sleep(MS), CORIO_ENOTCORO);
  CHECK_EQ(corio_sleep_until(INT64_MAX), CORIO_ENOTCORO);
  CHECK_EQ(corio_yield(), CORIO_ENOTCORO);
  CHECK_EQ(corio_park(never, NULL, "test"), CORIO_ENOTCORO);
  /* What need not wait works from here: a write into a pipe with room (main
   * reads it), a try_send, a trylock's refusal. */
  CHECK_EQ(corio_file_write(o->w, "ok", 2), 2);
  CHECK_EQ(corio_file_write(o->w2, "z", 1), 1); /* lets main's read return */
  CHECK_EQ(corio_mutex_trylock(&o->mu), CORIO_EWOULDBLOCK);
  atomic_store(&o->done, 1);
  return NULL;
}

static int raw_fd(corio_handle_t h, void *arg) {
  *(int *)arg = (int)h;
  return 0;
}

static void blocked_reader(void *arg) {
  objs_t *o = arg;
  char c = 0;
  atomic_store(&o->reading, 1);
  CHECK_EQ(corio_file_read(o->r2, &c, 1), 1);
  CHECK_EQ(c, 'z');
  atomic_store(&o->reading, 2);
}

static int notcoro_main(void *arg) {
  objs_t *o = arg;
  CHECK_EQ(corio_file_pipe(&o->r, &o->w), 0);
  CHECK_EQ(corio_file_pipe(&o->fr, &o->fw), 0);
  CHECK_EQ(corio_file_pipe(&o->r2, &o->w2), 0);
  int wfd = -1;
  CHECK_EQ(corio_file_control(o->fw, raw_fd, &wfd), 0);
  char fill[4096] = {0};
  while (write(wfd, fill, sizeof fill) > 0) {
  }
  CHECK_EQ(errno, EAGAIN);
  int p[2];
  CHECK_EQ(test_pipe(p, O_NONBLOCK | O_CLOEXEC), 0);
  o->fd_peer = p[1];
  CHECK_EQ(corio_fd_open((corio_handle_t)p[0], CORIO_FD_PIPE, &o->fd), 0);
  o->unbuf = corio_chan_create(sizeof(int), 0);
  CHECK_EQ(corio_mutex_lock(&o->mu), 0);
  CHECK_EQ(corio_wg_add(&o->wg, 1), 0);
  CHECK_EQ(corio_spawn(blocked_reader, o), 0);

  test_thread_t t;
  test_thread_start(&t, foreign, o);
  while (!atomic_load(&o->done)) corio_sleep(MS);
  test_thread_join(t);

  /* Everything is still usable from coroutines. */
  char buf[4] = {0};
  CHECK_EQ(corio_file_read(o->r, buf, sizeof buf), 2);
  CHECK(buf[0] == 'o' && buf[1] == 'k');
  while (atomic_load(&o->reading) != 2) corio_sleep(MS);
  CHECK_EQ(write(o->fd_peer, "f", 1), 1);
  CHECK_EQ(corio_fd_read(o->fd, buf, sizeof buf), 1);
  CHECK_EQ(buf[0], 'f');
  CHECK_EQ(corio_mutex_unlock(&o->mu), 0);
  CHECK_EQ(corio_wg_done(&o->wg), 0);
  CHECK_EQ(corio_wg_wait(&o->wg), 0);
  corio_sema_release(&o->sem);
  CHECK_EQ(corio_sema_acquire(&o->sem), 0);
  corio_file_t *fs[] = {o->r, o->w, o->fr, o->fw, o->r2, o->w2};
  for (int i = 0; i < 6; i++) {
    CHECK_EQ(corio_file_close(fs[i]), 0);
    corio_file_free(fs[i]);
  }
  CHECK_EQ(corio_fd_close(o->fd), 0);
  corio_fd_free(o->fd);
  close(o->fd_peer);
  corio_chan_destroy(o->unbuf);
  return 0;
}

Test(notcoro, blocking_calls_from_a_foreign_thread_return_enotcoro) {
  for (int procs = 1; procs <= 2; procs++) {
    objs_t o = {.mu = CORIO_MUTEX_INIT, .wg = CORIO_WG_INIT};
    run_program(procs, notcoro_main, &o);
  }
}

/* With no runtime at all: the same answer, nothing touched. */
Test(notcoro, blocking_calls_without_a_runtime_return_enotcoro) {
  corio_chan_t *c = corio_chan_create(sizeof(int), 0);
  int v = 0;
  cr_assert_eq(corio_chan_recv(c, &v, NULL), CORIO_ENOTCORO);
  cr_assert_eq(corio_chan_send(c, &v), CORIO_ENOTCORO);
  corio_chan_destroy(c);
  cr_assert_eq(corio_sleep(1), CORIO_ENOTCORO);
  cr_assert_eq(corio_yield(), CORIO_ENOTCORO);
  uint32_t sem = 0;
  cr_assert_eq(corio_sema_acquire(&sem), CORIO_ENOTCORO);
}
