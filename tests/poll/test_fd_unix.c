/* The FD on Unix: pipes and sockets under coroutines: waiting, deadlines,
 * close, EOF, vectors, accept / connect, blocking mode, leaks. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "corio/poll.h"
#include "corio/sync.h"
#include "check.h"
#include "fd_mutex_testing.h"
#include "fd_unix.h"
#include "net_util.h"
#include "netpoll_testing.h"

/* ---- helpers ---- */

static corio__fd_t *wrap(int h, int kind, bool is_file) {
  corio__fd_t *fd = calloc(1, sizeof *fd);
  CHECK_EQ(corio__fd_init(fd, (uintptr_t)h, kind, is_file, true), 0);
  return fd;
}

/* A pipe whose ends are FDs; the write end's buffer is cut to one page so
 * that filling it is quick. Made here, its writer is never in packet mode:
 * reads use the short-read rule, as on corio_file_pipe's ends. */
static void make_pipe(corio__fd_t **r, corio__fd_t **w) {
  int p[2];
  CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
  fcntl(p[1], F_SETPIPE_SZ, 4096);
  *r = wrap(p[0], CORIO__FD_PIPE, true);
  *w = wrap(p[1], CORIO__FD_PIPE, true);
  corio__fd_set_plain_pipe(*r);
}

static void drop(corio__fd_t *fd) {
  int err = corio__fd_close(fd);
  CHECK(err == 0 || err == CORIO_ECLOSING);
  free(fd);
}

/* Fill the pipe until the kernel refuses more; returns the bytes written. */
static size_t fill(corio__fd_t *w) {
  static char junk[4096];
  size_t total = 0;
  for (;;) {
    ssize_t n = write((int)w->handle, junk, sizeof junk);
    if (n <= 0) break;
    total += (size_t)n;
  }
  return total;
}

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

static int64_t since(int64_t t0) { return corio_nanotime() - t0; }

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

/* Ping-pong of one byte over two pipes on two Ps. Every read comes back short,
 * so each next read waits for readiness before calling read(2); a readiness
 * report that arrives between the short read and that wait must not be lost
 * (an early version dropped it and hung). */
typedef struct {
  corio__fd_t *r, *w;
  int rounds;
  corio_wg_t *wg;
} pong_side_t;

static void pong_side(void *arg) {
  pong_side_t *s = arg;
  char buf[64];
  for (int i = 0; i < s->rounds; i++) {
    CHECK_EQ(corio__fd_read(s->r, buf, sizeof buf), 1);
    CHECK_EQ(corio__fd_write(s->w, buf, 1), 1);
  }
  corio_wg_done(s->wg);
}

static int short_read_pingpong_main(void *arg) {
  (void)arg;
  corio__fd_t *ar, *aw, *br, *bw;
  make_pipe(&ar, &aw);
  make_pipe(&br, &bw);
  corio_wg_t wg = CORIO_WG_INIT;
  corio_wg_add(&wg, 1);
  pong_side_t side = {br, aw, 20000, &wg};
  CHECK_EQ(corio_spawn(pong_side, &side), 0);
  char buf[64] = {'x'};
  for (int i = 0; i < 20000; i++) {
    CHECK_EQ(corio__fd_write(bw, buf, 1), 1);
    CHECK_EQ(corio__fd_read(ar, buf, sizeof buf), 1);
  }
  corio_wg_wait(&wg);
  drop(ar);
  drop(aw);
  drop(br);
  drop(bw);
  return 0;
}

Test(fd_unix, short_reads_then_wait_lose_no_wakeup_on_two_ps, .timeout = 60) {
  for (int round = 0; round < 5; round++) run_program(2, short_read_pingpong_main, NULL);
}

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

typedef struct blocked {
  corio__fd_t *fd;
  _Atomic int started, done;
  ptrdiff_t result;
  int64_t returned_at;
} blocked_t;

static void blocked_read(void *arg) {
  blocked_t *b = arg;
  char c;
  atomic_store(&b->started, 1);
  b->result = corio__fd_read(b->fd, &c, 1);
  b->returned_at = corio_nanotime();
  atomic_store(&b->done, 1);
}

static void blocked_write(void *arg) {
  blocked_t *b = arg;
  static char big[8192];
  atomic_store(&b->started, 1);
  b->result = corio__fd_write(b->fd, big, sizeof big);
  b->returned_at = corio_nanotime();
  atomic_store(&b->done, 1);
}

/* Let a coroutine that said it started reach its park. */
static void settle(void) { corio_sleep(20 * MS); }

static int close_unblocks_reader_main(void *arg) {
  corio__fd_t *r, *w;
  make_pipe(&r, &w);
  blocked_t b = {.fd = r};
  CHECK_EQ(corio_spawn(blocked_read, &b), 0);
  wait_for(&b.started, 1);
  settle();
  CHECK_EQ(atomic_load(&b.done), 0); /* really blocked on the empty pipe */
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
  for (int i = 0; i < N; i++) {
    wait_for(&rd[i].started, 1);
    wait_for(&wr[i].started, 1);
  }
  settle();
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

/* ---- the short-read rule ----
 * After a read that came back short, the next read on a pipe or a TCP socket
 * waits for readiness before it calls read(2) (fd_unix.c). These tests look
 * for the ways that can lose a wake-up: end of file or urgent data reported
 * in the same edge as the last data, deadlines and close on the drained
 * path, descriptors where a short read does not mean empty. A read that
 * would hang carries a deadline of HANG_MS, so a lost wake-up fails a check
 * with CORIO_ETIMEOUT instead of stopping the suite. */
#define HANG_MS 5000

/* Yield until fd's read slot holds a parked coroutine; false (and a failed
 * check) after two seconds. */
static bool reader_parked(corio__fd_t *fd) {
  int64_t give_up = corio_nanotime() + 2000 * MS;
  while (corio__pd_debug_slot(fd->pd, 'r') <= 2) {
    if (corio_nanotime() > give_up) {
      check_fail(__FILE__, __LINE__, "the reader never parked");
      return false;
    }
    corio_yield();
  }
  return true;
}

/* Sleep (the scheduler polls meanwhile) until fd's read slot holds a READY
 * that nobody has taken: the report of what was just sent has been
 * delivered. */
static bool report_delivered(corio__fd_t *fd) {
  int64_t give_up = corio_nanotime() + 2000 * MS;
  while (corio__pd_debug_slot(fd->pd, 'r') != 1) {
    if (corio_nanotime() > give_up) {
      check_fail(__FILE__, __LINE__, "no report was delivered");
      return false;
    }
    corio_sleep(MS / 2);
  }
  return true;
}

static void make_tcp(corio__fd_t **a, corio__fd_t **b) {
  int sv[2];
  test_tcp_pair(sv);
  *a = wrap(sv[0], CORIO__FD_STREAM, false);
  *b = wrap(sv[1], CORIO__FD_STREAM, false);
}

static corio__fd_t *wrap_socket(int domain, int type, int sv[2]) {
  CHECK_EQ(socketpair(domain, type | SOCK_CLOEXEC, 0, sv), 0);
  return wrap(sv[0], type == SOCK_STREAM ? CORIO__FD_STREAM : CORIO__FD_DGRAM, false);
}

static int eligibility_main(void *arg) {
  corio__fd_t *a, *b;
  make_pipe(&a, &b);
  CHECK(a->short_read_drains);
  drop(a), drop(b);
  make_tcp(&a, &b);
  CHECK(a->short_read_drains && b->short_read_drains);
  drop(a), drop(b);
  /* A pipe from elsewhere: its writer may be in packet mode, which the
   * reading end cannot see (pipe2(O_DIRECT) leaves it off the reading end). */
  int p[2];
  CHECK_EQ(pipe2(p, O_CLOEXEC | O_DIRECT), 0);
  CHECK_EQ(fcntl(p[0], F_GETFL) & O_DIRECT, 0);
  a = wrap(p[0], CORIO__FD_PIPE, true);
  CHECK(corio__fd_pollable(a) && !a->short_read_drains);
  drop(a), close(p[1]);
  /* A named FIFO likewise: anyone may open its other end. */
  char path[] = "/tmp/corio-fifo-XXXXXX";
  CHECK(mkdtemp(path) != NULL);
  char fifo[64];
  snprintf(fifo, sizeof fifo, "%s/f", path);
  CHECK_EQ(mkfifo(fifo, 0600), 0);
  a = wrap(open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC), CORIO__FD_PIPE, true);
  CHECK(corio__fd_pollable(a) && !a->short_read_drains);
  drop(a), unlink(fifo), rmdir(path);
  /* Vouching applies to pipes only. */
  int sv0[2];
  a = wrap_socket(AF_UNIX, SOCK_STREAM, sv0);
  corio__fd_set_plain_pipe(a);
  CHECK(!a->short_read_drains);
  drop(a), close(sv0[1]);
  /* Sockets that are not TCP: a message per read, or a read that stops at a
   * message carrying descriptors. */
  int sv[2];
  static const int types[][2] = {{AF_UNIX, SOCK_STREAM},
                                 {AF_UNIX, SOCK_DGRAM},
                                 {AF_UNIX, SOCK_SEQPACKET}};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    a = wrap_socket(types[i][0], types[i][1], sv);
    CHECK(corio__fd_pollable(a) && !a->short_read_drains);
    drop(a), close(sv[1]);
  }
  a = wrap(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), CORIO__FD_DGRAM, false);
  CHECK(corio__fd_pollable(a) && !a->short_read_drains);
  drop(a);
  /* A terminal: canonical mode returns a line per read. */
  int pt = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (pt >= 0) {
    a = wrap(pt, CORIO__FD_CONSOLE, true);
    CHECK(!a->short_read_drains);
    drop(a);
  }
  /* Not on the poller: no rule. */
  CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
  a = calloc(1, sizeof *a);
  CHECK_EQ(corio__fd_init(a, (uintptr_t)p[0], CORIO__FD_PIPE, true, false), 0);
  CHECK(!a->short_read_drains);
  drop(a), close(p[1]);
  return 0;
}

Test(fd_unix, short_read_rule_only_where_a_short_read_means_empty) {
  run_program(1, eligibility_main, NULL);
}

/* ---- end of file in the same report as the last data ----
 * Each round: a reader coroutine reads with a 64-byte buffer until end of
 * file; the writer sends a few bytes and then ends the stream (pipe: close;
 * TCP: close, or shutdown(SHUT_WR) and then a reply from the reader). The
 * variants put the end in the same report as the last data in different
 * ways, some of them after the reader's short read has armed the rule. */
enum { EOF_PIPE, EOF_TCP_CLOSE, EOF_TCP_SHUTDOWN, EOF_KINDS };

typedef struct eof_reader {
  corio__fd_t *fd;
  bool reply;       /* write one byte back after end of file */
  _Atomic int got;  /* bytes so far */
  ptrdiff_t end;    /* the read that ended it: CORIO_EEOF expected */
  corio_wg_t done;
} eof_reader_t;

static void eof_reader_fn(void *arg) {
  eof_reader_t *e = arg;
  char buf[64];
  CHECK_EQ(corio__fd_set_deadline(e->fd, corio_nanotime() + HANG_MS * MS, 'r'), 0);
  ptrdiff_t n;
  while ((n = corio__fd_read(e->fd, buf, sizeof buf)) > 0) atomic_fetch_add(&e->got, (int)n);
  e->end = n;
  if (e->reply) CHECK_EQ(corio__fd_write(e->fd, "r", 1), 1);
  corio_wg_done(&e->done);
}

/* Wait until the reader holds want bytes and is parked again. */
static void wait_got(eof_reader_t *e, int want) {
  int64_t give_up = corio_nanotime() + 2000 * MS;
  while (atomic_load(&e->got) < want && corio_nanotime() < give_up) corio_yield();
  CHECK_EQ(atomic_load(&e->got), want);
  reader_parked(e->fd);
}

/* One round of variant v: send "abc" and end the stream through w (a raw
 * descriptor), which is closed or shut down. */
static void eof_send(eof_reader_t *e, int w, int kind, int v) {
  if (v == 1 || v == 3) reader_parked(e->fd);
  if (v == 2) {
    CHECK_EQ(write(w, "ab", 2), 2);
    corio_yield();
    CHECK_EQ(write(w, "c", 1), 1);
  } else if (v == 3) {
    /* The short read first, then the rest with the end: the reader is
     * waiting on the drained path when that one report arrives. */
    CHECK_EQ(write(w, "a", 1), 1);
    wait_got(e, 1);
    CHECK(e->fd->read_drained);
    CHECK_EQ(write(w, "bc", 2), 2);
  } else {
    CHECK_EQ(write(w, "abc", 3), 3);
  }
  if (kind == EOF_TCP_SHUTDOWN) CHECK_EQ(shutdown(w, SHUT_WR), 0);
  else CHECK_EQ(close(w), 0);
}

static void eof_round(int kind, int v) {
  int ends[2];
  if (kind == EOF_PIPE) CHECK_EQ(pipe2(ends, O_CLOEXEC), 0);
  else test_tcp_pair(ends);
  eof_reader_t e = {.fd = wrap(ends[0], kind == EOF_PIPE ? CORIO__FD_PIPE : CORIO__FD_STREAM,
                               kind == EOF_PIPE),
                    .reply = kind == EOF_TCP_SHUTDOWN};
  if (kind == EOF_PIPE) corio__fd_set_plain_pipe(e.fd);
  corio_wg_add(&e.done, 1);
  CHECK_EQ(corio_spawn(eof_reader_fn, &e), 0);
  eof_send(&e, ends[1], kind, v);
  corio_wg_wait(&e.done);
  CHECK_EQ(atomic_load(&e.got), 3);
  CHECK_EQ(e.end, CORIO_EEOF);
  if (kind == EOF_TCP_SHUTDOWN) {
    /* Half closed: the reader's answer still comes back. */
    char c = 0;
    CHECK_EQ(read(ends[1], &c, 1), 1);
    CHECK_EQ(c, 'r');
    close(ends[1]);
  }
  drop(e.fd);
}

typedef struct eof_driver {
  int kind, rounds;
  corio_wg_t *wg;
} eof_driver_t;

static void eof_driver(void *arg) {
  eof_driver_t *d = arg;
  /* Stop at the first failure: each lost wake-up costs HANG_MS. */
  for (int i = 0; i < d->rounds && !atomic_load(&check_failed); i++) eof_round(d->kind, i % 4);
  corio_wg_done(d->wg);
}

/* Every kind at once, two drivers each, on procs Ps. */
static int eof_main(void *arg) {
  int rounds = (int)(intptr_t)arg;
  corio_wg_t wg = CORIO_WG_INIT;
  eof_driver_t d[2 * EOF_KINDS];
  corio_wg_add(&wg, 2 * EOF_KINDS);
  for (int i = 0; i < 2 * EOF_KINDS; i++) {
    d[i] = (eof_driver_t){i % EOF_KINDS, rounds, &wg};
    CHECK_EQ(corio_spawn(eof_driver, &d[i]), 0);
  }
  corio_wg_wait(&wg);
  return 0;
}

Test(fd_unix, short_read_then_eof_in_one_report_never_hangs, .timeout = 120) {
  run_program(1, eof_main, (void *)(intptr_t)200);
  run_program(2, eof_main, (void *)(intptr_t)200);
  run_program(4, eof_main, (void *)(intptr_t)100);
}

/* ---- TCP urgent data ----
 * "abc", an urgent byte, "def", sent back to back: a read stops short before
 * the urgent mark with "def" still queued, and the edge that announced it
 * all is spent. The reader must still get "def" (the urgent byte is out of
 * band, or in line with SO_OOBINLINE), then answers. */
typedef struct urg_reader {
  corio__fd_t *fd;
  bool inline_oob;
  char got[16];
  int have;
  ptrdiff_t first; /* the first read's count */
  corio_wg_t done;
} urg_reader_t;

static void urg_reader_fn(void *arg) {
  urg_reader_t *u = arg;
  int want = u->inline_oob ? 7 : 6;
  CHECK_EQ(corio__fd_set_deadline(u->fd, corio_nanotime() + HANG_MS * MS, 'r'), 0);
  for (int i = 0; u->have < want; i++) {
    ptrdiff_t n = corio__fd_read(u->fd, u->got + u->have, sizeof u->got - (size_t)u->have);
    if (i == 0) u->first = n;
    CHECK(n > 0);
    if (n <= 0) break;
    u->have += (int)n;
  }
  CHECK_EQ(corio__fd_write(u->fd, "k", 1), 1);
  corio_wg_done(&u->done);
}

static int urgent_main(void *arg) {
  int stopped_at_mark = 0;
  for (int round = 0; round < 200 && !atomic_load(&check_failed); round++) {
    corio__fd_t *r, *w;
    make_tcp(&r, &w);
    urg_reader_t u = {.fd = r, .inline_oob = round % 2 == 1};
    int one = 1;
    if (u.inline_oob) setsockopt((int)r->handle, SOL_SOCKET, SO_OOBINLINE, &one, sizeof one);
    corio_wg_add(&u.done, 1);
    CHECK_EQ(corio_spawn(urg_reader_fn, &u), 0);
    if (round % 4 < 2) reader_parked(r);
    int h = (int)w->handle;
    CHECK_EQ(send(h, "abc", 3, 0), 3);
    CHECK_EQ(send(h, "X", 1, MSG_OOB), 1);
    CHECK_EQ(send(h, "def", 3, 0), 3);
    char c;
    CHECK_EQ(corio__fd_read(w, &c, 1), 1);
    corio_wg_wait(&u.done);
    CHECK(memcmp(u.got, u.inline_oob ? "abcXdef" : "abcdef", (size_t)u.have) == 0);
    if (u.first == 3) stopped_at_mark++;
    drop(r), drop(w);
  }
  /* The case that matters happened. */
  CHECK(stopped_at_mark > 0);
  return 0;
}

Test(fd_unix, tcp_urgent_byte_after_data_does_not_hang_the_reader, .timeout = 120) {
  run_program(1, urgent_main, NULL);
  run_program(2, urgent_main, NULL);
}

/* ---- deadlines and close on the drained path ---- */

/* Write s to w and read it back from r with a 64-byte buffer: a short read,
 * which arms the rule. */
static void drain_once(corio__fd_t *r, corio__fd_t *w, const char *s) {
  char buf[64];
  size_t n = strlen(s);
  CHECK_EQ(corio__fd_write(w, s, n), (ptrdiff_t)n);
  CHECK_EQ(corio__fd_read(r, buf, sizeof buf), (ptrdiff_t)n);
  CHECK(r->read_drained);
}

static int drained_deadline_main(void *arg) {
  corio__fd_t *r, *w;
  make_pipe(&r, &w);
  drain_once(r, w, "ab");
  char buf[64];
  /* A deadline ends a wait on the drained path; no read was made, and a
   * failed wait takes no READY: data written afterwards is read. */
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio__fd_set_deadline(r, t0 + 50 * MS, 'r'), 0);
  CHECK_EQ(corio__fd_read(r, buf, sizeof buf), CORIO_ETIMEOUT);
  CHECK(since(t0) >= 50 * MS && since(t0) < 2000 * MS);
  CHECK(r->read_drained);
  CHECK_EQ(corio__fd_write(w, "cd", 2), 2);
  CHECK_EQ(corio__fd_read(r, buf, sizeof buf), CORIO_ETIMEOUT); /* still expired */
  CHECK_EQ(corio__fd_set_deadline(r, 0, 'r'), 0);
  CHECK_EQ(corio__fd_read(r, buf, sizeof buf), 2);
  /* Moved earlier while a reader waits there. */
  CHECK(r->read_drained);
  CHECK_EQ(corio__fd_set_deadline(r, corio_nanotime() + 10000 * MS, 'r'), 0);
  blocked_t b = {.fd = r};
  CHECK_EQ(corio_spawn(blocked_read, &b), 0);
  reader_parked(r);
  t0 = corio_nanotime();
  CHECK_EQ(corio__fd_set_deadline(r, t0 + 30 * MS, 'r'), 0);
  wait_for(&b.done, 1);
  CHECK_EQ(b.result, CORIO_ETIMEOUT);
  CHECK(b.returned_at - t0 >= 30 * MS && b.returned_at - t0 < 2000 * MS);
  /* Moved into the past while it waits: at once. */
  CHECK_EQ(corio__fd_set_deadline(r, 0, 'r'), 0);
  blocked_t c = {.fd = r};
  CHECK_EQ(corio_spawn(blocked_read, &c), 0);
  reader_parked(r);
  t0 = corio_nanotime();
  CHECK_EQ(corio__fd_set_deadline(r, t0 - 1, 'r'), 0);
  wait_for(&c.done, 1);
  CHECK_EQ(c.result, CORIO_ETIMEOUT);
  CHECK(c.returned_at - t0 < 1000 * MS);
  /* Moved later while it waits, then data: the data. */
  CHECK_EQ(corio__fd_set_deadline(r, corio_nanotime() + 50 * MS, 'r'), 0);
  blocked_t d = {.fd = r};
  CHECK_EQ(corio_spawn(blocked_read, &d), 0);
  reader_parked(r);
  CHECK_EQ(corio__fd_set_deadline(r, corio_nanotime() + 10000 * MS, 'r'), 0);
  corio_sleep(100 * MS);
  CHECK_EQ(atomic_load(&d.done), 0);
  CHECK_EQ(corio__fd_write(w, "e", 1), 1);
  wait_for(&d.done, 1);
  CHECK_EQ(d.result, 1);
  drop(r), drop(w);
  return 0;
}

Test(fd_unix, deadlines_wake_a_reader_waiting_on_the_drained_path) {
  run_program(1, drained_deadline_main, NULL);
  run_program(2, drained_deadline_main, NULL);
}

static int drained_close_main(void *arg) {
  corio__fd_t *r, *w;
  make_tcp(&r, &w);
  drain_once(r, w, "hello");
  blocked_t b = {.fd = r};
  CHECK_EQ(corio_spawn(blocked_read, &b), 0);
  reader_parked(r);
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio__fd_close(r), 0);
  wait_for(&b.done, 1);
  CHECK_EQ(b.result, CORIO_ENETCLOSING);
  CHECK(b.returned_at - t0 < 1000 * MS);
  free(r);
  drop(w);
  return 0;
}

Test(fd_unix, close_wakes_a_reader_waiting_on_the_drained_path) {
  run_program(1, drained_close_main, NULL);
  run_program(2, drained_close_main, NULL);
}

/* ---- descriptors outside the rule keep every read ---- */

/* Read the next message from r, which is already queued. */
static void read_queued(corio__fd_t *r, const char *want) {
  char buf[64];
  size_t n = strlen(want);
  ptrdiff_t got = corio__fd_read(r, buf, sizeof buf);
  CHECK_EQ(got, (ptrdiff_t)n);
  CHECK(got != (ptrdiff_t)n || memcmp(buf, want, n) == 0);
}

static int messages_main(void *arg) {
  int sv[2];
  static const int types[] = {SOCK_DGRAM, SOCK_SEQPACKET};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    corio__fd_t *a = wrap_socket(AF_UNIX, types[i], sv);
    CHECK_EQ(corio__fd_set_deadline(a, corio_nanotime() + HANG_MS * MS, 'r'), 0);
    CHECK_EQ(send(sv[1], "one", 3, 0), 3);
    CHECK_EQ(send(sv[1], "two", 3, 0), 3);
    CHECK_EQ(send(sv[1], "three", 5, 0), 5);
    report_delivered(a); /* so that the first read's prepare drops it */
    read_queued(a, "one");
    read_queued(a, "two");
    read_queued(a, "three");
    drop(a), close(sv[1]);
  }
  /* A Unix stream read stops after a message that carries a descriptor. */
  corio__fd_t *a = wrap_socket(AF_UNIX, SOCK_STREAM, sv);
  CHECK_EQ(corio__fd_set_deadline(a, corio_nanotime() + HANG_MS * MS, 'r'), 0);
  int passed = dup(sv[1]);
  char cbuf[CMSG_SPACE(sizeof(int))] = {0};
  struct iovec iov = {.iov_base = "abc", .iov_len = 3};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                     .msg_controllen = sizeof cbuf};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &passed, sizeof passed);
  CHECK_EQ(sendmsg(sv[1], &m, 0), 3);
  close(passed);
  CHECK_EQ(send(sv[1], "def", 3, 0), 3);
  report_delivered(a);
  read_queued(a, "abc");
  read_queued(a, "def");
  drop(a), close(sv[1]);
  /* A pipe in packet mode returns one write per read (its reading end does
   * not know: the rule must not be on for pipes nobody vouched for). */
  int p[2];
  CHECK_EQ(pipe2(p, O_CLOEXEC | O_DIRECT), 0);
  a = wrap(p[0], CORIO__FD_PIPE, true);
  CHECK_EQ(corio__fd_set_deadline(a, corio_nanotime() + HANG_MS * MS, 'r'), 0);
  CHECK_EQ(write(p[1], "ab", 2), 2);
  CHECK_EQ(write(p[1], "cd", 2), 2);
  report_delivered(a);
  read_queued(a, "ab");
  read_queued(a, "cd");
  drop(a), close(p[1]);
  return 0;
}

Test(fd_unix, messages_and_unix_streams_keep_every_read) { run_program(1, messages_main, NULL); }

/* ---- what the rule saves ----
 * A ping-pong of one byte over two pipes on one P, counted in read system
 * calls (the kernel's per-process count, /proc/self/io "syscr"). With the
 * rule each corio read makes one; without it (pipes nobody vouched for) each
 * makes two: the first one hears EAGAIN. */
static long read_syscalls(void) {
  FILE *f = fopen("/proc/self/io", "r");
  if (!f) return -1;
  char line[128];
  long n = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "syscr: %ld", &n) == 1) break;
  fclose(f);
  return n;
}

typedef struct saving {
  bool plain; /* vouch for the pipes: the rule is on */
  long reads; /* read system calls over the ping-pong, -1 when not countable */
} saving_t;

enum { SAVING_ROUNDS = 2000 };

static void make_pipe_as(corio__fd_t **r, corio__fd_t **w, bool plain) {
  int p[2];
  CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
  *r = wrap(p[0], CORIO__FD_PIPE, true);
  *w = wrap(p[1], CORIO__FD_PIPE, true);
  if (plain) corio__fd_set_plain_pipe(*r);
}

static int saving_main(void *arg) {
  saving_t *sv = arg;
  corio__fd_t *ar, *aw, *br, *bw;
  make_pipe_as(&ar, &aw, sv->plain);
  make_pipe_as(&br, &bw, sv->plain);
  corio_wg_t wg = CORIO_WG_INIT;
  corio_wg_add(&wg, 1);
  pong_side_t side = {br, aw, SAVING_ROUNDS + 10, &wg};
  CHECK_EQ(corio_spawn(pong_side, &side), 0);
  char buf[64] = {'x'};
  long before = 0;
  for (int i = -10; i < SAVING_ROUNDS; i++) { /* 10 rounds to warm up */
    if (i == 0) before = read_syscalls();
    CHECK_EQ(corio__fd_write(bw, buf, 1), 1);
    CHECK_EQ(corio__fd_read(ar, buf, sizeof buf), 1);
  }
  long after = read_syscalls();
  sv->reads = before < 0 || after < 0 ? -1 : after - before;
  corio_wg_wait(&wg);
  drop(ar), drop(aw), drop(br), drop(bw);
  return 0;
}

Test(fd_unix, drained_reads_make_one_system_call_instead_of_two) {
  saving_t on = {.plain = true}, off = {.plain = false};
  run_program(1, saving_main, &on);
  run_program(1, saving_main, &off);
  if (on.reads < 0 || off.reads < 0) cr_skip_test("/proc/self/io is not available here");
  /* Two corio reads per round: about 2 calls with the rule, 4 without. */
  fprintf(stderr, "fd_unix: read calls per round trip: %.2f with the short-read rule, %.2f "
                  "without\n", (double)on.reads / SAVING_ROUNDS, (double)off.reads / SAVING_ROUNDS);
  cr_expect_lt(on.reads, SAVING_ROUNDS * 5 / 2, "%ld read calls with the rule", on.reads);
  cr_expect_gt(off.reads, SAVING_ROUNDS * 7 / 2, "%ld read calls without it", off.reads);
}

/* ---- stress: many short writes and reads on 4 Ps ----
 * Channels (pipes and TCP pairs), each with a writer of random small chunks
 * and a reader with a random buffer size, so that reads come back short
 * most of the time and full now and then. Every byte carries its position,
 * so a lost, doubled or reordered byte is seen. After about one chunk in
 * three the writer waits for the reader to acknowledge it (over a second
 * pipe, or back over the TCP connection), so that a lost wake-up on either
 * side stops both: it shows as a hang (HANG_MS deadline), or as the suite's
 * timeout on the channels whose reader keeps moving a random deadline of at
 * most 2 ms (every 50th already past) and retries. The writer ends the
 * stream (pipe: close; TCP: shutdown), and the reader must see end of file
 * after the last byte. */
enum { STRESS_CHANNELS = 8, STRESS_BYTES = 150000 };

typedef struct stress_chan {
  corio__fd_t *r, *w;   /* the stream: the writer writes w, the reader reads r */
  corio__fd_t *ar, *aw; /* acknowledgements: the reader writes aw, the writer reads ar */
  bool tcp, deadlines;
  uint32_t seed;
  /* 0, or the position the writer waits to see acknowledged. Set by the
   * writer when 0 and before it writes that far; cleared by the reader. */
  _Atomic size_t sync_at;
  size_t got;
  long timeouts, acks;
  corio_wg_t *wg;
} stress_chan_t;

static uint32_t xorshift(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

static unsigned char stress_byte(size_t pos) { return (unsigned char)(pos % 251); }

/* Write buf[0..n), then, when sync, wait for the reader's acknowledgement. */
static bool stress_send(stress_chan_t *c, const unsigned char *buf, size_t n, size_t end,
                        bool sync) {
  if (sync) atomic_store(&c->sync_at, end);
  ptrdiff_t w = corio__fd_write(c->w, buf, n);
  CHECK_EQ(w, (ptrdiff_t)n);
  if (w != (ptrdiff_t)n) return false;
  if (!sync) return true;
  char ack[16];
  ptrdiff_t a = corio__fd_read(c->ar, ack, sizeof ack);
  CHECK_EQ(a, 1);
  c->acks++;
  return a == 1;
}

static void stress_writer(void *arg) {
  stress_chan_t *c = arg;
  uint32_t seed = c->seed * 2654435761u | 1;
  unsigned char buf[300];
  corio__fd_set_deadline(c->ar, corio_nanotime() + HANG_MS * MS, 'r');
  for (size_t sent = 0; sent < STRESS_BYTES;) {
    size_t n = 1 + xorshift(&seed) % sizeof buf;
    if (n > STRESS_BYTES - sent) n = STRESS_BYTES - sent;
    for (size_t i = 0; i < n; i++) buf[i] = stress_byte(sent + i);
    if (!stress_send(c, buf, n, sent + n, xorshift(&seed) % 3 == 0)) break;
    sent += n;
    if (xorshift(&seed) % 8 == 0) corio_yield();
  }
  if (c->tcp) CHECK_EQ(shutdown((int)c->w->handle, SHUT_WR), 0);
  else CHECK_EQ(corio__fd_close(c->w), 0);
  corio_wg_done(c->wg);
}

/* The next read deadline of a reader that moves it all the time. */
static int64_t stress_deadline(uint32_t *seed) {
  uint32_t x = xorshift(seed);
  if (x % 50 == 0) return corio_nanotime() - 1;
  return corio_nanotime() + (int64_t)(x % 2000) * 1000;
}

/* Check buf[0..n) against the stream's positions from c->got on, and
 * acknowledge when the writer waits for what has now arrived. */
static bool stress_take(stress_chan_t *c, const unsigned char *buf, ptrdiff_t n) {
  for (ptrdiff_t i = 0; i < n; i++)
    if (buf[i] != stress_byte(c->got + (size_t)i)) {
      check_fail(__FILE__, __LINE__, "a byte was lost, doubled or reordered");
      return false;
    }
  c->got += (size_t)n;
  size_t s = atomic_load(&c->sync_at);
  if (s != 0 && c->got >= s) {
    atomic_store(&c->sync_at, 0);
    CHECK_EQ(corio__fd_write(c->aw, "a", 1), 1);
  }
  return true;
}

static void stress_reader(void *arg) {
  stress_chan_t *c = arg;
  uint32_t seed = c->seed * 40503u | 1;
  unsigned char buf[512];
  if (!c->deadlines) corio__fd_set_deadline(c->r, corio_nanotime() + HANG_MS * MS, 'r');
  for (;;) {
    if (c->deadlines) corio__fd_set_deadline(c->r, stress_deadline(&seed), 'r');
    ptrdiff_t n = corio__fd_read(c->r, buf, 1 + xorshift(&seed) % sizeof buf);
    if (n == CORIO_ETIMEOUT && c->deadlines) {
      c->timeouts++;
      continue;
    }
    if (n == CORIO_EEOF) break;
    CHECK(n > 0);
    if (n <= 0 || !stress_take(c, buf, n)) break;
    if (xorshift(&seed) % 16 == 0) corio_yield();
  }
  CHECK_EQ(c->got, STRESS_BYTES);
  corio_wg_done(c->wg);
}

static void stress_open(stress_chan_t *c) {
  if (c->tcp) {
    make_tcp(&c->r, &c->w);
    c->aw = c->r; /* acknowledgements go back over the connection */
    c->ar = c->w;
  } else {
    make_pipe(&c->r, &c->w);
    make_pipe(&c->ar, &c->aw);
  }
}

static int stress_main(void *arg) {
  static stress_chan_t ch[STRESS_CHANNELS];
  corio_wg_t wg = CORIO_WG_INIT;
  for (int i = 0; i < STRESS_CHANNELS; i++) {
    ch[i] = (stress_chan_t){.tcp = i % 2 == 1, .deadlines = i % 4 >= 2, .seed = (uint32_t)i + 1,
                            .wg = &wg};
    stress_open(&ch[i]);
  }
  corio_wg_add(&wg, 2 * STRESS_CHANNELS);
  for (int i = 0; i < STRESS_CHANNELS; i++) {
    CHECK_EQ(corio_spawn(stress_reader, &ch[i]), 0);
    CHECK_EQ(corio_spawn(stress_writer, &ch[i]), 0);
  }
  corio_wg_wait(&wg);
  long timeouts = 0, acks = 0;
  for (int i = 0; i < STRESS_CHANNELS; i++) {
    timeouts += ch[i].timeouts;
    acks += ch[i].acks;
    drop(ch[i].r);
    if (ch[i].tcp) {
      drop(ch[i].w);
    } else {
      free(ch[i].w); /* closed by its writer */
      drop(ch[i].ar), drop(ch[i].aw);
    }
  }
  CHECK(timeouts > 0); /* the deadlines did cut in */
  CHECK(acks > STRESS_CHANNELS * 100);
  return 0;
}

Test(fd_unix, short_writes_and_reads_on_four_ps_lose_nothing, .timeout = 300) {
  for (int round = 0; round < 8; round++) run_program(4, stress_main, NULL);
  run_program(2, stress_main, NULL);
  run_program(1, stress_main, NULL);
}

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
  corio_sleep(10 * MS);
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
  settle();
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
  settle();
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
  CHECK_EQ(fcntl(h, F_GETFL) & O_NONBLOCK, 0); /* restored after epoll refused it */
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

/* ---- sockets: accept and connect ---- */

typedef struct acceptor {
  corio__fd_t *l;
  int newfd;
  int err;
  _Atomic int started, done;
} acceptor_t;

static void do_accept(void *arg) {
  acceptor_t *a = arg;
  atomic_store(&a->started, 1);
  a->err = corio__fd_accept(a->l, NULL, NULL, &a->newfd);
  atomic_store(&a->done, 1);
}

static int accept_connect_main(void *arg) {
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  CHECK_EQ(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
  CHECK_EQ(listen(ls, 8), 0);
  socklen_t len = sizeof sa;
  getsockname(ls, (struct sockaddr *)&sa, &len);
  corio__fd_t *l = wrap(ls, CORIO__FD_STREAM, false);
  acceptor_t a = {.l = l};
  CHECK_EQ(corio_spawn(do_accept, &a), 0);
  wait_for(&a.started, 1);
  settle();
  CHECK_EQ(atomic_load(&a.done), 0); /* parked: nobody connected yet */

  int cs = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  corio__fd_t *c = wrap(cs, CORIO__FD_STREAM, false);
  CHECK_EQ(corio__fd_connect(c, (struct sockaddr *)&sa, sizeof sa), 0);
  wait_for(&a.done, 1);
  CHECK_EQ(a.err, 0);
  CHECK(fcntl(a.newfd, F_GETFL) & O_NONBLOCK);
  CHECK(fcntl(a.newfd, F_GETFD) & FD_CLOEXEC);
  corio__fd_t *s = wrap(a.newfd, CORIO__FD_STREAM, false);
  CHECK_EQ(corio__fd_write(c, "hi", 2), 2);
  char buf[2];
  CHECK_EQ(corio__fd_read(s, buf, 2), 2);
  drop(s);
  drop(c);

  /* An accept with a read deadline. */
  CHECK_EQ(corio__fd_set_deadline(l, corio_nanotime() + 30 * MS, 'r'), 0);
  int nf;
  CHECK_EQ(corio__fd_accept(l, NULL, NULL, &nf), CORIO_ETIMEOUT);
  drop(l); /* the port is now closed */

  int cs2 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  corio__fd_t *c2 = wrap(cs2, CORIO__FD_STREAM, false);
  CHECK_EQ(corio__fd_connect(c2, (struct sockaddr *)&sa, sizeof sa),
           corio_err_from_errno(ECONNREFUSED));
  drop(c2);
  return 0;
}

Test(fd_unix, accept_and_connect) { run_program(2, accept_connect_main, NULL); }

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
  CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
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
