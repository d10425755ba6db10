/* Errors that must reach the caller (issue 12, items 3, 9 and 13), through
 * the public API only: a handle the poller will not take is either an error
 * or a documented blocking mode, never a handle silently off the poller; the
 * runtime's own descriptors are refused; a descriptor handed over in
 * non-blocking mode goes on the poller whatever its type; the write forms
 * that report both the count and the error. Failures that need the
 * fault-injection seams are in test_io_fault_linux.c. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "corio/os.h"
#include "corio/poll.h"
#include "corio/sync.h"
#include "check.h"

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

/* The descriptors of this process whose link reads like `what`
 * ("anon_inode:[eventpoll]"); up to max of them. */
static int find_anon(const char *what, int *out, int max) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) && n < max;) {
    if (e->d_name[0] == '.') continue;
    char path[64], link[128];
    snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
    ssize_t k = readlink(path, link, sizeof link - 1);
    if (k <= 0) continue;
    link[k] = 0;
    int fd = atoi(e->d_name);
    if (strcmp(link, what) == 0 && fd != dirfd(d)) out[n++] = fd;
  }
  closedir(d);
  return n;
}

/* ---- item 3: the same descriptor wrapped twice ---- */

static int wrapped_twice_main(void *arg) {
  int p[2];
  CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
  corio_fd_t *a = NULL, *b = NULL;
  CHECK_EQ(corio_fd_open(p[0], CORIO_FD_PIPE, &a), 0);
  CHECK(corio_fd_pollable(a));
  /* The poller already has it: an error, and the descriptor is left as the
   * first FD set it (non-blocking, still registered). Before the fix this
   * returned 0 with the second FD off the poller, its reads a raw EAGAIN. */
  CHECK_EQ(corio_fd_open(p[0], CORIO_FD_PIPE, &b), corio_err_from_errno(EEXIST));
  CHECK(b == NULL);
  CHECK(fcntl(p[0], F_GETFL) & O_NONBLOCK);
  /* The first FD still waits on the poller, with deadlines. */
  CHECK_EQ(corio_fd_set_read_deadline(a, corio_nanotime() + 20 * MS), 0);
  char c;
  CHECK_EQ(corio_fd_read(a, &c, 1), CORIO_ETIMEOUT);
  CHECK_EQ(corio_fd_set_read_deadline(a, 0), 0);
  CHECK_EQ(write(p[1], "x", 1), 1);
  CHECK_EQ(corio_fd_read(a, &c, 1), 1);
  CHECK_EQ(corio_fd_close(a), 0);
  corio_fd_free(a);
  close(p[1]);
  /* A blocking descriptor handed back after a refusal is blocking again. */
  CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
  CHECK_EQ(corio_fd_open(p[0], CORIO_FD_PIPE, &a), 0);
  corio_file_t *f = NULL;
  int fl = fcntl(p[0], F_GETFL);
  CHECK_EQ(fcntl(p[0], F_SETFL, fl & ~O_NONBLOCK), 0);
  CHECK_EQ(corio_fd_open(p[0], CORIO_FD_PIPE, &b), corio_err_from_errno(EEXIST));
  CHECK_EQ(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
  CHECK_EQ(fcntl(p[0], F_SETFL, fl), 0);
  /* corio_file_new takes a non-blocking descriptor to the poller too. */
  CHECK_EQ(corio_file_new(p[0], "again", &f), corio_err_from_errno(EEXIST));
  CHECK(f == NULL);
  corio_fd_free(a);
  close(p[1]);
  return 0;
}

Test(fd_errors, the_same_descriptor_wrapped_twice_is_an_error) {
  run_program(2, wrapped_twice_main, NULL);
}

/* ---- item 3: a descriptor epoll really refuses ---- */

static int regular_file_main(void *arg) {
  char path[] = "/tmp/corio-fd-errors-XXXXXX";
  int h = mkstemp(path);
  CHECK(h >= 0);
  unlink(path);
  CHECK_EQ(write(h, "abc", 3), 3);
  corio_fd_t *fd = NULL;
  /* epoll cannot poll a regular file (EPERM): documented blocking mode,
   * whose reads never wait. */
  CHECK_EQ(corio_fd_open(h, CORIO_FD_FILE, &fd), 0);
  CHECK(!corio_fd_pollable(fd));
  CHECK_EQ(fcntl(h, F_GETFL) & O_NONBLOCK, 0);
  CHECK_EQ(corio_fd_set_deadline(fd, corio_nanotime() + MS), CORIO_ENODEADLINE);
  char buf[4];
  CHECK_EQ(corio_fd_pread(fd, buf, 3, 0), 3);
  CHECK_EQ(memcmp(buf, "abc", 3), 0);
  CHECK_EQ(corio_fd_close(fd), 0);
  corio_fd_free(fd);
  return 0;
}

Test(fd_errors, a_regular_file_works_in_blocking_mode) { run_program(1, regular_file_main, NULL); }

/* ---- item 3: corio_file_new on a non-blocking descriptor ---- */

static void post_later(void *arg) {
  corio_sleep(20 * MS);
  uint64_t one = 1;
  CHECK_EQ(write((int)(intptr_t)arg, &one, sizeof one), (ssize_t)sizeof one);
}

static int nonblocking_new_main(void *arg) {
  /* An eventfd is neither a pipe, a socket nor a terminal; handed over in
   * non-blocking mode it must go on the poller (os.h, Go's kind
   * "nonblock"). Before the fix it was used in "blocking mode" while
   * non-blocking: a read returned a raw EAGAIN and deadlines were refused. */
  int e = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  CHECK(e >= 0);
  int dup_e = dup(e);
  corio_file_t *f = NULL;
  CHECK_EQ(corio_file_new(e, "eventfd", &f), 0);
  uint64_t v = 0;
  CHECK_EQ(corio_file_set_read_deadline(f, corio_nanotime() + 20 * MS), 0);
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio_file_read(f, &v, sizeof v), CORIO_ETIMEOUT);
  CHECK(corio_nanotime() - t0 >= 20 * MS);
  CHECK_EQ(corio_file_set_read_deadline(f, 0), 0);
  /* A read parks until another coroutine posts. */
  CHECK_EQ(corio_spawn(post_later, (void *)(intptr_t)dup_e), 0);
  CHECK_EQ(corio_file_read(f, &v, sizeof v), (ptrdiff_t)sizeof v);
  CHECK_EQ(v, 1);
  CHECK_EQ(corio_file_close(f), 0);
  corio_file_free(f);
  close(dup_e);

  /* The same in blocking mode stays in blocking mode, without deadlines. */
  e = eventfd(3, EFD_CLOEXEC);
  CHECK(e >= 0);
  CHECK_EQ(corio_file_new(e, "eventfd", &f), 0);
  CHECK_EQ(corio_file_set_read_deadline(f, corio_nanotime() + MS), CORIO_ENODEADLINE);
  CHECK_EQ(corio_file_read(f, &v, sizeof v), (ptrdiff_t)sizeof v);
  CHECK_EQ(v, 3);
  CHECK_EQ(fcntl(e, F_GETFL) & O_NONBLOCK, 0);
  corio_file_free(f);

  /* A non-blocking regular file: the poller cannot take it, it works. */
  char path[] = "/tmp/corio-fd-errors-XXXXXX";
  int h = mkstemp(path);
  CHECK(h >= 0);
  unlink(path);
  CHECK_EQ(fcntl(h, F_SETFL, fcntl(h, F_GETFL) | O_NONBLOCK), 0);
  CHECK_EQ(corio_file_new(h, "file", &f), 0);
  CHECK_EQ(corio_file_write(f, "hi", 2), 2);
  CHECK_EQ(corio_file_set_deadline(f, corio_nanotime() + MS), CORIO_ENODEADLINE);
  corio_file_free(f);
  return 0;
}

Test(fd_errors, file_new_puts_a_nonblocking_descriptor_on_the_poller) {
  run_program(2, nonblocking_new_main, NULL);
}

/* ---- item 9: the runtime's own descriptors ---- */

static void ping(void *arg) {
  corio_file_t *w = arg;
  CHECK_EQ(corio_file_write(w, "p", 1), 1);
}

/* Such descriptors open before the runtime started (the test framework's). */
static int pre_ep[16], pre_ev[16], npre_ep, npre_ev;

static bool in(const int *v, int n, int x) {
  for (int i = 0; i < n; i++)
    if (v[i] == x) return true;
  return false;
}

/* Those of want opened since the snapshot: the runtime's own. */
static int find_new(const char *what, const int *pre, int npre, int *out) {
  int all[16], n = find_anon(what, all, 16), k = 0;
  for (int i = 0; i < n; i++)
    if (!in(pre, npre, all[i])) out[k++] = all[i];
  return k;
}

static int own_fds_main(void *arg) {
  int ep[16], ev[16];
  int nep = find_new("anon_inode:[eventpoll]", pre_ep, npre_ep, ep);
  int nev = find_new("anon_inode:[eventfd]", pre_ev, npre_ev, ev);
  CHECK_EQ(nep, 1); /* the runtime's epoll instance and its eventfd */
  CHECK_EQ(nev, 1);
  int before = count_fds();
  for (int i = 0; i < nep; i++) {
    corio_fd_t *fd = (corio_fd_t *)&fd;
    CHECK_EQ(corio_fd_open(ep[i], CORIO_FD_FILE, &fd), CORIO_EINVAL);
    CHECK(fd == NULL);
    corio_file_t *f = (corio_file_t *)&f;
    CHECK_EQ(corio_file_new(ep[i], "epoll", &f), CORIO_EINVAL);
    CHECK(f == NULL);
  }
  for (int i = 0; i < nev; i++) {
    corio_fd_t *fd = NULL;
    CHECK_EQ(corio_fd_open(ev[i], CORIO_FD_FILE, &fd), CORIO_EINVAL);
    corio_file_t *f = NULL;
    CHECK_EQ(corio_file_new(ev[i], "eventfd", &f), CORIO_EINVAL);
  }
  CHECK_EQ(count_fds(), before); /* nothing was closed */
  /* The poller still works: a read parks and is woken, a deadline fires. */
  corio_file_t *r, *w;
  CHECK_EQ(corio_file_pipe(&r, &w), 0);
  CHECK_EQ(corio_spawn(ping, w), 0);
  char c;
  CHECK_EQ(corio_file_read(r, &c, 1), 1);
  CHECK_EQ(corio_file_set_read_deadline(r, corio_nanotime() + 10 * MS), 0);
  CHECK_EQ(corio_file_read(r, &c, 1), CORIO_ETIMEOUT);
  corio_file_free(r);
  corio_file_free(w);
  return 0;
}

Test(fd_errors, the_runtimes_own_descriptors_are_refused) {
  npre_ep = find_anon("anon_inode:[eventpoll]", pre_ep, 16);
  npre_ev = find_anon("anon_inode:[eventfd]", pre_ev, 16);
  run_program(1, own_fds_main, NULL);
  run_program(2, own_fds_main, NULL); /* and after a restart, the new ones */
}

/* ---- item 13: the count and the error together ---- */

static int write_ex_main(void *arg) {
  int p[2];
  CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
  CHECK_EQ(fcntl(p[0], F_SETFL, O_NONBLOCK), 0); /* the test's own drains */
  CHECK(fcntl(p[1], F_SETPIPE_SZ, 4096) > 0);
  int cap = fcntl(p[1], F_GETPIPE_SZ);
  corio_fd_t *w = NULL;
  CHECK_EQ(corio_fd_open(p[1], CORIO_FD_PIPE, &w), 0);
  size_t len = (size_t)cap * 4;
  char *buf = calloc(1, len);
  size_t n = 12345;
  /* Nobody reads: the deadline stops the write after the pipe filled. */
  /* Long enough for the first write to go out on a loaded machine. */
  CHECK_EQ(corio_fd_set_write_deadline(w, corio_nanotime() + 300 * MS), 0);
  CHECK_EQ(corio_fd_write_ex(w, buf, len, &n), CORIO_ETIMEOUT);
  CHECK_EQ(n, (size_t)cap);
  /* With nothing written the error comes with a zero count. */
  CHECK_EQ(corio_fd_write_ex(w, buf, len, &n), CORIO_ETIMEOUT);
  CHECK_EQ(n, 0);
  /* The count-or-error form keeps its contract: a short count, and the
   * persistent error on the next call. */
  char drain[8192];
  CHECK(read(p[0], drain, sizeof drain) > 0);
  CHECK_EQ(corio_fd_set_write_deadline(w, corio_nanotime() + 300 * MS), 0);
  ptrdiff_t got = corio_fd_write(w, buf, len);
  CHECK(got > 0 && (size_t)got < len);
  CHECK_EQ(corio_fd_write(w, buf, len), CORIO_ETIMEOUT);
  CHECK_EQ(corio_fd_set_write_deadline(w, 0), 0);
  /* All of it: 0 and the full count; len 0: 0 and 0. */
  while (read(p[0], drain, sizeof drain) > 0) {
  }
  CHECK_EQ(corio_fd_write_ex(w, "abc", 3, &n), 0);
  CHECK_EQ(n, 3);
  CHECK_EQ(corio_fd_write_ex(w, NULL, 0, &n), 0);
  CHECK_EQ(n, 0);
  /* Bad arguments. */
  n = 7;
  CHECK_EQ(corio_fd_write_ex(NULL, "a", 1, &n), CORIO_EINVAL);
  CHECK_EQ(n, 0);
  CHECK_EQ(corio_fd_write_ex(w, "a", 1, NULL), CORIO_EINVAL);
  n = 7;
  CHECK_EQ(corio_fd_write_ex(w, NULL, 1, &n), CORIO_EINVAL);
  CHECK_EQ(n, 0);
  /* A reader gone: EPIPE with the count (0 here). */
  close(p[0]);
  CHECK_EQ(corio_fd_write_ex(w, "abc", 3, &n), corio_err_from_errno(EPIPE));
  CHECK_EQ(n, 0);
  CHECK_EQ(corio_fd_close(w), 0);
  CHECK_EQ(corio_fd_write_ex(w, "abc", 3, &n), CORIO_ECLOSING);
  CHECK_EQ(n, 0);
  corio_fd_free(w);

  /* The File form. */
  corio_file_t *fr, *fw;
  CHECK_EQ(corio_file_pipe(&fr, &fw), 0);
  CHECK_EQ(corio_file_set_write_deadline(fw, corio_nanotime() + 300 * MS), 0);
  size_t big = (size_t)16 << 20; /* more than any pipe holds */
  char *bbuf = calloc(1, big);
  CHECK_EQ(corio_file_write_ex(fw, bbuf, big, &n), CORIO_ETIMEOUT);
  CHECK(n > 0 && n < big);
  n = 7;
  CHECK_EQ(corio_file_write_ex(NULL, "a", 1, &n), CORIO_EINVAL);
  CHECK_EQ(n, 0);
  CHECK_EQ(corio_file_write_ex(fw, "a", 1, NULL), CORIO_EINVAL);
  CHECK_EQ(corio_file_close(fw), 0);
  CHECK_EQ(corio_file_write_ex(fw, "a", 1, &n), CORIO_ECLOSING);
  CHECK_EQ(n, 0);
  corio_file_free(fr);
  corio_file_free(fw);
  free(bbuf);
  free(buf);
  return 0;
}

Test(fd_errors, write_ex_reports_the_count_and_the_error) {
  signal(SIGPIPE, SIG_IGN);
  run_program(2, write_ex_main, NULL);
}

static int write_ex_full_main(void *arg) {
  /* /dev/full: every write fails with ENOSPC. */
  int h = open("/dev/full", O_WRONLY | O_CLOEXEC);
  CHECK(h >= 0);
  corio_file_t *f = NULL;
  CHECK_EQ(corio_file_new(h, "/dev/full", &f), 0);
  size_t n = 7;
  CHECK_EQ(corio_file_write_ex(f, "abc", 3, &n), corio_err_from_errno(ENOSPC));
  CHECK_EQ(n, 0);
  CHECK_EQ(corio_file_write(f, "abc", 3), corio_err_from_errno(ENOSPC));
  corio_file_free(f);
  return 0;
}

Test(fd_errors, write_ex_on_a_full_device) { run_program(1, write_ex_full_main, NULL); }

/* The new code and an OS error have names and messages. */
Test(fd_errors, error_names) {
  cr_assert_str_eq(corio_err_name(corio_err_from_errno(EPIPE)), "EPIPE");
  cr_assert_str_eq(corio_err_name(CORIO_EPOLLER), "CORIO_EPOLLER");
  cr_assert_str_eq(corio_strerror(CORIO_EPOLLER), "the runtime's poller failed");
}
