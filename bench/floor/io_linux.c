/* The floor's I/O scenarios: hand-written edge-triggered epoll loops that make
 * the system calls corio makes for the same hops, and nothing else.
 *
 * Reads use the short-read rule: a read that returns less than the buffer has
 * drained the descriptor, so no second read to see EAGAIN is needed. This is
 * what a careful hand-written loop does (libuv does the same); it is why the
 * pipe round trip floor is 6 system calls: write, epoll_wait, read on each side.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "../common/posix.h"
#include "floor.h"

static int ep_new(void) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0)
    bench_die("epoll_create1: %s", strerror(errno));
  return ep;
}

static void ep_add(int ep, int fd, uint32_t events, uint64_t data) {
  struct epoll_event ev = {.events = events | EPOLLET, .data.u64 = data};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
    bench_die("epoll_ctl: %s", strerror(errno));
}

static int ep_wait(int ep, struct epoll_event *evs, int max) {
  int n;
  do
    n = epoll_wait(ep, evs, max, -1);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    bench_die("epoll_wait: %s", strerror(errno));
  return n;
}

/* Read once; 0 on EAGAIN, -1 at end of file. */
static ssize_t read_once(int fd, char *buf, size_t cap) {
  ssize_t r;
  do
    r = read(fd, buf, cap);
  while (r < 0 && errno == EINTR);
  if (r < 0 && errno == EAGAIN)
    return 0;
  if (r < 0)
    bench_die("read: %s", strerror(errno));
  return r == 0 ? -1 : r;
}

static void write_once(int fd, const char *buf, size_t n) {
  ssize_t w;
  do
    w = write(fd, buf, n);
  while (w < 0 && errno == EINTR);
  if (w != (ssize_t)n) /* a few bytes into an empty pipe or socket: never short */
    bench_die("write: %s", w < 0 ? strerror(errno) : "short");
}

static void make_pipe(int p[2]) {
  if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
    bench_die("pipe2: %s", strerror(errno));
}

/* ---- pipe_rt_1p ----
 * Methodology: two pipes, a->b and b->a, one thread, one epoll set with both
 * read ends (edge-triggered). A round trip: write 1 byte on a->b; epoll_wait;
 * read it; write it on b->a; epoll_wait; read it. Sample = one round trip,
 * clock read before the first write and after the last read. P_PIPE_WARM
 * warm-up round trips, then P_PIPE_SAMPLES samples. */
enum { SRC_A = 1, SRC_B = 2 };

void floor_pipe_rt_1p(const bench_opts_t *o) {
  int warm = BENCH_PICK(o, P_PIPE_WARM), n = BENCH_PICK(o, P_PIPE_SAMPLES);
  int ab[2], ba[2], ep = ep_new();
  char buf[64];
  struct epoll_event evs[8];
  bench_samples_t s;
  bench_samples_init(&s, (size_t)n);
  make_pipe(ab);
  make_pipe(ba);
  ep_add(ep, ab[0], EPOLLIN, SRC_B);
  ep_add(ep, ba[0], EPOLLIN, SRC_A);
  int i = -warm;
  int64_t t0 = bench_now_ns();
  write_once(ab[1], "x", 1);
  while (i < n) {
    int k = ep_wait(ep, evs, 8);
    for (int e = 0; e < k; e++) {
      if (evs[e].data.u64 == SRC_B) {
        ssize_t r = read_once(ab[0], buf, sizeof buf);
        if (r > 0)
          write_once(ba[1], buf, (size_t)r);
      } else if (read_once(ba[0], buf, sizeof buf) > 0) {
        int64_t t1 = bench_now_ns();
        if (i >= 0) {
          bench_samples_add(&s, t1 - t0, 1);
          bench_progress(FLOOR_IMPL, "round trips", (uint64_t)i + 1, (uint64_t)n);
        }
        if (++i < n) {
          t0 = bench_now_ns();
          write_once(ab[1], "x", 1);
        }
      }
    }
  }
  bench_emit_ns(o, FLOOR_IMPL, &s, -1, "1 thread, ET epoll, 6 syscalls per round trip");
  bench_samples_free(&s);
  close(ab[0]), close(ab[1]), close(ba[0]), close(ba[1]), close(ep);
}

/* ---- pipe_rt_2p ----
 * Methodology: as pipe_rt_1p, but each side is its own thread with its own
 * epoll set (the two-P case: every hop wakes the other thread). Thread B
 * echoes until end of file; thread A times each round trip. */
struct echo_side {
  int rfd, wfd;
};

static void *pipe_echo_thread(void *arg) {
  struct echo_side *sd = arg;
  int ep = ep_new();
  char buf[64];
  struct epoll_event ev;
  ep_add(ep, sd->rfd, EPOLLIN, 0);
  for (;;) {
    ep_wait(ep, &ev, 1);
    ssize_t r = read_once(sd->rfd, buf, sizeof buf);
    if (r < 0)
      break;
    if (r > 0)
      write_once(sd->wfd, buf, (size_t)r);
  }
  close(ep);
  return NULL;
}

void floor_pipe_rt_2p(const bench_opts_t *o) {
  int warm = BENCH_PICK(o, P_PIPE_WARM), n = BENCH_PICK(o, P_PIPE_SAMPLES);
  int ab[2], ba[2], ep = ep_new();
  char buf[64];
  struct epoll_event ev;
  bench_samples_t s;
  bench_samples_init(&s, (size_t)n);
  make_pipe(ab);
  make_pipe(ba);
  struct echo_side b = {ab[0], ba[1]};
  pthread_t t;
  if (pthread_create(&t, NULL, pipe_echo_thread, &b) != 0)
    bench_die("pthread_create");
  ep_add(ep, ba[0], EPOLLIN, 0);
  for (int i = -warm; i < n; i++) {
    int64_t t0 = bench_now_ns();
    write_once(ab[1], "x", 1);
    ssize_t r;
    do /* the edge is kept by epoll even if the reply came before this wait */
      ep_wait(ep, &ev, 1);
    while ((r = read_once(ba[0], buf, sizeof buf)) == 0);
    if (r < 0)
      bench_die("pipe closed");
    int64_t t1 = bench_now_ns();
    if (i >= 0) {
      bench_samples_add(&s, t1 - t0, 1);
      bench_progress(FLOOR_IMPL, "round trips", (uint64_t)i + 1, (uint64_t)n);
    }
  }
  close(ab[1]); /* end of file stops thread B */
  pthread_join(t, NULL);
  bench_emit_ns(o, FLOOR_IMPL, &s, -1, "2 threads, each its own ET epoll set");
  bench_samples_free(&s);
  close(ab[0]), close(ba[0]), close(ba[1]), close(ep);
}

/* ---- tcp_rt ----
 * Methodology: one loopback TCP connection (TCP_NODELAY), both ends in one
 * thread's epoll set. A round trip: the client writes P_TCP_MSG bytes; the
 * server reads them and writes them back; the client reads them. Sample = one
 * round trip. P_TCP_WARM warm-up, P_TCP_SAMPLES samples. */
enum { SRC_CLIENT = 1, SRC_SERVER = 2 };

void floor_tcp_rt(const bench_opts_t *o) {
  int warm = BENCH_PICK(o, P_TCP_WARM), n = BENCH_PICK(o, P_TCP_SAMPLES);
  int fds[2], ep = ep_new();
  char msg[P_TCP_MSG], sbuf[P_TCP_MSG * 2], cbuf[P_TCP_MSG * 2];
  size_t shave = 0, chave = 0;
  struct epoll_event evs[8];
  bench_samples_t s;
  bench_samples_init(&s, (size_t)n);
  memset(msg, 'm', sizeof msg);
  bench_tcp_pair(fds);
  bench_set_nonblock(fds[0], true);
  bench_set_nonblock(fds[1], true);
  ep_add(ep, fds[0], EPOLLIN, SRC_CLIENT);
  ep_add(ep, fds[1], EPOLLIN, SRC_SERVER);
  int i = -warm;
  int64_t t0 = bench_now_ns();
  write_once(fds[0], msg, sizeof msg);
  while (i < n) {
    int k = ep_wait(ep, evs, 8);
    for (int e = 0; e < k; e++) {
      if (evs[e].data.u64 == SRC_SERVER) {
        ssize_t r = read_once(fds[1], sbuf + shave, sizeof sbuf - shave);
        shave += r > 0 ? (size_t)r : 0;
        if (shave >= P_TCP_MSG) {
          write_once(fds[1], sbuf, P_TCP_MSG);
          shave = 0;
        }
        continue;
      }
      ssize_t r = read_once(fds[0], cbuf + chave, sizeof cbuf - chave);
      chave += r > 0 ? (size_t)r : 0;
      if (chave < P_TCP_MSG)
        continue;
      chave = 0;
      int64_t t1 = bench_now_ns();
      if (i >= 0) {
        bench_samples_add(&s, t1 - t0, 1);
        bench_progress(FLOOR_IMPL, "round trips", (uint64_t)i + 1, (uint64_t)n);
      }
      if (++i < n) {
        t0 = bench_now_ns();
        write_once(fds[0], msg, sizeof msg);
      }
    }
  }
  bench_emit_ns(o, FLOOR_IMPL, &s, -1, "1 thread, ET epoll, both ends");
  bench_samples_free(&s);
  close(fds[0]), close(fds[1]), close(ep);
}

/* ---- sleep_1ms and deadline_1ms ----
 * Methodology: a timerfd armed 1 ms ahead in an epoll set; sample = time from
 * just before arming to the return of the read that consumes the expiry, minus
 * 1 ms (the overshoot). For the deadline variant the thread first tries to
 * read an empty pipe (EAGAIN), as a read with a deadline does, and the pipe is
 * in the same epoll set. Default timer slack (the process's, untouched).
 * P_TIMER_WARM warm-up, P_TIMER_SAMPLES samples. */
static void timer_overshoot(const bench_opts_t *o, bool with_pipe) {
  int warm = BENCH_PICK(o, P_TIMER_WARM), n = BENCH_PICK(o, P_TIMER_SAMPLES);
  int ep = ep_new(), p[2];
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  char buf[64];
  struct epoll_event ev;
  bench_samples_t s;
  if (tfd < 0)
    bench_die("timerfd_create: %s", strerror(errno));
  bench_samples_init(&s, (size_t)n);
  make_pipe(p);
  ep_add(ep, tfd, EPOLLIN, 1);
  if (with_pipe)
    ep_add(ep, p[0], EPOLLIN, 2);
  struct itimerspec its = {.it_value = {.tv_sec = 0, .tv_nsec = P_TIMER_NS}};
  for (int i = -warm; i < n; i++) {
    int64_t t0 = bench_now_ns();
    if (with_pipe && read_once(p[0], buf, sizeof buf) != 0)
      bench_die("empty pipe had data");
    if (timerfd_settime(tfd, 0, &its, NULL) < 0)
      bench_die("timerfd_settime: %s", strerror(errno));
    uint64_t expirations = 0;
    do
      ep_wait(ep, &ev, 1);
    while (read_once(tfd, (char *)&expirations, sizeof expirations) <= 0);
    int64_t t1 = bench_now_ns();
    if (i >= 0) {
      bench_samples_add_overshoot(&s, t1 - t0, P_TIMER_NS);
      bench_progress(FLOOR_IMPL, with_pipe ? "deadlines" : "sleeps", (uint64_t)i + 1,
                     (uint64_t)n);
    }
  }
  bench_emit_ns(o, FLOOR_IMPL, &s, -1,
                with_pipe ? "read EAGAIN + timerfd in ET epoll" : "timerfd in ET epoll");
  bench_samples_free(&s);
  close(p[0]), close(p[1]), close(tfd), close(ep);
}

void floor_sleep_1ms(const bench_opts_t *o) { timer_overshoot(o, false); }
void floor_deadline_1ms(const bench_opts_t *o) { timer_overshoot(o, true); }

/* ---- wake_storm ----
 * Methodology: P_STORM_READERS socketpair ends (both ends of P_STORM_READERS/2
 * pairs; socketpairs rather than pipes so that 10k readers need 10k
 * descriptors, not 20k), each registered edge-triggered in one epoll set. A
 * round: one byte is written to the peer of every end (P_STORM_READERS writes),
 * then epoll_wait batches are drained, each ready end read once, until every
 * end has been read. Sample = time from the first write to the last read.
 * P_STORM_WARM warm-up rounds, P_STORM_ROUNDS samples. */
void floor_wake_storm(const bench_opts_t *o) {
  int warm = BENCH_PICK(o, P_STORM_WARM), n = BENCH_PICK(o, P_STORM_ROUNDS);
  int nr = P_STORM_READERS, ep = ep_new();
  if (bench_raise_nofile(nr + 256) < nr + 64)
    bench_die("need %d descriptors; RLIMIT_NOFILE too low", nr + 64);
  int *fd = malloc(sizeof(int) * (size_t)nr);
  struct epoll_event evs[1024];
  char buf[16];
  bench_samples_t s;
  if (!fd)
    bench_die("out of memory");
  bench_samples_init(&s, (size_t)n);
  for (int i = 0; i < nr; i += 2) {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd + i) < 0)
      bench_die("socketpair: %s", strerror(errno));
    ep_add(ep, fd[i], EPOLLIN, (uint64_t)i);
    ep_add(ep, fd[i + 1], EPOLLIN, (uint64_t)i + 1);
  }
  for (int round = -warm; round < n; round++) {
    int64_t t0 = bench_now_ns();
    for (int i = 0; i < nr; i++)
      write_once(fd[i ^ 1], "x", 1);
    int ran = 0;
    while (ran < nr) {
      int k = ep_wait(ep, evs, 1024);
      for (int e = 0; e < k; e++)
        if (read_once(fd[evs[e].data.u64], buf, sizeof buf) > 0)
          ran++;
    }
    int64_t t1 = bench_now_ns();
    if (round >= 0) {
      bench_samples_add(&s, t1 - t0, 1);
      s.ops += nr - 1; /* ops/s counts wakeups */
      bench_progress(FLOOR_IMPL, "storms", (uint64_t)round + 1, (uint64_t)n);
    }
  }
  bench_emit_ns(o, FLOOR_IMPL, &s, -1, "1 thread, ET epoll, 5k socketpairs, both ends read");
  bench_samples_free(&s);
  for (int i = 0; i < nr; i++)
    close(fd[i]);
  free(fd);
  close(ep);
}
