/* libuv peer: pipe and TCP round trips, 1 ms timers, wake storm. Each
 * scenario's methodology matches the floor's and corio's (same counts, same
 * timing points); see bench/floor/io_linux.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/posix.h"
#include "uv_bench.h"

static char rbuf[4096]; /* one loop per thread reads into it; uv_try_write copies out at once */
static _Thread_local char tbuf[4096];

static void alloc_static(uv_handle_t *h, size_t hint, uv_buf_t *b) { *b = uv_buf_init(rbuf, sizeof rbuf); }
static void alloc_tls(uv_handle_t *h, size_t hint, uv_buf_t *b) { *b = uv_buf_init(tbuf, sizeof tbuf); }

static void try_write(uv_stream_t *s, const char *p, size_t n) {
  uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
  int w = uv_try_write(s, &b, 1);
  if (w != (int)n) /* a few bytes into an empty pipe or socket: never short */
    bench_die("uv_try_write: %s", w < 0 ? uv_strerror(w) : "short");
}

static void open_pipe_handle(uv_loop_t *loop, uv_pipe_t *h, int fd) {
  uvb_check(uv_pipe_init(loop, h, 0), "uv_pipe_init");
  uvb_check(uv_pipe_open(h, fd), "uv_pipe_open");
}

static void make_pipe(int p[2]) {
  if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
    bench_die("pipe2: %s", strerror(errno));
}

/* ---- pipe round trips ---- */
struct prt {
  const bench_opts_t *o;
  uv_loop_t *loop_a, *loop_b;
  uv_pipe_t ab_r, ab_w, ba_r, ba_w;
  int i, n;
  int64_t t0;
  bench_samples_t s;
};

static void close_cb_none(uv_handle_t *h) {}

/* B: echo what arrives on a->b to b->a; close at end of file. */
static void b_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  struct prt *p = st->data;
  if (nread > 0)
    try_write((uv_stream_t *)&p->ba_w, buf->base, (size_t)nread);
  else if (nread < 0) {
    uv_close((uv_handle_t *)&p->ab_r, close_cb_none);
    uv_close((uv_handle_t *)&p->ba_w, close_cb_none);
  }
}

/* A: a round trip is complete; time it and start the next. */
static void a_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  struct prt *p = st->data;
  if (nread <= 0)
    return;
  int64_t t1 = bench_now_ns();
  if (p->i >= 0) {
    bench_samples_add(&p->s, t1 - p->t0, 1);
    bench_progress(UV_IMPL, "round trips", (uint64_t)p->i + 1, (uint64_t)p->n);
  }
  if (++p->i < p->n) {
    p->t0 = bench_now_ns();
    try_write((uv_stream_t *)&p->ab_w, "x", 1);
    return;
  }
  uv_close((uv_handle_t *)&p->ba_r, close_cb_none);
  uv_close((uv_handle_t *)&p->ab_w, close_cb_none); /* B sees end of file */
}

static void *loop_thread(void *arg) {
  uv_run(arg, UV_RUN_DEFAULT);
  return NULL;
}

/* Methodology: as the floor's pipe_rt_1p / pipe_rt_2p; with two threads, B's
 * handles live on a second loop run by a second thread. */
static void pipe_rt(const bench_opts_t *o, bool two) {
  static struct prt p;
  int ab[2], ba[2];
  uv_loop_t loop_b;
  p.o = o;
  p.n = BENCH_PICK(o, P_PIPE_SAMPLES);
  p.i = -BENCH_PICK(o, P_PIPE_WARM);
  bench_samples_init(&p.s, (size_t)p.n);
  p.loop_a = uv_default_loop();
  p.loop_b = p.loop_a;
  if (two) {
    uvb_check(uv_loop_init(&loop_b), "uv_loop_init");
    p.loop_b = &loop_b;
  }
  make_pipe(ab);
  make_pipe(ba);
  open_pipe_handle(p.loop_b, &p.ab_r, ab[0]);
  open_pipe_handle(p.loop_b, &p.ba_w, ba[1]);
  open_pipe_handle(p.loop_a, &p.ba_r, ba[0]);
  open_pipe_handle(p.loop_a, &p.ab_w, ab[1]);
  p.ab_r.data = p.ba_r.data = &p;
  uvb_check(uv_read_start((uv_stream_t *)&p.ab_r, two ? alloc_tls : alloc_static, b_read), "read_start");
  uvb_check(uv_read_start((uv_stream_t *)&p.ba_r, alloc_static, a_read), "read_start");
  pthread_t t;
  if (two && pthread_create(&t, NULL, loop_thread, p.loop_b) != 0)
    bench_die("pthread_create");
  p.t0 = bench_now_ns();
  try_write((uv_stream_t *)&p.ab_w, "x", 1);
  uv_run(p.loop_a, UV_RUN_DEFAULT);
  if (two) {
    pthread_join(t, NULL);
    uv_loop_close(&loop_b);
  }
  bench_emit_ns(o, UV_IMPL, &p.s, -1, two ? "2 loops on 2 threads" : "1 loop");
  bench_samples_free(&p.s);
}

void uvb_pipe_rt_1p(const bench_opts_t *o) { pipe_rt(o, false); }
void uvb_pipe_rt_2p(const bench_opts_t *o) { pipe_rt(o, true); }

/* ---- tcp_rt ----
 * Methodology: as the floor's: one loopback connection, both ends on one loop. */
struct trt {
  uv_tcp_t cli, srv;
  size_t chave, shave;
  int i, n;
  int64_t t0;
  bench_samples_t s;
  char msg[P_TCP_MSG];
};

static void srv_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  struct trt *t = st->data;
  if (nread < 0) {
    uv_close((uv_handle_t *)st, close_cb_none);
    return;
  }
  t->shave += (size_t)nread;
  if (t->shave >= P_TCP_MSG) {
    t->shave -= P_TCP_MSG;
    try_write(st, t->msg, P_TCP_MSG);
  }
}

static void cli_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  struct trt *t = st->data;
  if (nread <= 0)
    return;
  t->chave += (size_t)nread;
  if (t->chave < P_TCP_MSG)
    return;
  t->chave = 0;
  int64_t t1 = bench_now_ns();
  if (t->i >= 0) {
    bench_samples_add(&t->s, t1 - t->t0, 1);
    bench_progress(UV_IMPL, "round trips", (uint64_t)t->i + 1, (uint64_t)t->n);
  }
  if (++t->i < t->n) {
    t->t0 = bench_now_ns();
    try_write(st, t->msg, P_TCP_MSG);
    return;
  }
  uv_close((uv_handle_t *)st, close_cb_none); /* the server reads end of stream */
}

void uvb_tcp_rt(const bench_opts_t *o) {
  static struct trt t;
  int fds[2];
  uv_loop_t *loop = uv_default_loop();
  t.n = BENCH_PICK(o, P_TCP_SAMPLES);
  t.i = -BENCH_PICK(o, P_TCP_WARM);
  memset(t.msg, 'm', sizeof t.msg);
  bench_samples_init(&t.s, (size_t)t.n);
  bench_tcp_pair(fds);
  uvb_check(uv_tcp_init(loop, &t.cli), "uv_tcp_init");
  uvb_check(uv_tcp_init(loop, &t.srv), "uv_tcp_init");
  uvb_check(uv_tcp_open(&t.cli, fds[0]), "uv_tcp_open");
  uvb_check(uv_tcp_open(&t.srv, fds[1]), "uv_tcp_open");
  uv_tcp_nodelay(&t.cli, 1);
  uv_tcp_nodelay(&t.srv, 1);
  t.cli.data = t.srv.data = &t;
  uvb_check(uv_read_start((uv_stream_t *)&t.srv, alloc_static, srv_read), "read_start");
  uvb_check(uv_read_start((uv_stream_t *)&t.cli, alloc_static, cli_read), "read_start");
  t.t0 = bench_now_ns();
  try_write((uv_stream_t *)&t.cli, t.msg, P_TCP_MSG);
  uv_run(loop, UV_RUN_DEFAULT);
  bench_emit_ns(o, UV_IMPL, &t.s, -1, "1 loop, both ends");
  bench_samples_free(&t.s);
}

/* ---- sleep_1ms, deadline_1ms ----
 * Methodology: a 1 ms uv_timer, restarted from its own callback; sample = time
 * from just before uv_timer_start to the callback, minus 1 ms. libuv has no
 * read deadlines: the deadline variant starts a read on an empty pipe together
 * with the 1 ms timer, and the timer stops the read, which is how libuv users
 * write a read timeout. */
struct tmr {
  uv_timer_t timer;
  uv_pipe_t rd;
  bool with_read;
  int i, n;
  int64_t t0;
  bench_samples_t s;
};

static void never_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  if (nread != 0)
    bench_die("the empty pipe was read (%zd)", nread);
}

static void timer_cb(uv_timer_t *h);

static void arm(struct tmr *t) {
  t->t0 = bench_now_ns();
  if (t->with_read)
    uvb_check(uv_read_start((uv_stream_t *)&t->rd, alloc_static, never_read), "read_start");
  uvb_check(uv_timer_start(&t->timer, timer_cb, 1, 0), "uv_timer_start");
}

static void timer_cb(uv_timer_t *h) {
  struct tmr *t = h->data;
  int64_t t1 = bench_now_ns();
  if (t->with_read)
    uv_read_stop((uv_stream_t *)&t->rd);
  if (t->i >= 0) {
    bench_samples_add_overshoot(&t->s, t1 - t->t0, P_TIMER_NS);
    bench_progress(UV_IMPL, t->with_read ? "deadlines" : "sleeps", (uint64_t)t->i + 1, (uint64_t)t->n);
  }
  if (++t->i < t->n) {
    arm(t);
    return;
  }
  uv_close((uv_handle_t *)&t->timer, close_cb_none);
  if (t->with_read)
    uv_close((uv_handle_t *)&t->rd, close_cb_none);
}

static void timer_overshoot(const bench_opts_t *o, bool with_read) {
  static struct tmr t;
  int p[2];
  uv_loop_t *loop = uv_default_loop();
  t.n = BENCH_PICK(o, P_TIMER_SAMPLES);
  t.i = -BENCH_PICK(o, P_TIMER_WARM);
  t.with_read = with_read;
  bench_samples_init(&t.s, (size_t)t.n);
  uvb_check(uv_timer_init(loop, &t.timer), "uv_timer_init");
  t.timer.data = &t;
  make_pipe(p);
  if (with_read)
    open_pipe_handle(loop, &t.rd, p[0]);
  /* uv_timer_start is relative to the loop's cached time: bring it up to date
   * for the first arm, as the loop itself does before every later one. */
  uv_update_time(loop);
  arm(&t);
  uv_run(loop, UV_RUN_DEFAULT);
  bench_emit_ns(o, UV_IMPL, &t.s, -1, with_read ? "uv_read_start + 1 ms uv_timer that stops it" : "uv_timer");
  bench_samples_free(&t.s);
  close(p[1]);
  if (!with_read)
    close(p[0]);
}

void uvb_sleep_1ms(const bench_opts_t *o) { timer_overshoot(o, false); }
void uvb_deadline_1ms(const bench_opts_t *o) { timer_overshoot(o, true); }

/* ---- wake_storm ----
 * Methodology: as the floor's: P_STORM_READERS socketpair ends, each a
 * uv_pipe_t reading; a round writes one byte for every end (uv_try_write on
 * the peer's handle) and ends when every read callback has run. */
struct storm {
  uv_pipe_t *h;
  int nr, ran, round, n;
  int64_t t0;
  bench_samples_t s;
};
static struct storm st;

static void storm_round(void) {
  st.ran = 0;
  st.t0 = bench_now_ns();
  for (int i = 0; i < st.nr; i++)
    try_write((uv_stream_t *)&st.h[i ^ 1], "x", 1);
}

static void storm_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  if (nread <= 0 || ++st.ran < st.nr)
    return;
  int64_t t1 = bench_now_ns();
  if (st.round >= 0) {
    bench_samples_add(&st.s, t1 - st.t0, 1);
    st.s.ops += st.nr - 1;
    bench_progress(UV_IMPL, "storms", (uint64_t)st.round + 1, (uint64_t)st.n);
  }
  if (++st.round < st.n) {
    storm_round();
    return;
  }
  for (int i = 0; i < st.nr; i++)
    uv_close((uv_handle_t *)&st.h[i], close_cb_none);
}

void uvb_wake_storm(const bench_opts_t *o) {
  uv_loop_t *loop = uv_default_loop();
  st.nr = P_STORM_READERS;
  st.n = BENCH_PICK(o, P_STORM_ROUNDS);
  st.round = -BENCH_PICK(o, P_STORM_WARM);
  if (bench_raise_nofile(st.nr + 256) < st.nr + 64)
    bench_die("need %d descriptors; RLIMIT_NOFILE too low", st.nr + 64);
  st.h = calloc((size_t)st.nr, sizeof *st.h);
  if (!st.h)
    bench_die("out of memory");
  bench_samples_init(&st.s, (size_t)st.n);
  for (int i = 0; i < st.nr; i += 2) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
      bench_die("socketpair: %s", strerror(errno));
    open_pipe_handle(loop, &st.h[i], sv[0]);
    open_pipe_handle(loop, &st.h[i + 1], sv[1]);
  }
  for (int i = 0; i < st.nr; i++)
    uvb_check(uv_read_start((uv_stream_t *)&st.h[i], alloc_static, storm_read), "read_start");
  storm_round();
  uv_run(loop, UV_RUN_DEFAULT);
  bench_emit_ns(o, UV_IMPL, &st.s, -1, "1 loop, 5k socketpairs as uv_pipe_t, both ends read");
  bench_samples_free(&st.s);
  free(st.h);
}
