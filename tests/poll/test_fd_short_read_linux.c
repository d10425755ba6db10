/* The Unix FD's short-read rule on Linux (fd_unix.c, fd_linux.c): which
 * descriptors get it, the backend capability it needs, and the ways it could
 * lose a wake-up (end of file or urgent data in the same report as the last
 * data, deadlines and close on the drained path), what it saves, and a
 * stress run. Linux: packet-mode pipes (O_DIRECT) and /proc/self/io. */
#include "fd_unix_util.h"

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

Test(fd_short_read, short_reads_then_wait_lose_no_wakeup_on_two_ps, .timeout = 60) {
  for (int round = 0; round < 5; round++) run_program(2, short_read_pingpong_main, NULL);
}

/* ---- the short-read rule ----
 * After a read that came back short, the next read on a pipe or a TCP socket
 * waits for readiness before it calls read(2) (fd_unix.c). These tests look
 * for the ways that can lose a wake-up: end of file or urgent data reported
 * in the same edge as the last data, deadlines and close on the drained
 * path, descriptors where a short read does not mean empty. A read that
 * would hang carries a deadline of HANG_MS, so a lost wake-up fails a check
 * with CORIO_ETIMEOUT instead of stopping the suite. */
#define HANG_MS 5000

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

Test(fd_short_read, short_read_rule_only_where_a_short_read_means_empty) {
  run_program(1, eligibility_main, NULL);
}

/* The rule is a backend capability (CORIO__NETPOLL_CAP_STICKY_HUP), read when
 * an FD is initialised: epoll has it; as a backend without it would, init
 * and corio__fd_set_plain_pipe leave the rule off even where a short read
 * means empty, and a short read then arms nothing. */
static int capability_main(void *arg) {
  CHECK(corio__netpoll_caps() & CORIO__NETPOLL_CAP_STICKY_HUP);
  corio__netpoll_debug_mask_caps(~(uint32_t)CORIO__NETPOLL_CAP_STICKY_HUP);
  CHECK_EQ(corio__netpoll_caps() & CORIO__NETPOLL_CAP_STICKY_HUP, 0);
  corio__fd_t *a, *b, *r, *w;
  make_tcp(&a, &b);
  make_pipe(&r, &w);
  CHECK(corio__fd_pollable(a) && !a->short_read_drains && !b->short_read_drains);
  CHECK(corio__fd_pollable(r) && !r->short_read_drains);
  char buf[64];
  CHECK_EQ(corio__fd_write(b, "abc", 3), 3);
  CHECK_EQ(corio__fd_read(a, buf, sizeof buf), 3);
  CHECK(!a->read_drained);
  CHECK_EQ(corio__fd_write(w, "abc", 3), 3);
  CHECK_EQ(corio__fd_read(r, buf, sizeof buf), 3);
  CHECK(!r->read_drained);
  drop(a), drop(b), drop(r), drop(w);
  /* FDs made once the capability is back have the rule again. */
  corio__netpoll_debug_mask_caps(~0u);
  make_tcp(&a, &b);
  CHECK(a->short_read_drains);
  CHECK_EQ(corio__fd_write(b, "abc", 3), 3);
  CHECK_EQ(corio__fd_read(a, buf, sizeof buf), 3);
  CHECK(a->read_drained);
  drop(a), drop(b);
  return 0;
}

Test(fd_short_read, short_read_rule_is_off_without_the_backend_capability) {
  run_program(1, capability_main, NULL);
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
  wait_pd_parked(e->fd->pd, 'r');
}

/* One round of variant v: send "abc" and end the stream through w (a raw
 * descriptor), which is closed or shut down. */
static void eof_send(eof_reader_t *e, int w, int kind, int v) {
  if (v == 1 || v == 3) wait_pd_parked(e->fd->pd, 'r');
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

Test(fd_short_read, short_read_then_eof_in_one_report_never_hangs, .timeout = 120) {
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
    if (round % 4 < 2) wait_pd_parked(r->pd, 'r');
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

Test(fd_short_read, tcp_urgent_byte_after_data_does_not_hang_the_reader, .timeout = 120) {
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
  wait_pd_parked(r->pd, 'r');
  t0 = corio_nanotime();
  CHECK_EQ(corio__fd_set_deadline(r, t0 + 30 * MS, 'r'), 0);
  wait_for(&b.done, 1);
  CHECK_EQ(b.result, CORIO_ETIMEOUT);
  CHECK(b.returned_at - t0 >= 30 * MS && b.returned_at - t0 < 2000 * MS);
  /* Moved into the past while it waits: at once. */
  CHECK_EQ(corio__fd_set_deadline(r, 0, 'r'), 0);
  blocked_t c = {.fd = r};
  CHECK_EQ(corio_spawn(blocked_read, &c), 0);
  wait_pd_parked(r->pd, 'r');
  t0 = corio_nanotime();
  CHECK_EQ(corio__fd_set_deadline(r, t0 - 1, 'r'), 0);
  wait_for(&c.done, 1);
  CHECK_EQ(c.result, CORIO_ETIMEOUT);
  CHECK(c.returned_at - t0 < 1000 * MS);
  /* Moved later while it waits, then data: the data. */
  CHECK_EQ(corio__fd_set_deadline(r, corio_nanotime() + 50 * MS, 'r'), 0);
  blocked_t d = {.fd = r};
  CHECK_EQ(corio_spawn(blocked_read, &d), 0);
  wait_pd_parked(r->pd, 'r');
  CHECK_EQ(corio__fd_set_deadline(r, corio_nanotime() + 10000 * MS, 'r'), 0);
  corio_sleep(100 * MS);
  CHECK_EQ(atomic_load(&d.done), 0);
  CHECK_EQ(corio__fd_write(w, "e", 1), 1);
  wait_for(&d.done, 1);
  CHECK_EQ(d.result, 1);
  drop(r), drop(w);
  return 0;
}

Test(fd_short_read, deadlines_wake_a_reader_waiting_on_the_drained_path) {
  run_program(1, drained_deadline_main, NULL);
  run_program(2, drained_deadline_main, NULL);
}

static int drained_close_main(void *arg) {
  corio__fd_t *r, *w;
  make_tcp(&r, &w);
  drain_once(r, w, "hello");
  blocked_t b = {.fd = r};
  CHECK_EQ(corio_spawn(blocked_read, &b), 0);
  wait_pd_parked(r->pd, 'r');
  int64_t t0 = corio_nanotime();
  CHECK_EQ(corio__fd_close(r), 0);
  wait_for(&b.done, 1);
  CHECK_EQ(b.result, CORIO_ENETCLOSING);
  CHECK(b.returned_at - t0 < 1000 * MS);
  free(r);
  drop(w);
  return 0;
}

Test(fd_short_read, close_wakes_a_reader_waiting_on_the_drained_path) {
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

Test(fd_short_read, messages_and_unix_streams_keep_every_read) { run_program(1, messages_main, NULL); }

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

Test(fd_short_read, drained_reads_make_one_system_call_instead_of_two) {
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

Test(fd_short_read, short_writes_and_reads_on_four_ps_lose_nothing, .timeout = 300) {
  for (int round = 0; round < 8; round++) run_program(4, stress_main, NULL);
  run_program(2, stress_main, NULL);
  run_program(1, stress_main, NULL);
}
