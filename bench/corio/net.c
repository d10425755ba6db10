/* corio scenarios on sockets (corio/poll.h, plus corio/sync.h): the TCP round
 * trip and the echo server that bench_echo_client drives. Handles are made
 * with plain blocking calls (cb_tcp_*: setup, never timed) and handed to
 * corio_fd_open. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corio/poll.h"
#include "corio/sync.h"
#include "corio_bench.h"

static corio_fd_t *open_stream(corio_handle_t h) {
  corio_fd_t *fd;
  cb_check(corio_fd_open(h, CORIO_FD_STREAM, &fd), "corio_fd_open");
  return fd;
}

/* One end's receive buffer: twice the message, as the floor reads into, so
 * that the read which completes a message asks for more than it gets. */
typedef struct msg_in {
  corio_fd_t *fd;
  char buf[2 * P_TCP_MSG];
  size_t have;
} msg_in_t;

/* Read until a whole message is buffered; false at end of stream or on
 * error. The message is the first P_TCP_MSG bytes of in->buf. */
static bool read_msg(msg_in_t *in) {
  while (in->have < P_TCP_MSG) {
    ptrdiff_t r = corio_fd_read(in->fd, in->buf + in->have, sizeof in->buf - in->have);
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
    if (corio_fd_write(in.fd, in.buf, P_TCP_MSG) != P_TCP_MSG)
      break;
    take_msg(&in);
  }
  corio_wg_done(&tcp_done);
}

static void tcp_rt(const bench_opts_t *o) {
  int warm = BENCH_PICK(o, P_TCP_WARM), n = BENCH_PICK(o, P_TCP_SAMPLES);
  corio_handle_t h[2];
  char msg[P_TCP_MSG];
  msg_in_t back = {0};
  bench_samples_t s;
  bench_samples_init(&s, (size_t)n);
  memset(msg, 'm', sizeof msg);
  cb_tcp_pair(h);
  corio_fd_t *cli = open_stream(h[0]), *srv = open_stream(h[1]);
  back.fd = cli;
  corio_wg_add(&tcp_done, 1);
  cb_check(corio_spawn(tcp_server, srv), "spawn");
  int64_t phase = 0; /* start of the measured phase, for the time budget */
  for (int i = -warm; i < n; i++) {
    if (i == 0)
      phase = bench_now_ns();
    int64_t t0 = bench_now_ns();
    if (corio_fd_write(cli, msg, sizeof msg) != (ptrdiff_t)sizeof msg || !read_msg(&back))
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
  corio_fd_close(cli); /* the server reads end of stream */
  corio_wg_wait(&tcp_done);
  corio_fd_free(cli);
  corio_fd_free(srv);
  bench_emit_ns(o, CB_IMPL, &s, -1, "corio_fd over a loopback TCP pair, 2 coroutines");
  bench_samples_free(&s);
}

/* ---- echo server (echo_1p, echo_2p), driven by bench_echo_client ----
 * The main coroutine accepts P_ECHO_CONNS connections (blocking accept inside
 * corio_syscall_enter/exit, so the P keeps serving connections meanwhile; the
 * accepts happen before the client's warm-up), starts one coroutine per
 * connection that reads what arrives and writes it back, then waits for the
 * client to close stdin, which ends the process. What is timed is in the
 * client's comment. */
static void echo_conn(void *arg) {
  corio_fd_t *fd = arg;
  char buf[4096];
  for (;;) {
    ptrdiff_t r = corio_fd_read(fd, buf, sizeof buf);
    if (r <= 0 || corio_fd_write(fd, buf, (size_t)r) != r)
      break;
  }
  corio_fd_free(fd);
}

static void echo_server(const bench_opts_t *o) {
  int port = 0;
  cb_raise_nofile(P_ECHO_CONNS * 2 + 256);
  corio_handle_t l = cb_tcp_listen(&port);
  printf("PORT %d\n", port);
  fflush(stdout);
  for (int i = 0; i < P_ECHO_CONNS; i++) {
    corio_syscall_enter();
    corio_handle_t h = cb_tcp_accept(l);
    corio_syscall_exit();
    cb_check(corio_spawn(echo_conn, open_stream(h)), "spawn");
  }
  cb_close_handle(l);
  corio_syscall_enter();
  cb_wait_stdin_eof();
  corio_syscall_exit();
  /* Returning ends corio_main; connections still open are abandoned. */
}

const cb_scenario_t cb_group_net[] = {
    {"tcp_rt", 1, CORIO_STACK_GUARDED, tcp_rt},
    {"echo_1p", 1, CORIO_STACK_GUARDED, echo_server},
    {"echo_2p", 2, CORIO_STACK_GUARDED, echo_server},
    {NULL, 0, 0, NULL},
};
