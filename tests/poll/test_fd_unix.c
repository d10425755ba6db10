/* The FD on Unix: pipes and sockets under coroutines: reading and writing,
 * EOF, vectors, close, deadlines, blocking mode, control, leaks. The
 * short-read rule is in test_fd_short_read_linux.c, accept and connect in
 * test_fd_socket_unix.c. */
#include "fd_unix_util.h"

/* ---- init and handle errors ---- */

static int init_errors_main(void *arg) {
  corio__fd_t fd;
  CHECK_EQ(corio__fd_init(&fd, (uintptr_t)(intptr_t)-1, CORIO__FD_PIPE, true, true), CORIO_EBADF);
  int p[2];
  CHECK_EQ(pipe(p), 0);
  close(p[0]);
  close(p[1]);
  CHECK_EQ(corio__fd_init(&fd, (uintptr_t)p[0], CORIO__FD_PIPE, true, true), CORIO_EBADF);
  corio_fd_t *pub;
  CHECK_EQ(corio_fd_open(CORIO_INVALID_HANDLE, CORIO_FD_PIPE, &pub), CORIO_EBADF);
  CHECK_EQ(corio_fd_open(p[0], CORIO_FD_PIPE, &pub), CORIO_EBADF);
  CHECK_EQ(corio_fd_open(0, (corio_fd_kind_t)99, &pub), CORIO_EINVAL);
  CHECK_EQ(corio_fd_open(0, CORIO_FD_PIPE, NULL), CORIO_EINVAL);
  return 0;
}

Test(fd_unix, init_rejects_invalid_handles) { run_program(1, init_errors_main, NULL); }

Test(fd_unix, open_before_init_is_refused) {
  corio_fd_t *pub;
  cr_assert_eq(corio_fd_open(0, CORIO_FD_PIPE, &pub), CORIO_ENOTINIT);
}

/* ---- reading and writing ---- */

static int pipe_round_trip_main(void *arg) {
  corio__fd_t *r, *w;
  make_pipe(&r, &w);
  CHECK(corio__fd_pollable(r) && corio__fd_pollable(w));
  CHECK(fcntl((int)r->handle, F_GETFL) & O_NONBLOCK);
  char buf[16];
  CHECK_EQ(corio__fd_read(r, buf, 0), 0); /* empty buffer: no wait, no call */
  CHECK_EQ(corio__fd_write(w, "", 0), 0);
  CHECK_EQ(corio__fd_write(w, "hello", 5), 5);
  CHECK_EQ(corio__fd_read(r, buf, sizeof buf), 5);
  CHECK(memcmp(buf, "hello", 5) == 0);
  CHECK_EQ(corio__fd_close(w), 0);
  CHECK_EQ(corio__fd_read(r, buf, sizeof buf), CORIO_EEOF); /* zero read on a stream */
  CHECK_EQ(corio__fd_pread(r, buf, 1, 0), corio_err_from_errno(ESPIPE));
  CHECK_EQ(corio__fd_seek(r, 0, SEEK_SET), corio_err_from_errno(ESPIPE));
  drop(r);
  free(w);
  return 0;
}

Test(fd_unix, pipe_round_trip_and_eof) { run_program(2, pipe_round_trip_main, NULL); }

/* A zero-length datagram is a message, not the end. */
static int dgram_zero_read_main(void *arg) {
  int sv[2];
  CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
  corio__fd_t *a = wrap(sv[0], CORIO__FD_DGRAM, false), *b = wrap(sv[1], CORIO__FD_DGRAM, false);
  CHECK_EQ(send(sv[1], "", 0, 0), 0);
  char buf[8];
  CHECK_EQ(corio__fd_read(a, buf, sizeof buf), 0);
  CHECK_EQ(corio__fd_close(a), 0);
  CHECK_EQ(corio__fd_read(a, buf, sizeof buf), CORIO_ENETCLOSING); /* socket flavour */
  CHECK_EQ(corio__fd_close(a), CORIO_ENETCLOSING);
  free(a);
  drop(b);
  return 0;
}

Test(fd_unix, dgram_zero_read_is_not_eof) { run_program(1, dgram_zero_read_main, NULL); }

/* A write much larger than the pipe loops until a slow reader took it all. */
typedef struct reader_arg {
  corio__fd_t *fd;
  size_t want, got;
  uint32_t sum;
  _Atomic int done;
} reader_arg_t;

static void slow_reader(void *arg) {
  reader_arg_t *ra = arg;
  char buf[3000];
  while (ra->got < ra->want) {
    ptrdiff_t n = corio__fd_read(ra->fd, buf, sizeof buf);
    if (n <= 0) {
      CHECK_EQ(n, 1);
      break;
    }
    for (ptrdiff_t i = 0; i < n; i++) ra->sum = ra->sum * 31 + (uint8_t)buf[i];
    ra->got += (size_t)n;
    if (ra->got % 7 == 0) corio_yield();
  }
  atomic_store(&ra->done, 1);
}

static int write_loops_main(void *arg) {
  corio__fd_t *r, *w;
  make_pipe(&r, &w);
  enum { LEN = 1 << 20 };
  char *data = malloc(LEN);
  uint32_t sum = 0;
  for (int i = 0; i < LEN; i++) {
    data[i] = (char)(i * 7 + (i >> 9));
    sum = sum * 31 + (uint8_t)data[i];
  }
  reader_arg_t ra = {.fd = r, .want = LEN};
  CHECK_EQ(corio_spawn(slow_reader, &ra), 0);
  CHECK_EQ(corio__fd_write(w, data, LEN), LEN);
  wait_for(&ra.done, 1);
  CHECK_EQ(ra.got, LEN);
  CHECK_EQ(ra.sum, sum);

  /* The same through writev, from many small pieces. */
  struct iovec iov[200];
  for (int i = 0; i < 200; i++) {
    iov[i].iov_base = data + i * (LEN / 200);
    iov[i].iov_len = i % 10 == 3 ? 0 : LEN / 200; /* a few empty entries */
  }
  size_t total = 0;
  uint32_t vsum = 0;
  for (int i = 0; i < 200; i++)
    for (size_t j = 0; j < iov[i].iov_len; j++) vsum = vsum * 31 + ((uint8_t *)iov[i].iov_base)[j];
  for (int i = 0; i < 200; i++) total += iov[i].iov_len;
  reader_arg_t rv = {.fd = r, .want = total};
  CHECK_EQ(corio_spawn(slow_reader, &rv), 0);
  CHECK_EQ(corio__fd_writev(w, iov, 200), (ptrdiff_t)total);
  wait_for(&rv.done, 1);
  CHECK_EQ(rv.sum, vsum);
  CHECK_EQ(iov[1].iov_len, LEN / 200); /* the caller's vector is untouched */

  /* readv scatters one read. */
  CHECK_EQ(corio__fd_write(w, "abcdef", 6), 6);
  char x[2], y[10];
  struct iovec rv2[2] = {{x, sizeof x}, {y, sizeof y}};
  CHECK_EQ(corio__fd_readv(r, rv2, 2), 6);
  CHECK(memcmp(x, "ab", 2) == 0 && memcmp(y, "cdef", 4) == 0);
  CHECK_EQ(corio__fd_readv(r, rv2, 0), 0);
  free(data);
  drop(r);
  drop(w);
  return 0;
}

Test(fd_unix, write_and_writev_loop_until_all_written) { run_program(2, write_loops_main, NULL); }

/* ---- close ---- */

static int close_unblocks_reader_main(void *arg) {
  corio__fd_t *r, *w;
  make_pipe(&r, &w);
  blocked_t b = {.fd = r};
  CHECK_EQ(corio_spawn(blocked_read, &b), 0);
  wait_for(&b.started, 1);
  wait_parked(b.g, "io wait"); /* really blocked on the empty pipe */
  CHECK_EQ(atomic_load(&b.done), 0);
  int h = (int)r->handle;
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio__fd_close(r), 0);
  /* Non-blocking mode: close returns once the reader has dropped its
   * reference and the descriptor is closed (the reader may still be on its
   * way out of the call: the FD's memory must outlive that). */
  CHECK(fcntl(h, F_GETFD) < 0 || h == (int)w->handle);
  wait_for(&b.done, 1);
  CHECK_EQ(b.result, CORIO_ECLOSING);
  CHECK(b.returned_at - t0 < 1000 * MS);
  CHECK_EQ(corio__fd_read(r, NULL, 0), CORIO_ECLOSING);
  CHECK_EQ(corio__fd_close(r), CORIO_ECLOSING);
  free(r);
  drop(w);
  return 0;
}

Test(fd_unix, reader_on_empty_pipe_returns_closing_when_closed) {
  run_program(2, close_unblocks_reader_main, NULL);
}

/* A reader and a writer parked, more queued behind them on the locks:
 * close wakes them all with the closing error and then closes. */
static int close_in_flight_main(void *arg) {
  int sv[2];
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  int sz = 4096;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  corio__fd_t *s = wrap(sv[0], CORIO__FD_STREAM, false);
  corio__fd_t *peer = wrap(sv[1], CORIO__FD_STREAM, false);
  fill(s);
  enum { N = 4 };
  blocked_t rd[N], wr[N];
  for (int i = 0; i < N; i++) {
    rd[i] = (blocked_t){.fd = s};
    wr[i] = (blocked_t){.fd = s};
    CHECK_EQ(corio_spawn(blocked_read, &rd[i]), 0);
    CHECK_EQ(corio_spawn(blocked_write, &wr[i]), 0);
  }
  /* One reader and one writer on the poller, the others on the locks. */
  for (int i = 0; i < N; i++) {
    wait_for(&rd[i].started, 1);
    wait_for(&wr[i].started, 1);
    wait_parked(rd[i].g, NULL);
    wait_parked(wr[i].g, NULL);
  }
  corio__fdmu_view_t v = corio__fdmu_view(&s->mu);
  CHECK_EQ(v.refs, 2);
  CHECK_EQ(v.rwait, N - 1);
  CHECK_EQ(v.wwait, N - 1);
  int64_t t0 = corio_nanotime();
  int h = (int)s->handle;
  CHECK_EQ(corio__fd_close(s), 0);
  CHECK(fcntl(h, F_GETFD) < 0 || h == (int)peer->handle); /* closed when close returns */
  for (int i = 0; i < N; i++) {
    wait_for(&rd[i].done, 1);
    wait_for(&wr[i].done, 1);
    CHECK_EQ(rd[i].result, CORIO_ENETCLOSING);
    CHECK_EQ(wr[i].result, CORIO_ENETCLOSING);
  }
  CHECK(since(t0) < 1000 * MS);
  /* The peer sees the end of the stream: the socket really was closed. */
  char buf[8192];
  ptrdiff_t n;
  while ((n = corio__fd_read(peer, buf, sizeof buf)) > 0) {
  }
  CHECK_EQ(n, CORIO_EEOF);
  free(s);
  drop(peer);
  return 0;
}

Test(fd_unix, close_with_operations_in_flight) { run_program(4, close_in_flight_main, NULL); }

/* ---- deadlines ---- */

static int read_deadline_main(void *arg) {
  corio__fd_t *r, *w;
  make_pipe(&r, &w);
  char c;
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio__fd_set_deadline(r, t0 + 50 * MS, 'r'), 0);
  CHECK_EQ(corio__fd_read(r, &c, 1), CORIO_ETIMEOUT);
  int64_t took = since(t0);
  CHECK(took >= 50 * MS);  /* not before its deadline */
  CHECK(took < 2000 * MS); /* and not much after */
  /* Still expired: fails at once, without waiting. */
  t0 = corio_nanotime();
  CHECK_EQ(corio__fd_read(r, &c, 1), CORIO_ETIMEOUT);
  CHECK(since(t0) < 20 * MS);
  /* Writes have their own deadline. */
  CHECK_EQ(corio__fd_write(w, "x", 1), 1);
  /* Cleared: data reads again. */
  CHECK_EQ(corio__fd_set_deadline(r, 0, 'r'), 0);
  CHECK_EQ(corio__fd_read(r, &c, 1), 1);
  /* A deadline in the past fails the next read at once. */
  CHECK_EQ(corio__fd_write(w, "y", 1), 1);
  CHECK_EQ(corio__fd_set_deadline(r, corio_nanotime() - 1, 'r'), 0);
  CHECK_EQ(corio__fd_read(r, &c, 1), CORIO_ETIMEOUT);
  drop(r);
  drop(w);
  return 0;
}

Test(fd_unix, read_deadline_with_no_writer) { run_program(2, read_deadline_main, NULL); }

static int write_deadline_main(void *arg) {
  corio__fd_t *r, *w;
  make_pipe(&r, &w);
  size_t filled = fill(w);
  CHECK(filled > 0);
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio__fd_set_deadline(w, t0 + 50 * MS, 'w'), 0);
  char buf[100] = {0};
  CHECK_EQ(corio__fd_write(w, buf, sizeof buf), CORIO_ETIMEOUT);
  CHECK(since(t0) >= 50 * MS);
  CHECK(since(t0) < 2000 * MS);
  /* A partial write before the deadline is reported as a short count. */
  /* Drain it all: a pipe frees room a page at a time. */
  char drain[4096];
  for (size_t left = filled; left > 0;) {
    ptrdiff_t got = corio__fd_read(r, drain, left < sizeof drain ? left : sizeof drain);
    CHECK(got > 0);
    if (got <= 0) break;
    left -= (size_t)got;
  }
  CHECK_EQ(corio__fd_set_deadline(w, corio_nanotime() + 50 * MS, 'w'), 0);
  static char big[64 * 1024];
  ptrdiff_t n = corio__fd_write(w, big, sizeof big);
  CHECK(n > 0 && n < (ptrdiff_t)sizeof big);
  CHECK_EQ(corio__fd_write(w, big, sizeof big), CORIO_ETIMEOUT); /* the error recurs */
  drop(r);
  drop(w);
  return 0;
}

Test(fd_unix, write_deadline_on_full_pipe) { run_program(2, write_deadline_main, NULL); }

/* Extend the deadline of a blocked read: it must wait for the new one. */
static int deadline_extended_main(void *arg) {
  corio__fd_t *r, *w;
  make_pipe(&r, &w);
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio__fd_set_deadline(r, t0 + 50 * MS, 'r'), 0);
  blocked_t b = {.fd = r};
  CHECK_EQ(corio_spawn(blocked_read, &b), 0);
  wait_for(&b.started, 1);
  wait_parked(b.g, "io wait");
  CHECK_EQ(corio__fd_set_deadline(r, t0 + 300 * MS, 'r'), 0);
  corio_sleep(100 * MS); /* past the old deadline */
  CHECK_EQ(atomic_load(&b.done), 0);
  wait_for(&b.done, 1);
  CHECK_EQ(b.result, CORIO_ETIMEOUT);
  CHECK(b.returned_at - t0 >= 300 * MS);
  /* Shortened while blocked: it returns early. */
  CHECK_EQ(corio__fd_set_deadline(r, 0, 'r'), 0);
  blocked_t c = {.fd = r};
  t0 = corio_nanotime();
  CHECK_EQ(corio_spawn(blocked_read, &c), 0);
  wait_for(&c.started, 1);
  wait_parked(c.g, "io wait");
  CHECK_EQ(corio__fd_set_deadline(r, corio_nanotime() + 10 * MS, 'r'), 0);
  wait_for(&c.done, 1);
  CHECK_EQ(c.result, CORIO_ETIMEOUT);
  CHECK(c.returned_at - t0 < 1000 * MS);
  drop(r);
  drop(w);
  return 0;
}

Test(fd_unix, deadline_extended_while_blocked) { run_program(2, deadline_extended_main, NULL); }

/* Readers take turns under the read lock while a writer makes progress
 * without waiting for them. */
static _Atomic int in_read, max_in_read, reads_done;

static void serial_reader(void *arg) {
  corio__fd_t *r = arg;
  for (int i = 0; i < 50; i++) {
    char c;
    int err = corio__fd_read_lock(r);
    CHECK_EQ(err, 0);
    int now = atomic_fetch_add(&in_read, 1) + 1;
    if (now > atomic_load(&max_in_read)) atomic_store(&max_in_read, now);
    corio_yield();
    atomic_fetch_sub(&in_read, 1);
    corio__fd_read_unlock(r);
    /* And a real read through the FD. */
    CHECK_EQ(corio__fd_read(r, &c, 1), 1);
    atomic_fetch_add(&reads_done, 1);
  }
}

static int reads_serialise_main(void *arg) {
  corio__fd_t *r, *w;
  make_pipe(&r, &w);
  enum { READERS = 6 };
  for (int i = 0; i < READERS; i++) CHECK_EQ(corio_spawn(serial_reader, r), 0);
  /* The writer holds the write lock while readers block on the read side. */
  CHECK_EQ(corio__fd_write_lock(w), 0);
  corio__fd_write_unlock(w);
  for (int i = 0; i < READERS * 50; i++) {
    CHECK_EQ(corio__fd_write(w, "z", 1), 1);
    if (i % 16 == 0) corio_yield();
  }
  wait_for(&reads_done, READERS * 50);
  CHECK_EQ(atomic_load(&max_in_read), 1);
  /* Concurrent read and write on one FD (a socket): the write proceeds
   * while a read holds the read lock parked. */
  int sv[2];
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  corio__fd_t *s = wrap(sv[0], CORIO__FD_STREAM, false), *p = wrap(sv[1], CORIO__FD_STREAM, false);
  blocked_t b = {.fd = s};
  CHECK_EQ(corio_spawn(blocked_read, &b), 0);
  wait_for(&b.started, 1);
  wait_parked(b.g, "io wait");
  CHECK_EQ(corio__fd_write(s, "ping", 4), 4); /* not held up by the parked read */
  char buf[4];
  CHECK_EQ(corio__fd_read(p, buf, 4), 4);
  CHECK_EQ(atomic_load(&b.done), 0);
  CHECK_EQ(corio__fd_write(p, "!", 1), 1);
  wait_for(&b.done, 1);
  CHECK_EQ(b.result, 1);
  drop(s);
  drop(p);
  drop(r);
  drop(w);
  return 0;
}

Test(fd_unix, concurrent_reads_serialise_while_a_write_proceeds) {
  run_program(4, reads_serialise_main, NULL);
}

/* ---- blocking mode ---- */

static void late_writer(void *arg) {
  corio__fd_t *w = arg;
  corio_sleep(30 * MS);
  CHECK_EQ(corio__fd_write(w, "late", 4), 4);
}

static int set_blocking_main(void *arg) {
  corio__fd_t *r, *w;
  make_pipe(&r, &w);
  CHECK_EQ(corio__fd_set_deadline(r, corio_nanotime() - 1, 'r'), 0); /* expired... */
  CHECK_EQ(corio__fd_set_blocking(r), 0);
  CHECK_EQ(fcntl((int)r->handle, F_GETFL) & O_NONBLOCK, 0);
  /* ... and forgotten; new ones are refused. */
  CHECK_EQ(corio__fd_set_deadline(r, corio_nanotime() + MS, 'r'), CORIO_ENODEADLINE);
  CHECK_EQ(corio__fd_set_deadline(r, 0, 'r' + 'w'), CORIO_ENODEADLINE);
  /* A read that blocks its thread in the kernel; the P is handed on so the
   * writer (on any P) still runs. */
  CHECK_EQ(corio_spawn(late_writer, w), 0);
  char buf[8];
  CHECK_EQ(corio__fd_read(r, buf, sizeof buf), 4);
  CHECK(memcmp(buf, "late", 4) == 0);
  /* Close of a blocking-mode FD with nothing in flight closes at once. */
  int h = (int)r->handle;
  CHECK_EQ(corio__fd_close(r), 0);
  CHECK(fcntl(h, F_GETFD) < 0 || h == (int)w->handle);
  CHECK_EQ(corio__fd_set_blocking(r), CORIO_ECLOSING);
  free(r);
  drop(w);
  return 0;
}

Test(fd_unix, set_blocking_stops_deadlines) { run_program(1, set_blocking_main, NULL); }

/* EINTR is retried: a signal (installed without SA_RESTART) lands on the
 * thread of a read blocked in the kernel; the read goes on and returns the
 * data that arrives later. */
static _Atomic int signals_seen;
static void on_usr1(int sig) { atomic_fetch_add(&signals_seen, 1); }

typedef struct eintr_reader {
  corio__fd_t *fd;
  pthread_t thread;
  _Atomic int ready, done;
  ptrdiff_t result;
} eintr_reader_t;

static void eintr_read(void *arg) {
  eintr_reader_t *e = arg;
  char c;
  /* The runtime's threads block signals; let this one take SIGUSR1 for the
   * duration of the read, which stays on this thread (blocking mode, no
   * park). */
  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_UNBLOCK, &usr1, &old);
  e->thread = pthread_self();
  atomic_store(&e->ready, 1);
  e->result = corio__fd_read(e->fd, &c, 1);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  atomic_store(&e->done, 1);
}

static int eintr_main(void *arg) {
  struct sigaction sa = {.sa_handler = on_usr1}; /* no SA_RESTART */
  sigemptyset(&sa.sa_mask);
  CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
  corio__fd_t *r, *w;
  make_pipe(&r, &w);
  CHECK_EQ(corio__fd_set_blocking(r), 0);
  eintr_reader_t e = {.fd = r};
  CHECK_EQ(corio_spawn(eintr_read, &e), 0);
  wait_for(&e.ready, 1);
  corio_sleep(30 * MS);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(pthread_kill(e.thread, SIGUSR1), 0);
    /* One at a time: signals sent while the reader has not run yet merge. */
    wait_for(&signals_seen, i + 1);
    corio_sleep(10 * MS);
  }
  CHECK_EQ(atomic_load(&e.done), 0); /* still reading, not failed with EINTR */
  CHECK_EQ(atomic_load(&signals_seen), 3);
  CHECK_EQ(corio__fd_write(w, "s", 1), 1);
  wait_for(&e.done, 1);
  CHECK_EQ(e.result, 1);
  drop(r);
  drop(w);
  return 0;
}

Test(fd_unix, eintr_is_retried) { run_program(2, eintr_main, NULL); }

/* A regular file is not pollable: blocking mode, no deadlines, positioned I/O. */
static int regular_file_main(void *arg) {
  char path[] = "/tmp/corio-fd-XXXXXX";
  int h = mkostemp(path, O_CLOEXEC);
  CHECK(h >= 0);
  unlink(path);
  corio__fd_t *f = wrap(h, CORIO__FD_FILE, true);
  CHECK(!corio__fd_pollable(f));
  CHECK_EQ(fcntl(h, F_GETFL) & O_NONBLOCK, 0); /* restored after the poller refused it */
  CHECK_EQ(corio__fd_set_deadline(f, corio_nanotime() + MS, 'r'), CORIO_ENODEADLINE);
  CHECK_EQ(corio__fd_write(f, "0123456789", 10), 10);
  CHECK_EQ(corio__fd_pwrite(f, "AB", 2, 4), 2);
  char buf[16];
  CHECK_EQ(corio__fd_pread(f, buf, sizeof buf, 2), 8);
  CHECK(memcmp(buf, "23AB6789", 8) == 0);
  CHECK_EQ(corio__fd_pread(f, buf, 4, 10), CORIO_EEOF);
  CHECK_EQ(corio__fd_pread(f, buf, 4, -1), CORIO_EINVAL);
  CHECK_EQ(corio__fd_pwrite(f, buf, 4, -1), CORIO_EINVAL);
  CHECK_EQ(corio__fd_seek(f, 0, SEEK_CUR), 10); /* positioned I/O left it alone */
  CHECK_EQ(corio__fd_seek(f, 3, SEEK_SET), 3);
  CHECK_EQ(corio__fd_read(f, buf, 2), 2);
  CHECK(memcmp(buf, "3A", 2) == 0);
  CHECK_EQ(corio__fd_seek(f, -100, SEEK_CUR), CORIO_EINVAL);
  CHECK_EQ(corio__fd_seek(f, 0, 7), CORIO_EINVAL);
  CHECK_EQ(corio__fd_seek(f, 0, SEEK_END), 10);
  CHECK_EQ(corio__fd_read(f, buf, 2), CORIO_EEOF);
  drop(f);
  return 0;
}

Test(fd_unix, regular_file_is_not_pollable) { run_program(2, regular_file_main, NULL); }

/* ---- control and the public API ---- */

static int seen_handle(uintptr_t h, void *arg) {
  *(uintptr_t *)arg = h;
  return 42;
}

static int pub_seen(corio_handle_t h, void *arg) {
  *(corio_handle_t *)arg = h;
  return 7;
}

static int control_and_public_main(void *arg) {
  corio__fd_t *r, *w;
  make_pipe(&r, &w);
  uintptr_t h = 0;
  CHECK_EQ(corio__fd_control(r, seen_handle, &h), 42);
  CHECK_EQ(h, r->handle);
  CHECK_EQ(corio__fd_close(r), 0);
  CHECK_EQ(corio__fd_control(r, seen_handle, &h), CORIO_ECLOSING);
  free(r);
  drop(w);

  int p[2];
  CHECK_EQ(test_pipe(p, O_CLOEXEC), 0);
  corio_fd_t *pr, *pw;
  CHECK_EQ(corio_fd_open(p[0], CORIO_FD_PIPE, &pr), 0);
  CHECK_EQ(corio_fd_open(p[1], CORIO_FD_PIPE, &pw), 0);
  CHECK(corio_fd_pollable(pr));
  CHECK_EQ(corio_fd_write(pw, "abc", 3), 3);
  char buf[8];
  CHECK_EQ(corio_fd_read(pr, buf, sizeof buf), 3);
  CHECK_EQ(corio_fd_read(pr, NULL, 1), CORIO_EINVAL);
  CHECK_EQ(corio_fd_set_read_deadline(pr, corio_nanotime() + 10 * MS), 0);
  CHECK_EQ(corio_fd_read(pr, buf, 1), CORIO_ETIMEOUT);
  CHECK_EQ(corio_fd_set_deadline(pr, 0), 0);
  CHECK_EQ(corio_fd_set_write_deadline(pw, 0), 0);
  corio_handle_t seen = -1;
  CHECK_EQ(corio_fd_control(pr, pub_seen, &seen), 7);
  CHECK_EQ(seen, p[0]);
  CHECK_EQ(corio_fd_control(pr, NULL, NULL), CORIO_EINVAL);
  CHECK_EQ(corio_fd_close(pw), 0);
  CHECK_EQ(corio_fd_read(pr, buf, 1), CORIO_EEOF);
  CHECK_EQ(corio_fd_close(pw), CORIO_ECLOSING);
  CHECK_EQ(corio_fd_write(pw, "x", 1), CORIO_ECLOSING);
  CHECK_EQ(corio_fd_pwrite(pw, "x", 1, 0), CORIO_ECLOSING);
  CHECK_EQ(corio_fd_pread(pw, buf, 1, 0), CORIO_ECLOSING);
  CHECK_EQ(corio_fd_set_deadline(pw, 0), CORIO_ECLOSING);
  corio_fd_free(pw);
  corio_fd_free(pr); /* closes it */
  corio_fd_free(NULL);
  CHECK(fcntl(p[0], F_GETFD) < 0);
  return 0;
}

Test(fd_unix, control_and_public_api) { run_program(2, control_and_public_main, NULL); }

/* ---- leaks ---- */

static int no_leaks_main(void *arg) {
  int base = count_fds();
  for (int i = 0; i < 10000; i++) {
    corio__fd_t *r, *w;
    make_pipe(&r, &w);
    if (i % 100 == 0) {
      CHECK_EQ(corio__fd_write(w, "x", 1), 1);
      char c;
      CHECK_EQ(corio__fd_read(r, &c, 1), 1);
    }
    drop(r);
    drop(w);
  }
  CHECK_EQ(count_fds(), base);
  return 0;
}

Test(fd_unix, ten_thousand_open_close_cycles_leak_nothing, .timeout = 120) {
  run_program(2, no_leaks_main, NULL);
}
