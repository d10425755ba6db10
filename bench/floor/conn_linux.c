/* The floor's connection rate: one thread, blocking loopback sockets, the
 * fewest system calls a connection can cost: socket, connect (loopback
 * completes it at once), accept4, TCP_NODELAY on both ends (corio and Go set
 * it), a 64-byte write and read each way, the client's close, the server's
 * read of end of stream and its close. Sample = one connection, from socket
 * to the server's close. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/posix.h"
#include "floor.h"

static void must(bool ok, const char *what) {
  if (!ok)
    bench_die("conn_rate: %s: %s", what, strerror(errno));
}

static void read_all(int fd, char *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    must(r > 0, "read");
    got += (size_t)r;
  }
}

void floor_conn_rate(const bench_opts_t *o) {
  int warm = BENCH_PICK(o, P_CONN_WARM), n = BENCH_PICK(o, P_CONN_SAMPLES);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t salen = sizeof sa;
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  must(l >= 0, "socket");
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  must(bind(l, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(l, 4096) == 0 &&
           getsockname(l, (struct sockaddr *)&sa, &salen) == 0,
       "listen");
  char msg[P_TCP_MSG], buf[P_TCP_MSG];
  memset(msg, 'c', sizeof msg);
  bench_samples_t s;
  bench_samples_init(&s, (size_t)n);
  int64_t phase = 0;
  for (int i = -warm; i < n; i++) {
    if (i == 0)
      phase = bench_now_ns();
    int64_t t0 = bench_now_ns();
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    must(c >= 0 && connect(c, (struct sockaddr *)&sa, sizeof sa) == 0, "connect");
    int sv = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    must(sv >= 0, "accept4");
    bench_set_nodelay(c);
    bench_set_nodelay(sv);
    must(write(c, msg, sizeof msg) == (ssize_t)sizeof msg, "write");
    read_all(sv, buf, sizeof buf);
    must(write(sv, buf, sizeof buf) == (ssize_t)sizeof buf, "write");
    read_all(c, buf, sizeof buf);
    close(c);
    must(read(sv, buf, sizeof buf) == 0, "read end of stream");
    close(sv);
    int64_t t1 = bench_now_ns();
    if (i >= 0) {
      bench_samples_add(&s, t1 - t0, 1);
      bench_progress(FLOOR_IMPL, "connections", (uint64_t)i + 1, (uint64_t)n);
      if (bench_over_budget(o, phase))
        break;
    }
  }
  close(l);
  bench_emit_ns(o, FLOOR_IMPL, &s, -1, "1 thread, blocking loopback sockets, both ends");
  bench_samples_free(&s);
}
