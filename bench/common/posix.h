/* Helpers for the Unix-only benchmark programs (raw floor, libuv peer, echo
 * client) and the Unix half of corio's benchmark. Loopback addresses only. */
#ifndef CORIO_BENCH_POSIX_H
#define CORIO_BENCH_POSIX_H

#include <stdbool.h>
#include <stddef.h>

/* A nonblocking (or blocking) TCP listener on 127.0.0.1. *port: 0 picks one,
 * else binds that port; the bound port is stored back. reuseport: set
 * SO_REUSEPORT so several threads can each own a listener on the same port.
 * Aborts on failure. */
int bench_tcp_listen(int *port, bool reuseport, bool nonblock);
/* A blocking connect to 127.0.0.1:port, TCP_NODELAY set. Aborts on failure. */
int bench_tcp_connect(int port);
/* accept4 on a blocking listener; the result has TCP_NODELAY. Aborts on failure. */
int bench_tcp_accept(int lfd);
/* A connected loopback pair (client, server) with TCP_NODELAY on both. */
void bench_tcp_pair(int fds[2]);
void bench_set_nonblock(int fd, bool on);
void bench_set_nodelay(int fd);
/* Raise RLIMIT_NOFILE's soft limit as far as the hard limit allows, up to want.
 * Returns the resulting soft limit. */
long bench_raise_nofile(long want);
/* Start a thread that exits the process when stdin reaches end of file: the
 * echo client drives a server's lifetime through its stdin. */
void bench_exit_on_stdin_eof(void);
/* Print "PORT <n>" on stdout for the echo client, and flush. */
void bench_announce_port(int port);
/* Write all of buf to a blocking fd (setup only). */
void bench_write_all(int fd, const void *buf, size_t n);

#endif
