/* Deadlock detection and the netpoller: a coroutine waiting for I/O, or for
 * an I/O deadline, is not deadlocked (the kernel or a timer can wake it). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <unistd.h>

#include "check.h"
#include "fd_util.h"
#include "corio/os.h"
#include "corio/runtime.h"
#include "netpoll_testing.h"
#include "thread_util.h"

static int run_detecting(int procs, corio_main_fn_t fn, void *arg, int *status) {
  corio_config_t cfg = CORIO_CONFIG_INIT;
  cfg.procs = procs;
  cfg.detect_deadlock = true;
  return corio_run(&cfg, fn, arg, status);
}

typedef struct {
  int fds[2];
  _Atomic int reading;
} io_t;

/* A thread outside the runtime writes (a kernel event, not a corio_ready)
 * once the reader is counted as an I/O waiter, and a little later, so that
 * every P has gone idle meanwhile. */
static void *late_writer(void *arg) {
  io_t *io = arg;
  for (int i = 0; i < 5000 && (!atomic_load(&io->reading) || corio__netpoll_debug_waiters() == 0); i++)
    test_sleep_ns(MS);
  test_sleep_ns(30 * MS);
  char c = 'x';
  if (write(io->fds[1], &c, 1) != 1) abort();
  return NULL;
}

static int read_main(void *arg) {
  io_t *io = arg;
  corio_file_t *f = NULL;
  CHECK_EQ(corio_file_new((corio_handle_t)io->fds[0], "pipe", &f), 0);
  if (!f) return 1;
  atomic_store(&io->reading, 1);
  char c = 0;
  CHECK_EQ(corio_file_read(f, &c, 1), 1);
  CHECK_EQ(c, 'x');
  /* And a read that only its deadline ends. */
  CHECK_EQ(corio_file_set_read_deadline(f, corio_nanotime() + 20 * MS), 0);
  CHECK_EQ(corio_file_read(f, &c, 1), CORIO_ETIMEOUT);
  CHECK_EQ(corio_file_close(f), 0);
  corio_file_free(f);
  return 0;
}

Test(deadlock, an_io_waiter_is_not_a_deadlock) {
  for (int procs = 1; procs <= 2; procs++) {
    io_t io = {{-1, -1}, 0};
    cr_assert_eq(test_pipe(io.fds, O_NONBLOCK | O_CLOEXEC), 0);
    test_thread_t t;
    test_thread_start(&t, late_writer, &io);
    int st = -1;
    cr_assert_eq(run_detecting(procs, read_main, &io, &st), 0, "procs %d", procs);
    test_thread_join(t);
    assert_checks_passed();
    cr_assert_eq(st, 0);
    close(io.fds[1]);
  }
}

/* Blocked reading a pipe nobody writes to: the runtime cannot know that a
 * descriptor has no other writer, and the read's deadline is a timer: not
 * reported, and the deadline ends it. */
static int read_with_deadline_main(void *arg) {
  io_t *io = arg;
  corio_file_t *f = NULL;
  CHECK_EQ(corio_file_new((corio_handle_t)io->fds[0], "pipe", &f), 0);
  if (!f) return 1;
  CHECK_EQ(corio_file_set_read_deadline(f, corio_nanotime() + 30 * MS), 0);
  char c;
  CHECK_EQ(corio_file_read(f, &c, 1), CORIO_ETIMEOUT);
  CHECK_EQ(corio_file_close(f), 0);
  corio_file_free(f);
  return 0;
}

Test(deadlock, an_io_deadline_is_not_a_deadlock) {
  io_t io = {{-1, -1}, 0};
  cr_assert_eq(test_pipe(io.fds, O_NONBLOCK | O_CLOEXEC), 0);
  int st = -1;
  cr_assert_eq(run_detecting(2, read_with_deadline_main, &io, &st), 0);
  assert_checks_passed();
  cr_assert_eq(st, 0);
  close(io.fds[1]);
}
