/* The POSIX half of net/'s platform seam (sock.h): BSD sockets made
 * non-blocking and close-on-exec at creation, addresses converted between
 * corio__netaddr_t and sockaddr, getaddrinfo's answers and errors mapped.
 * Calls that wait go through the poll FD (poll/fd_unix.h, poll/sock_unix.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sock.h"

#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fd_unix.h"
#include "sock_linux.h"
#include "sock_unix.h"

static int sys_family(int family) {
  switch (family) {
  case CORIO__AF_INET: return AF_INET;
  case CORIO__AF_INET6: return AF_INET6;
  case CORIO__AF_UNIX: return AF_UNIX;
  default: return -1;
  }
}

static int to_sys(const corio__netaddr_t *a, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  if (a->family == CORIO__AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(a->port);
    memcpy(&sin->sin_addr, a->ip, 4);
    *len = sizeof *sin;
    return 0;
  }
  if (a->family == CORIO__AF_INET6) {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(a->port);
    memcpy(&sin6->sin6_addr, a->ip, 16);
    sin6->sin6_scope_id = a->scope_id;
    *len = sizeof *sin6;
    return 0;
  }
  if (a->family == CORIO__AF_UNIX)
    return corio__sock_unix_to_sys(a->path, (struct sockaddr_un *)ss, len);
  return CORIO_EBADADDR;
}

static void from_sys(const struct sockaddr_storage *ss, socklen_t len, int family,
                     corio__netaddr_t *a) {
  memset(a, 0, sizeof *a);
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
    a->family = CORIO__AF_INET;
    a->port = ntohs(sin->sin_port);
    memcpy(a->ip, &sin->sin_addr, 4);
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
    a->family = CORIO__AF_INET6;
    a->port = ntohs(sin6->sin6_port);
    memcpy(a->ip, &sin6->sin6_addr, 16);
    a->scope_id = sin6->sin6_scope_id;
  } else if (ss->ss_family == AF_UNIX || family == CORIO__AF_UNIX) {
    /* An unnamed peer may come back with no family at all. */
    a->family = CORIO__AF_UNIX;
    corio__sock_unix_from_sys((const struct sockaddr_un *)ss, len, a->path);
  }
}

static int errno_err(void) { return corio_err_from_errno(errno); }

int corio__sock_open(int family, int sotype, uintptr_t *h) {
  int f = sys_family(family);
  if (f < 0) return corio_err_from_errno(EAFNOSUPPORT);
  int type = (sotype == CORIO__SOCK_STREAM ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
  int s = socket(f, type, 0);
  if (s < 0) return errno_err();
  *h = (uintptr_t)s;
  return 0;
}

void corio__sock_close_raw(uintptr_t h) { close((int)h); }

static int set_int(int s, int level, int opt, int v) {
  return setsockopt(s, level, opt, &v, sizeof v) < 0 ? errno_err() : 0;
}

int corio__sock_setup(uintptr_t h, int family, int sotype, int role, bool v6only) {
  int s = (int)h, err = 0;
  if (family == CORIO__AF_INET6) err = set_int(s, IPPROTO_IPV6, IPV6_V6ONLY, v6only);
  if (!err && family != CORIO__AF_UNIX && role == CORIO__SOCK_ROLE_LISTEN)
    err = set_int(s, SOL_SOCKET, SO_REUSEADDR, 1);
  if (!err && family != CORIO__AF_UNIX && sotype == CORIO__SOCK_DGRAM)
    err = set_int(s, SOL_SOCKET, SO_BROADCAST, 1);
  return err;
}

int corio__sock_bind(uintptr_t h, const corio__netaddr_t *a) {
  struct sockaddr_storage ss;
  socklen_t len;
  int err = to_sys(a, &ss, &len);
  if (err) return err;
  return bind((int)h, (struct sockaddr *)&ss, len) < 0 ? errno_err() : 0;
}

int corio__sock_listen(uintptr_t h) {
  return listen((int)h, corio__sock_max_backlog()) < 0 ? errno_err() : 0;
}

int corio__sock_accept(corio__fd_t *lfd, int family, uintptr_t *h, corio__netaddr_t *peer) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  int s;
  int err = corio__fd_accept(lfd, (struct sockaddr *)&ss, &len, &s);
  if (err) return err;
  if (peer) from_sys(&ss, len, family, peer);
  *h = (uintptr_t)s;
  return 0;
}

int corio__sock_connect(corio__fd_t *fd, const corio__netaddr_t *a) {
  struct sockaddr_storage ss;
  socklen_t len;
  int err = to_sys(a, &ss, &len);
  if (err) return err;
  return corio__fd_connect(fd, (struct sockaddr *)&ss, len);
}

ptrdiff_t corio__sock_recvfrom(corio__fd_t *fd, void *buf, size_t len, corio__netaddr_t *from) {
  struct sockaddr_storage ss;
  socklen_t sslen = sizeof ss;
  memset(&ss, 0, sizeof ss);
  ptrdiff_t n = corio__fd_recvfrom(fd, buf, len, (struct sockaddr *)&ss, &sslen);
  if (n >= 0 && from) {
    int family = CORIO__AF_UNSPEC;
    if (ss.ss_family == AF_UNSPEC) family = CORIO__AF_UNIX; /* an unnamed Unix sender */
    from_sys(&ss, sslen, family, from);
  }
  return n;
}

ptrdiff_t corio__sock_sendto(corio__fd_t *fd, const void *buf, size_t len,
                             const corio__netaddr_t *to) {
  struct sockaddr_storage ss;
  socklen_t sslen = 0;
  if (to) {
    int err = to_sys(to, &ss, &sslen);
    if (err) return err;
  }
  return corio__fd_sendto(fd, buf, len, to ? (struct sockaddr *)&ss : NULL, sslen);
}

int corio__sock_shutdown_write(corio__fd_t *fd) { return corio__fd_shutdown(fd, SHUT_WR); }

int corio__sock_set_nodelay(uintptr_t h, bool on) {
  return set_int((int)h, IPPROTO_TCP, TCP_NODELAY, on);
}

int corio__sock_set_keepalive(uintptr_t h, bool on, int64_t period_ns) {
  int s = (int)h;
  int err = set_int(s, SOL_SOCKET, SO_KEEPALIVE, on);
  if (err || !on || period_ns <= 0) return err;
  int64_t secs = (period_ns + 999999999) / 1000000000;
  int v = secs > 32767 ? 32767 : (int)secs; /* Linux's upper bound */
  err = set_int(s, IPPROTO_TCP, TCP_KEEPIDLE, v);
  if (!err) err = set_int(s, IPPROTO_TCP, TCP_KEEPINTVL, v);
  return err;
}

static int name_of(uintptr_t h, int family, corio__netaddr_t *a, bool peer) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  int r = peer ? getpeername((int)h, (struct sockaddr *)&ss, &len)
               : getsockname((int)h, (struct sockaddr *)&ss, &len);
  if (r < 0) return errno_err();
  from_sys(&ss, len, family, a);
  return 0;
}

int corio__sock_local_addr(uintptr_t h, int family, corio__netaddr_t *a) {
  return name_of(h, family, a, false);
}

int corio__sock_peer_addr(uintptr_t h, int family, corio__netaddr_t *a) {
  return name_of(h, family, a, true);
}

/* getaddrinfo's codes as corio errors (corio/net.h lists the mapping). */
static int eai_err(int code, int saved_errno) {
  switch (code) {
  case EAI_NONAME:
#ifdef EAI_NODATA
  case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
  case EAI_ADDRFAMILY:
#endif
    return CORIO_ENOSUCHHOST;
  case EAI_AGAIN: return CORIO_ERESOLVAGAIN;
  case EAI_MEMORY: return CORIO_ENOMEM;
  case EAI_SYSTEM: return saved_errno ? corio_err_from_errno(saved_errno) : CORIO_ERESOLVFAIL;
  default: return CORIO_ERESOLVFAIL;
  }
}

int corio__sock_resolve(const char *host, int family, corio__netaddr_t *out, int max, int *count) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = family == CORIO__AF_INET ? AF_INET : family == CORIO__AF_INET6 ? AF_INET6 : AF_UNSPEC;
  /* One socket type, or every address comes back once per type. */
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  *count = 0;
  int rc = getaddrinfo(host, NULL, &hints, &res);
  int saved = errno;
  if (rc != 0) return eai_err(rc, saved);
  int n = 0;
  for (struct addrinfo *ai = res; ai && n < max; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    corio__netaddr_t a;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    memcpy(&ss, ai->ai_addr, ai->ai_addrlen < sizeof ss ? ai->ai_addrlen : sizeof ss);
    from_sys(&ss, ai->ai_addrlen, CORIO__AF_UNSPEC, &a);
    bool dup = false;
    for (int i = 0; i < n && !dup; i++)
      dup = out[i].family == a.family && memcmp(out[i].ip, a.ip, 16) == 0 &&
            out[i].scope_id == a.scope_id;
    if (!dup) out[n++] = a;
  }
  freeaddrinfo(res);
  *count = n;
  return n > 0 ? 0 : CORIO_ENOADDR;
}

int corio__sock_zone_index(const char *name, uint32_t *index) {
  unsigned i = if_nametoindex(name);
  if (i == 0) return CORIO_EBADADDR;
  *index = i;
  return 0;
}

int corio__sock_unlink(const char *path) { return unlink(path) < 0 ? errno_err() : 0; }

int corio__sock_errno(int err) { return corio_err_errno(err); }
