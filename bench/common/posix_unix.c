/* Socket and process helpers for the Unix benchmark programs. */
#define _GNU_SOURCE
#include "posix.h"

#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

void bench_set_nonblock(int fd, bool on) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK)) < 0)
    bench_die("fcntl(O_NONBLOCK): %s", strerror(errno));
}

void bench_set_nodelay(int fd) {
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
    bench_die("TCP_NODELAY: %s", strerror(errno));
}

int bench_tcp_listen(int *port, bool reuseport, bool nonblock) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
  int one = 1;
  if (fd < 0)
    bench_die("socket: %s", strerror(errno));
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
    bench_die("SO_REUSEPORT: %s", strerror(errno));
  struct sockaddr_in a = loopback(*port);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
    bench_die("bind 127.0.0.1:%d: %s", *port, strerror(errno));
  if (listen(fd, 4096) < 0)
    bench_die("listen: %s", strerror(errno));
  socklen_t len = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &len);
  *port = ntohs(a.sin_port);
  return fd;
}

int bench_tcp_connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    bench_die("socket: %s", strerror(errno));
  struct sockaddr_in a = loopback(port);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
    bench_die("connect 127.0.0.1:%d: %s", port, strerror(errno));
  bench_set_nodelay(fd);
  return fd;
}

int bench_tcp_accept(int lfd) {
  int fd;
  do
    fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    bench_die("accept: %s", strerror(errno));
  bench_set_nodelay(fd);
  return fd;
}

void bench_tcp_pair(int fds[2]) {
  int port = 0;
  int lfd = bench_tcp_listen(&port, false, false);
  fds[0] = bench_tcp_connect(port);
  fds[1] = bench_tcp_accept(lfd);
  close(lfd);
}

long bench_raise_nofile(long want) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
    return 1024;
  rlim_t target = (rlim_t)want;
  if (rl.rlim_max != RLIM_INFINITY && target > rl.rlim_max)
    target = rl.rlim_max;
  if (target > rl.rlim_cur) {
    rl.rlim_cur = target;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
      getrlimit(RLIMIT_NOFILE, &rl);
  }
  return (long)rl.rlim_cur;
}

static void *stdin_watch(void *arg) {
  char buf[256];
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EINTR))
      _exit(0);
  }
  return arg;
}

void bench_exit_on_stdin_eof(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, stdin_watch, NULL) != 0)
    bench_die("pthread_create failed");
  pthread_detach(t);
}

void bench_announce_port(int port) {
  printf("PORT %d\n", port);
  fflush(stdout);
}

void bench_write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      bench_die("write: %s", strerror(errno));
    p += w;
    n -= (size_t)w;
  }
}
