/* Sockets for tests (POSIX). */
#ifndef CORIO_TEST_NET_UTIL_H
#define CORIO_TEST_NET_UTIL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* A connected loopback TCP pair, made with blocking calls (the descriptors
 * stay blocking), TCP_NODELAY on both ends. Aborts on failure: a test
 * without its sockets has nothing to check. */
static inline void test_tcp_pair(int sv[2]) {
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, 1) != 0 ||
      getsockname(l, (struct sockaddr *)&sa, &len) != 0)
    abort();
  sv[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sv[0] < 0 || connect(sv[0], (struct sockaddr *)&sa, sizeof sa) != 0) abort();
  sv[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
  if (sv[1] < 0) abort();
  close(l);
  int one = 1;
  setsockopt(sv[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(sv[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

#endif
