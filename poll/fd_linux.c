/* What the Unix FD (fd_unix.c) must ask Linux in particular: whether a short
 * read proves a descriptor empty, which takes Linux's TCP_ULP (an upper-layer
 * protocol such as kernel TLS returns a record per read). */
#include "fd_unix.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/stat.h>

/* An AF_INET or AF_INET6 stream socket speaking plain TCP: no upper-layer
 * protocol attached (TCP_ULP names none; kernels without it have none). */
static bool is_plain_tcp(int h) {
  int type = 0, proto = 0;
  socklen_t len = sizeof type;
  if (getsockopt(h, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) return false;
  struct sockaddr_storage ss;
  socklen_t sslen = sizeof ss;
  if (getsockname(h, (struct sockaddr *)&ss, &sslen) < 0) return false;
  if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) return false;
  len = sizeof proto;
  if (getsockopt(h, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0 || proto != IPPROTO_TCP)
    return false;
  char ulp[16] = {0};
  len = sizeof ulp;
  if (getsockopt(h, IPPROTO_TCP, TCP_ULP, ulp, &len) < 0) return errno == ENOPROTOOPT;
  return ulp[0] == 0;
}

bool corio__fd_os_short_means_empty(int h) {
  struct stat st;
  return fstat(h, &st) == 0 && S_ISSOCK(st.st_mode) && is_plain_tcp(h);
}
