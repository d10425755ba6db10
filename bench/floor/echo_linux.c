/* Echo server of the raw floor, started by bench_echo_client.
 *
 * One thread per "P", each with its own epoll set and its own listener on the
 * same port (SO_REUSEPORT: the kernel spreads connections over the threads),
 * edge-triggered; a readable connection is read once (short-read rule) and
 * what was read is written straight back; a write that comes up short keeps
 * the rest and finishes on EPOLLOUT. The process exits when its stdin closes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/posix.h"
#include "floor.h"

#define ECHO_BUF 4096

struct conn {
  int fd;
  size_t pend_off, pend_len; /* unwritten echo bytes in buf */
  char buf[ECHO_BUF];
};

static int echo_port;

static void flush_pending(struct conn *c) {
  while (c->pend_len > 0) {
    ssize_t w = write(c->fd, c->buf + c->pend_off, c->pend_len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return; /* EAGAIN: EPOLLOUT will come; an error: the read side sees it */
    c->pend_off += (size_t)w;
    c->pend_len -= (size_t)w;
  }
}

/* false when the connection is finished. */
static bool serve(struct conn *c, uint32_t events) {
  if (events & EPOLLOUT)
    flush_pending(c);
  if (c->pend_len > 0)
    return true; /* echo the backlog before reading more */
  for (;;) {
    ssize_t r = read(c->fd, c->buf, sizeof c->buf);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0 && errno == EAGAIN)
      return true;
    if (r <= 0)
      return false;
    c->pend_off = 0;
    c->pend_len = (size_t)r;
    flush_pending(c);
    if (c->pend_len > 0 || (size_t)r < sizeof c->buf)
      return true; /* short read: drained */
  }
}

static void accept_all(int ep, int lfd) {
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      return; /* EAGAIN (or EMFILE: the client counts what it got) */
    }
    bench_set_nodelay(fd);
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
      bench_die("out of memory");
    c->fd = fd;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
      bench_die("epoll_ctl: %s", strerror(errno));
  }
}

static void *echo_thread(void *arg) {
  int lfd = (int)(intptr_t)arg, ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event evs[256];
  struct epoll_event lev = {.events = EPOLLIN | EPOLLET, .data.ptr = NULL};
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0)
    bench_die("epoll: %s", strerror(errno));
  for (;;) { /* ends with the process, when the client closes stdin */
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; i++) {
      struct conn *c = evs[i].data.ptr;
      if (!c) {
        accept_all(ep, lfd);
      } else if (!serve(c, evs[i].events)) {
        close(c->fd);
        free(c);
      }
    }
  }
  return NULL;
}

int floor_echo_server(int threads) {
  if (threads < 1 || threads > 64)
    bench_die("echo-server: bad thread count");
  bench_raise_nofile(P_ECHO_CONNS * 2 + 256);
  pthread_t t;
  int lfds[64];
  for (int i = 0; i < threads; i++) /* all listeners exist before any accept */
    lfds[i] = bench_tcp_listen(&echo_port, threads > 1, true);
  for (int i = 0; i < threads; i++)
    if (pthread_create(&t, NULL, echo_thread, (void *)(intptr_t)lfds[i]) != 0)
      bench_die("pthread_create");
  bench_announce_port(echo_port);
  bench_exit_on_stdin_eof();
  for (;;)
    pause();
}
