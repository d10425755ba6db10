/* File on Unix: fd() and blocking mode, which descriptors are polled, open
 * flags, EPIPE, and descriptor leaks. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corio/os.h"
#include "check.h"
#include "fd_util.h"
#include "park_check.h"

static int count_fds(void) { return test_count_fds(); }

static void late_write(void *arg) {
  corio_sleep(30 * MS);
  CHECK_EQ(corio_file_write(arg, "later", 5), 5);
}

/* After fd() the descriptor is blocking and deadlines fail with "no
 * deadline"; the File still reads and writes, and still owns the handle. */
static int fd_blocking_main(void *arg) {
  corio_file_t *r, *w;
  CHECK_EQ(corio_file_pipe(&r, &w), 0);
  corio_handle_t h = corio_file_fd(r);
  CHECK(h >= 0);
  CHECK(fcntl((int)h, F_GETFL) >= 0);
  CHECK_EQ(fcntl((int)h, F_GETFL) & O_NONBLOCK, 0);
  CHECK_EQ(corio_file_set_deadline(r, corio_nanotime() + 10 * MS), CORIO_ENODEADLINE);
  CHECK_EQ(corio_file_set_read_deadline(r, 0), CORIO_ENODEADLINE);
  CHECK_EQ(corio_file_set_write_deadline(r, 0), CORIO_ENODEADLINE);
  /* A read that blocks its thread; the writer still gets to run. */
  corio_file_t *r2, *w2;
  CHECK_EQ(corio_file_pipe(&r2, &w2), 0);
  CHECK_EQ(corio_file_fd_ex(r2, &h), 0);
  CHECK_EQ(corio_spawn(late_write, w2), 0);
  char buf[8];
  CHECK_EQ(corio_file_read(r2, buf, sizeof buf), 5);
  CHECK_EQ(corio_file_close(r2), 0);
  CHECK(fcntl((int)h, F_GETFD) < 0); /* the File closed the handle it owned */
  corio_file_free(r2);
  corio_file_free(w2);
  corio_file_free(r);
  corio_file_free(w);
  return 0;
}

Test(file_unix, after_fd_descriptor_is_blocking_and_deadlines_fail) {
  run_program(1, fd_blocking_main, NULL);
}

/* Close in blocking mode does not wait for a read that sits in the kernel
 * (it might never return); the handle is closed when that read leaves. */
typedef struct kread {
  corio_file_t *f;
  corio_g_t *g;
  _Atomic int started, done;
  ptrdiff_t result;
} kread_t;

static void kernel_read(void *arg) {
  kread_t *k = arg;
  char c;
  k->g = corio_current();
  atomic_store(&k->started, 1);
  k->result = corio_file_read(k->f, &c, 1);
  atomic_store(&k->done, 1);
}

static int blocking_close_main(void *arg) {
  corio_file_t *r, *w;
  CHECK_EQ(corio_file_pipe(&r, &w), 0);
  int h = (int)corio_file_fd(r);
  kread_t k = {.f = r};
  CHECK_EQ(corio_spawn(kernel_read, &k), 0);
  wait_for(&k.started, 1);
  wait_parked(k.g, "syscall"); /* in the kernel's read, its P handed on */
  CHECK_EQ(atomic_load(&k.done), 0);
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio_file_close(r), 0);
  CHECK(corio_nanotime() - t0 < 500 * MS);
  CHECK(fcntl(h, F_GETFD) >= 0); /* the reader still holds it */
  CHECK_EQ(corio_file_write(w, "z", 1), 1);
  wait_for(&k.done, 1);
  CHECK_EQ(k.result, 1);
  CHECK(fcntl(h, F_GETFD) < 0); /* closed by the last reference */
  corio_file_free(r);
  corio_file_free(w);
  return 0;
}

Test(file_unix, close_in_blocking_mode_does_not_wait_for_the_kernel) {
  run_program(2, blocking_close_main, NULL);
}

/* Which descriptors get deadlines. */
static int pollable_main(void *arg) {
  char path[] = "/tmp/corio-file-XXXXXX";
  int h = mkstemp(path);
  CHECK(h >= 0);
  close(h);
  corio_file_t *f;
  CHECK_EQ(corio_file_open(path, CORIO_O_RDWR, 0, &f), 0);
  CHECK_EQ(corio_file_set_deadline(f, corio_nanotime() + MS), CORIO_ENODEADLINE); /* regular */
  CHECK(fcntl((int)corio_file_fd(f), F_GETFD) & FD_CLOEXEC);
  corio_file_free(f);

  /* A FIFO opened by name is polled. */
  char fifo[64];
  snprintf(fifo, sizeof fifo, "%s.fifo", path);
  CHECK_EQ(mkfifo(fifo, 0600), 0);
  CHECK_EQ(corio_file_open(fifo, CORIO_O_RDWR, 0, &f), 0);
  CHECK_EQ(corio_file_set_read_deadline(f, corio_nanotime() + 20 * MS), 0);
  char c;
  CHECK_EQ(corio_file_read(f, &c, 1), CORIO_ETIMEOUT);
  corio_file_free(f);
  unlink(fifo);

  /* new_file: a non-blocking descriptor is polled, a blocking one is not
   * (and is left blocking). */
  int p[2];
  CHECK_EQ(test_pipe(p, O_CLOEXEC | O_NONBLOCK), 0);
  CHECK_EQ(corio_file_new(p[0], "nb", &f), 0);
  CHECK_EQ(corio_file_set_read_deadline(f, corio_nanotime() + 20 * MS), 0);
  CHECK_EQ(corio_file_read(f, &c, 1), CORIO_ETIMEOUT);
  CHECK(strcmp(corio_file_name(f), "nb") == 0);
  corio_file_free(f);
  corio_file_t *g;
  CHECK_EQ(fcntl(p[1], F_SETFL, 0), 0);
  CHECK_EQ(corio_file_new(p[1], NULL, &g), 0);
  CHECK(strcmp(corio_file_name(g), "") == 0);
  CHECK_EQ(corio_file_set_write_deadline(g, corio_nanotime() + MS), CORIO_ENODEADLINE);
  CHECK_EQ(fcntl(p[1], F_GETFL) & O_NONBLOCK, 0);
  corio_file_free(g);
  CHECK(fcntl(p[1], F_GETFD) < 0);

  /* Invalid descriptors. */
  CHECK_EQ(corio_file_new(p[1], "closed", &f), CORIO_EBADF);
  CHECK_EQ(corio_file_new(-5, "negative", &f), CORIO_EBADF);
  CHECK(f == NULL);

  /* Flags reach the OS: create with a mode, EXCL, TRUNC, a directory. */
  unlink(path);
  mode_t old = umask(022);
  CHECK_EQ(corio_file_open(path, CORIO_O_WRONLY | CORIO_O_CREATE | CORIO_O_EXCL | CORIO_O_SYNC,
                           0640, &f),
           0);
  umask(old);
  struct stat st;
  CHECK_EQ(stat(path, &st), 0);
  CHECK_EQ(st.st_mode & 0777, 0640);
  CHECK_EQ(corio_file_write(f, "abc", 3), 3);
  corio_file_free(f);
  CHECK_EQ(corio_file_open(path, CORIO_O_WRONLY | CORIO_O_CREATE | CORIO_O_EXCL, 0640, &f),
           corio_err_from_errno(EEXIST));
  CHECK_EQ(corio_file_open(path, CORIO_O_RDWR | CORIO_O_TRUNC, 0, &f), 0);
  CHECK_EQ(corio_file_read(f, &c, 1), CORIO_EEOF);
  corio_file_free(f);
  unlink(path);
  CHECK_EQ(corio_file_open(path, CORIO_O_RDONLY, 0, &f), corio_err_from_errno(ENOENT));
  CHECK_EQ(corio_file_open("/tmp", CORIO_O_RDONLY, 0, &f), 0);
  CHECK_EQ(corio_file_read(f, &c, 1), corio_err_from_errno(EISDIR));
  corio_file_free(f);
  return 0;
}

Test(file_unix, which_descriptors_are_polled_and_flags) { run_program(2, pollable_main, NULL); }

static int epipe_main(void *arg) {
  corio_file_t *r, *w;
  CHECK_EQ(corio_file_pipe(&r, &w), 0);
  CHECK_EQ(corio_file_close(r), 0);
  CHECK_EQ(corio_file_write(w, "x", 1), corio_err_from_errno(EPIPE));
  corio_file_free(r);
  corio_file_free(w);
  return 0;
}

Test(file_unix, write_without_reader_is_epipe) {
  signal(SIGPIPE, SIG_IGN);
  run_program(1, epipe_main, NULL);
}

/* 10k open / close cycles bring the descriptor count back to its start. */
static int leaks_main(void *arg) {
  char path[] = "/tmp/corio-leak-XXXXXX";
  int h = mkstemp(path);
  CHECK(h >= 0);
  close(h);
  int base = count_fds();
  for (int i = 0; i < 10000; i++) {
    corio_file_t *r, *w, *f;
    CHECK_EQ(corio_file_pipe(&r, &w), 0);
    if (i % 3 == 0) {
      CHECK_EQ(corio_file_write(w, "x", 1), 1);
      char c;
      CHECK_EQ(corio_file_read(r, &c, 1), 1);
    }
    if (i % 2 == 0) CHECK_EQ(corio_file_close(w), 0); /* closed, then freed */
    corio_file_free(w);
    corio_file_free(r); /* freed without an explicit close */
    CHECK_EQ(corio_file_open(path, CORIO_O_RDONLY, 0, &f), 0);
    corio_file_free(f);
  }
  CHECK_EQ(count_fds(), base);
  unlink(path);
  return 0;
}

Test(file_unix, ten_thousand_open_close_cycles_leak_nothing, .timeout = 120) {
  run_program(2, leaks_main, NULL);
}
