/* corio scenarios on sockets, through the public network API (corio/net.h,
 * plus corio/sync.h): the TCP round trip, the echo server that
 * bench_echo_client drives, and the connection rate. Listening, accepting and
 * dialling all go through corio (accept parks on the poller). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corio/net.h"
#include "corio/sync.h"
#include "corio_bench.h"

static corio_listener_t *listen_loopback(char *addr, size_t len) {
  corio_listener_t *l;
  cb_check(corio_net_listen("tcp4", "127.0.0.1:0", &l), "corio_net_listen");
  int r = corio_listener_addr(l, addr, len);
  cb_check(r < 0 ? r : 0, "corio_listener_addr");
  return l;
}

typedef struct accept_one {
  corio_listener_t *l;
  corio_conn_t *c;
  corio_wg_t wg;
} accept_one_t;

static void accept_one(void *arg) {
  accept_one_t *a = arg;
  cb_check(corio_listener_accept(a->l, &a->c), "corio_listener_accept");
  corio_wg_done(&a->wg);
}

/* A connected loopback pair: the dialled end in c[0], the accepted one in c[1]. */
static void conn_pair(corio_conn_t *c[2]) {
  char addr[CORIO_NET_ADDRSTRLEN];
  accept_one_t a = {.l = listen_loopback(addr, sizeof addr), .wg = CORIO_WG_INIT};
  corio_wg_add(&a.wg, 1);
  cb_check(corio_spawn(accept_one, &a), "spawn");
  cb_check(corio_net_dial("tcp", addr, 0, &c[0]), "corio_net_dial");
  corio_wg_wait(&a.wg);
  c[1] = a.c;
  corio_listener_free(a.l);
}

/* One end's receive buffer: twice the message, as the floor reads into, so
 * that the read which completes a message asks for more than it gets. */
typedef struct msg_in {
  corio_conn_t *fd;
  char buf[2 * P_TCP_MSG];
  size_t have;
} msg_in_t;

/* Read until a whole message is buffered; false at end of stream or on
 * error. The message is the first P_TCP_MSG bytes of in->buf. */
static bool read_msg(msg_in_t *in) {
  while (in->have < P_TCP_MSG) {
    ptrdiff_t r = corio_conn_read(in->fd, in->buf + in->have, sizeof in->buf - in->have);
    if (r <= 0)
      return false;
    in->have += (size_t)r;
  }
  return true;
}

/* Drop the message read_msg found; bytes of the next one (never, in a
 * ping-pong) move to the front. */
static void take_msg(msg_in_t *in) {
  in->have -= P_TCP_MSG;
  if (in->have > 0)
    memmove(in->buf, in->buf + P_TCP_MSG, in->have);
}

/* ---- tcp_rt (1 P) ----
 * Methodology: one loopback TCP connection (TCP_NODELAY), both ends in corio.
 * The server coroutine reads P_TCP_MSG bytes and writes them back until end of
 * stream; the client (main) writes P_TCP_MSG bytes and reads the echo. Both
 * read into a buffer of twice the message, asking each time for the room
 * left, as the floor does: the read that completes a message comes back short
 * of what it asked, which tells corio that the socket is drained (its
 * short-read rule), exactly as it tells the floor. Same bytes, same read sizes.
 * Sample = one round trip. P_TCP_WARM warm-up, P_TCP_SAMPLES samples. */
static corio_wg_t tcp_done = CORIO_WG_INIT;

static void tcp_server(void *arg) {
  msg_in_t in = {.fd = arg};
  while (read_msg(&in)) {
    if (corio_conn_write(in.fd, in.buf, P_TCP_MSG) != P_TCP_MSG)
      break;
    take_msg(&in);
  }
  corio_wg_done(&tcp_done);
}

static void tcp_rt(const bench_opts_t *o) {
  int warm = BENCH_PICK(o, P_TCP_WARM), n = BENCH_PICK(o, P_TCP_SAMPLES);
  corio_conn_t *h[2];
  char msg[P_TCP_MSG];
  msg_in_t back = {0};
  bench_samples_t s;
  bench_samples_init(&s, (size_t)n);
  memset(msg, 'm', sizeof msg);
  conn_pair(h); /* TCP_NODELAY on both: dial and accept set it */
  corio_conn_t *cli = h[0], *srv = h[1];
  back.fd = cli;
  corio_wg_add(&tcp_done, 1);
  cb_check(corio_spawn(tcp_server, srv), "spawn");
  int64_t phase = 0; /* start of the measured phase, for the time budget */
  for (int i = -warm; i < n; i++) {
    if (i == 0)
      phase = bench_now_ns();
    int64_t t0 = bench_now_ns();
    if (corio_conn_write(cli, msg, sizeof msg) != (ptrdiff_t)sizeof msg || !read_msg(&back))
      bench_die("tcp_rt: round trip %d failed", i);
    take_msg(&back);
    int64_t t1 = bench_now_ns();
    if (i >= 0) {
      bench_samples_add(&s, t1 - t0, 1);
      bench_progress(CB_IMPL, "round trips", (uint64_t)i + 1, (uint64_t)n);
      if (bench_over_budget(o, phase))
        break;
    }
  }
  corio_conn_close_write(cli); /* the server reads end of stream */
  corio_wg_wait(&tcp_done);
  corio_conn_free(cli);
  corio_conn_free(srv);
  bench_emit_ns(o, CB_IMPL, &s, -1, "corio_conn over a loopback TCP pair (net API), 2 coroutines");
  bench_samples_free(&s);
}

/* ---- echo server (echo_1p, echo_2p), driven by bench_echo_client ----
 * A coroutine accepts P_ECHO_CONNS connections through the poller
 * (corio_listener_accept parks; the accepts happen before the client's
 * warm-up) and starts one coroutine per connection that reads what arrives
 * and writes it back; the main coroutine waits for the client to close
 * stdin, which ends the process. What is timed is in the client's comment. */
static void echo_conn(void *arg) {
  corio_conn_t *c = arg;
  char buf[4096];
  for (;;) {
    ptrdiff_t r = corio_conn_read(c, buf, sizeof buf);
    if (r <= 0 || corio_conn_write(c, buf, (size_t)r) != r)
      break;
  }
  corio_conn_free(c);
}

static void echo_acceptor(void *arg) {
  corio_listener_t *l = arg;
  for (int i = 0; i < P_ECHO_CONNS; i++) {
    corio_conn_t *c;
    cb_check(corio_listener_accept(l, &c), "corio_listener_accept");
    cb_check(corio_spawn(echo_conn, c), "spawn");
  }
  corio_listener_free(l);
}

static void echo_server(const bench_opts_t *o) {
  cb_raise_nofile(P_ECHO_CONNS * 2 + 256);
  char addr[CORIO_NET_ADDRSTRLEN];
  corio_listener_t *l = listen_loopback(addr, sizeof addr);
  printf("PORT %s\n", strrchr(addr, ':') + 1);
  fflush(stdout);
  cb_check(corio_spawn(echo_acceptor, l), "spawn");
  corio_syscall_enter();
  cb_wait_stdin_eof();
  corio_syscall_exit();
  /* Returning ends corio_main; connections still open are abandoned. */
}

/* ---- conn_rate (1 P) ----
 * Methodology: the client (main) dials a loopback listener, writes
 * P_TCP_MSG bytes, reads them back, closes; a server coroutine per
 * connection (started by an acceptor coroutine) reads the message, writes it
 * back, reads end of stream and closes. Sample = one connection, from the
 * dial to the client's close. The same steps as the floor's and Go's. */
static void rate_conn(void *arg) {
  corio_conn_t *c = arg;
  msg_in_t in = {.fd = c};
  if (read_msg(&in))
    corio_conn_write(c, in.buf, P_TCP_MSG);
  char b[16];
  while (corio_conn_read(c, b, sizeof b) > 0) {
  }
  corio_conn_free(c);
}

static void rate_acceptor(void *arg) {
  corio_listener_t *l = arg;
  for (;;) {
    corio_conn_t *c;
    if (corio_listener_accept(l, &c) != 0)
      break; /* closed: the run is over */
    cb_check(corio_spawn(rate_conn, c), "spawn");
  }
}

static void conn_rate(const bench_opts_t *o) {
  int warm = BENCH_PICK(o, P_CONN_WARM), n = BENCH_PICK(o, P_CONN_SAMPLES);
  char addr[CORIO_NET_ADDRSTRLEN], msg[P_TCP_MSG];
  memset(msg, 'c', sizeof msg);
  corio_listener_t *l = listen_loopback(addr, sizeof addr);
  cb_check(corio_spawn(rate_acceptor, l), "spawn");
  bench_samples_t s;
  bench_samples_init(&s, (size_t)n);
  int64_t phase = 0;
  for (int i = -warm; i < n; i++) {
    if (i == 0)
      phase = bench_now_ns();
    int64_t t0 = bench_now_ns();
    corio_conn_t *c;
    cb_check(corio_net_dial("tcp", addr, 0, &c), "corio_net_dial");
    msg_in_t back = {.fd = c};
    if (corio_conn_write(c, msg, sizeof msg) != (ptrdiff_t)sizeof msg || !read_msg(&back))
      bench_die("conn_rate: connection %d failed", i);
    corio_conn_free(c);
    int64_t t1 = bench_now_ns();
    if (i >= 0) {
      bench_samples_add(&s, t1 - t0, 1);
      bench_progress(CB_IMPL, "connections", (uint64_t)i + 1, (uint64_t)n);
      if (bench_over_budget(o, phase))
        break;
    }
  }
  corio_listener_close(l); /* the acceptor leaves; it is abandoned with main */
  bench_emit_ns(o, CB_IMPL, &s, -1, "dial + accept + 64-byte echo + close, 1 P (net API)");
  bench_samples_free(&s);
}

const cb_scenario_t cb_group_net[] = {
    {"tcp_rt", 1, CORIO_STACK_GUARDED, tcp_rt},
    {"echo_1p", 1, CORIO_STACK_GUARDED, echo_server},
    {"echo_2p", 2, CORIO_STACK_GUARDED, echo_server},
    {"conn_rate", 1, CORIO_STACK_GUARDED, conn_rate},
    {NULL, 0, 0, NULL},
};
