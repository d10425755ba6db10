/* bench_echo_client: the load generator shared by every echo server, so that
 * corio and its peers face exactly the same client.
 *
 *   bench_echo_client <scenario> <impl> [--quick] -- <server command...>
 *
 * It starts the server command with pipes on its stdin and stdout, reads
 * "PORT <n>" from it, opens P_ECHO_CONNS loopback connections (TCP_NODELAY),
 * and drives them from one thread with an edge-triggered epoll loop: every
 * connection keeps exactly one P_TCP_MSG-byte message in flight and sends the
 * next as soon as the echo is complete (closed loop, like the Go and raw-C
 * figures the issue calibrates against).
 *
 * Methodology: P_ECHO_WARM_MS of warm-up, then a window of P_ECHO_MEASURE_MS.
 * ops/s = round trips completed inside the window / window length. Latency
 * samples (median, p99, p99.9) are the round trips completed inside the window,
 * each timed from its write to the read that completed the echo. Then the
 * client closes every connection and the server's stdin, which ends it.
 *
 * The client takes one CPU of its own; on a 2-core machine the "2 Ps" server
 * therefore shares the machine with it, for every implementation alike.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/bench.h"
#include "../common/params.h"
#include "../common/posix.h"

extern char **environ;

struct conn {
  int fd;
  size_t have;
  int64_t sent_at;
};

static pid_t child = -1;
static int child_in = -1;

static void stop_child(void) {
  if (child_in >= 0)
    close(child_in);
  child_in = -1;
  if (child <= 0)
    return;
  for (int i = 0; i < 500; i++) { /* 5 s for a clean exit */
    if (waitpid(child, NULL, WNOHANG) == child) {
      child = -1;
      return;
    }
    usleep(10000);
  }
  fprintf(stderr, "echo client: server did not exit, killing it\n");
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  child = -1;
}

static void die_cleanly(const char *what) {
  if (child > 0)
    kill(child, SIGKILL);
  bench_die("echo client: %s", what);
}

/* Start the server; return its port. */
static int start_server(char **argv) {
  int in[2], out[2];
  posix_spawn_file_actions_t fa;
  if (pipe(in) < 0 || pipe(out) < 0)
    bench_die("pipe: %s", strerror(errno));
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addclose(&fa, in[1]);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  int e = posix_spawnp(&child, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (e != 0)
    bench_die("cannot start %s: %s", argv[0], strerror(e));
  close(in[0]);
  close(out[1]);
  child_in = in[1];
  /* Read "PORT <n>\n"; a Windows server under Wine may take seconds to start. */
  char line[128];
  size_t len = 0;
  int64_t limit = bench_now_ns() + 60 * (int64_t)1000000000;
  while (len < sizeof line - 1 && (len == 0 || line[len - 1] != '\n')) {
    struct pollfd p = {.fd = out[0], .events = POLLIN};
    if (bench_now_ns() > limit)
      die_cleanly("server did not announce its port within 60 s");
    if (poll(&p, 1, 1000) <= 0)
      continue;
    ssize_t r = read(out[0], line + len, 1);
    if (r <= 0)
      die_cleanly("server exited before announcing its port");
    len += (size_t)r;
  }
  line[len] = '\0';
  close(out[0]);
  int port = 0;
  if (sscanf(line, "PORT %d", &port) != 1 || port <= 0)
    die_cleanly("server's first line is not PORT <n>");
  return port;
}

static void send_msg(struct conn *c, const char *msg) {
  ssize_t w;
  do
    w = write(c->fd, msg, P_TCP_MSG);
  while (w < 0 && errno == EINTR);
  if (w != P_TCP_MSG) /* 64 bytes into an idle connection's empty buffer */
    die_cleanly(w < 0 ? strerror(errno) : "short write");
  c->sent_at = bench_now_ns();
  c->have = 0;
}

int main(int argc, char **argv) {
  int dd = 0;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--") == 0) {
      dd = i;
      break;
    }
  bench_opts_t o;
  if (dd < 3 || dd + 1 >= argc)
    bench_die("usage: bench_echo_client <scenario> <impl> [--quick] -- <server command...>");
  const char *impl = argv[2];
  o.scenario = argv[1];
  o.quick = dd > 3 && strcmp(argv[3], "--quick") == 0;
  signal(SIGPIPE, SIG_IGN);
  int nconn = P_ECHO_CONNS;
  if (bench_raise_nofile(nconn + 256) < nconn + 64)
    bench_die("need %d descriptors; RLIMIT_NOFILE too low", nconn + 64);
  int64_t warm_ns = (int64_t)BENCH_PICK(&o, P_ECHO_WARM_MS) * 1000000;
  int64_t window_ns = (int64_t)BENCH_PICK(&o, P_ECHO_MEASURE_MS) * 1000000;

  int port = start_server(argv + dd + 1);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct conn *cs = calloc((size_t)nconn, sizeof *cs);
  if (!cs || ep < 0)
    die_cleanly("setup failed");
  for (int i = 0; i < nconn; i++) {
    cs[i].fd = bench_tcp_connect(port);
    bench_set_nonblock(cs[i].fd, true);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.ptr = &cs[i]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev) < 0)
      die_cleanly("epoll_ctl");
  }
  /* Room for every round trip the window could hold at 2M round trips/s. */
  bench_samples_t s;
  bench_samples_init(&s, (size_t)(window_ns / 500) + (size_t)nconn);
  s.capped = false; /* a time window, not a planned count */
  char msg[P_TCP_MSG], buf[4096];
  memset(msg, 'e', sizeof msg);
  int64_t start = bench_now_ns(), win0 = start + warm_ns, win1 = win0 + window_ns;
  int64_t last_progress_at = start;
  uint64_t in_window = 0;
  for (int i = 0; i < nconn; i++)
    send_msg(&cs[i], msg);
  struct epoll_event evs[256];
  int64_t now = start;
  while (now < win1) {
    int n = epoll_wait(ep, evs, 256, 1000);
    now = bench_now_ns();
    if (n <= 0 && now - last_progress_at > 5 * (int64_t)1000000000)
      die_cleanly("no echo for 5 s");
    for (int i = 0; i < n; i++) {
      struct conn *c = evs[i].data.ptr;
      ssize_t r = read(c->fd, buf, sizeof buf);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
        die_cleanly("server closed a connection");
      if (r < 0)
        continue;
      c->have += (size_t)r;
      if (c->have < P_TCP_MSG)
        continue;
      if (c->have > P_TCP_MSG || buf[0] != 'e')
        die_cleanly("server echoed something else");
      if (now >= win0 && now < win1) {
        bench_samples_add_latency(&s, now - c->sent_at);
        in_window++;
      }
      last_progress_at = now;
      send_msg(c, msg);
    }
    if (now >= win0)
      bench_progress(impl, "echo window", (uint64_t)((now < win1 ? now : win1) - win0) / 1000000,
                     (uint64_t)window_ns / 1000000);
  }
  for (int i = 0; i < nconn; i++)
    close(cs[i].fd);
  close(ep);
  stop_child();
  char note[128];
  snprintf(note, sizeof note, "%d conns, %d B messages, %.1f s window, same client for all",
           nconn, P_TCP_MSG, (double)window_ns / 1e9);
  bench_emit_ns(&o, impl, &s, (double)in_window * 1e9 / (double)window_ns, note);
  bench_samples_free(&s);
  free(cs);
  return 0;
}
