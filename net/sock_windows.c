/* The Windows half of net/'s platform seam (sock.h): Winsock sockets created
 * overlapped and not inherited, connected with ConnectEx and accepted with
 * AcceptEx over the FD's completion path (poll/sock_windows.h), addresses
 * converted between corio__netaddr_t and sockaddr, GetAddrInfoW's answers
 * and errors mapped. Errors are the WSA (or Win32) code as a Win32 corio
 * error; corio__sock_errno gives the POSIX errno behind one. */
#include "sock.h"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <afunix.h>
#include <iphlpapi.h>
#include <mstcpip.h>
#include <netioapi.h>
#include <windows.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "base.h"
#include "corio/runtime.h"
#include "sock_windows.h"

/* Not in every SDK's headers. */
#ifndef WSA_FLAG_NO_HANDLE_INHERIT
#define WSA_FLAG_NO_HANDLE_INHERIT 0x80
#endif
#ifndef SIO_UDP_CONNRESET
#define SIO_UDP_CONNRESET _WSAIOW(IOC_VENDOR, 12)
#endif
#ifndef SIO_UDP_NETRESET
#define SIO_UDP_NETRESET _WSAIOW(IOC_VENDOR, 15)
#endif

static int wsa_err(void) { return corio_err_from_win32((uint32_t)WSAGetLastError()); }
static int win32_err(DWORD code) { return corio_err_from_win32((uint32_t)code); }

static int sys_family(int family) {
  switch (family) {
  case CORIO__AF_INET: return AF_INET;
  case CORIO__AF_INET6: return AF_INET6;
  case CORIO__AF_UNIX: return AF_UNIX;
  default: return -1;
  }
}

/* ---- addresses ---- */

static int to_sys(const corio__netaddr_t *a, struct sockaddr_storage *ss, int *len) {
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
  if (a->family == CORIO__AF_UNIX) {
    /* Windows has no abstract names in corio's form ("@name"): refuse them
     * rather than create a file called "@name". */
    size_t n = strnlen(a->path, sizeof a->path);
    struct sockaddr_un *sun = (struct sockaddr_un *)ss;
    if (n == 0 || a->path[0] == '@' || n >= sizeof sun->sun_path) return CORIO_EBADADDR;
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, a->path, n);
    *len = (int)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    return 0;
  }
  return CORIO_EBADADDR;
}

static void from_sys(const struct sockaddr_storage *ss, int len, int family, corio__netaddr_t *a) {
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
    /* An unnamed socket comes back with no family or an empty path. */
    a->family = CORIO__AF_UNIX;
    const struct sockaddr_un *sun = (const struct sockaddr_un *)ss;
    int off = (int)offsetof(struct sockaddr_un, sun_path);
    size_t max = len > off ? (size_t)(len - off) : 0;
    if (max > sizeof sun->sun_path) max = sizeof sun->sun_path;
    if (ss->ss_family != AF_UNIX) max = 0;
    size_t n = strnlen(sun->sun_path, max);
    if (n > CORIO__UNIX_PATH_MAX) n = CORIO__UNIX_PATH_MAX;
    memcpy(a->path, sun->sun_path, n);
    a->path[n] = 0;
  }
}

/* ---- creation and set-up ---- */

int corio__sock_open(int family, int sotype, uintptr_t *h) {
  int err = corio__wsa_init();
  if (err) return err;
  int af = sys_family(family);
  if (af < 0) return win32_err(WSAEAFNOSUPPORT);
  if (sotype != CORIO__SOCK_STREAM && sotype != CORIO__SOCK_DGRAM)
    return win32_err(WSAEPROTONOSUPPORT);
  int type = sotype == CORIO__SOCK_STREAM ? SOCK_STREAM : SOCK_DGRAM;
  int proto = af == AF_UNIX ? 0 : type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
  SOCKET s = WSASocketW(af, type, proto, NULL, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  if (s == INVALID_SOCKET && WSAGetLastError() == WSAEINVAL) {
    /* Systems before Windows 7 SP1 do not know the flag: clear the
     * inheritance afterwards (a process started meanwhile may inherit it). */
    s = WSASocketW(af, type, proto, NULL, 0, WSA_FLAG_OVERLAPPED);
    if (s != INVALID_SOCKET) SetHandleInformation((HANDLE)s, HANDLE_FLAG_INHERIT, 0);
  }
  if (s == INVALID_SOCKET) return wsa_err();
  *h = (uintptr_t)s;
  return 0;
}

void corio__sock_close_raw(uintptr_t h) { closesocket((SOCKET)h); }

static int set_int(uintptr_t h, int level, int opt, int v) {
  return setsockopt((SOCKET)h, level, opt, (const char *)&v, sizeof v) != 0 ? wsa_err() : 0;
}

/* Turn a reporting ioctl off (SIO_UDP_CONNRESET, SIO_UDP_NETRESET). */
static int ioctl_off(uintptr_t h, DWORD code) {
  BOOL off = FALSE;
  DWORD n = 0;
  return WSAIoctl((SOCKET)h, code, &off, sizeof off, NULL, 0, &n, NULL, NULL) != 0 ? wsa_err() : 0;
}

int corio__sock_setup(uintptr_t h, int family, int sotype, int role, bool v6only) {
  int err = 0;
  if (family == CORIO__AF_INET6) err = set_int(h, IPPROTO_IPV6, IPV6_V6ONLY, v6only);
  /* No SO_REUSEADDR for listeners: on Windows it lets another socket take
   * the port over (Go sets nothing either). */
  if (!err && family != CORIO__AF_UNIX && sotype == CORIO__SOCK_DGRAM)
    err = set_int(h, SOL_SOCKET, SO_BROADCAST, 1);
  /* An unconnected UDP socket would otherwise fail its next receive with
   * WSAECONNRESET whenever one of its datagrams drew an ICMP port
   * unreachable (Go turns it off too): one departed peer must not disturb
   * a server's reads. A connected socket keeps the report, as on Unix,
   * where it reads ECONNREFUSED. */
  if (!err && family != CORIO__AF_UNIX && sotype == CORIO__SOCK_DGRAM &&
      role == CORIO__SOCK_ROLE_PACKET) {
    err = ioctl_off(h, SIO_UDP_CONNRESET);
    if (!err) ioctl_off(h, SIO_UDP_NETRESET); /* TTL expiry: best effort */
  }
  return err;
}

int corio__sock_bind(uintptr_t h, const corio__netaddr_t *a) {
  struct sockaddr_storage ss;
  int len;
  int err = to_sys(a, &ss, &len);
  if (err) return err;
  return bind((SOCKET)h, (struct sockaddr *)&ss, len) != 0 ? wsa_err() : 0;
}

int corio__sock_listen(uintptr_t h) {
  /* SOMAXCONN asks the provider for its largest backlog. */
  return listen((SOCKET)h, SOMAXCONN) != 0 ? wsa_err() : 0;
}

/* ---- operations that park ---- */

int corio__sock_accept(corio__fd_t *lfd, int family, uintptr_t *h, corio__netaddr_t *peer) {
  /* AcceptEx's two addresses; the peer's is read back from it. */
  char addrbuf[2 * (sizeof(struct sockaddr_storage) + 16)];
  for (;;) {
    uintptr_t s;
    int err = corio__sock_open(family, CORIO__SOCK_STREAM, &s);
    if (err) return err;
    err = corio__fd_accept_ex(lfd, s, addrbuf, sizeof addrbuf);
    if (err == 0 && peer) {
      struct sockaddr_storage ss;
      int len = 0;
      err = corio__fd_accept_ex_peer(lfd, addrbuf, &ss, &len);
      if (err == 0) from_sys(&ss, len, family, peer);
    }
    if (err == 0) {
      *h = s;
      return 0;
    }
    closesocket((SOCKET)s);
    /* The peer left between its connect and our accept: take the next.
     * (Wine completes that AcceptEx, then the accept-context update fails
     * with WSAENOTCONN.) */
    if (err != win32_err(ERROR_NETNAME_DELETED) && err != win32_err(WSAECONNRESET) &&
        err != win32_err(WSAECONNABORTED) && err != win32_err(WSAENOTCONN))
      return err;
  }
}

/* ConnectEx wants a bound socket: bind an unbound one to the wildcard
 * address of its family. */
static int bind_any(SOCKET s, int sa_family) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  if (getsockname(s, (struct sockaddr *)&ss, &len) == 0) return 0; /* bound already */
  if (WSAGetLastError() != WSAEINVAL) return wsa_err();
  memset(&ss, 0, sizeof ss);
  ss.ss_family = (ADDRESS_FAMILY)sa_family;
  len = sa_family == AF_INET6 ? (int)sizeof(struct sockaddr_in6) : (int)sizeof(struct sockaddr_in);
  return bind(s, (struct sockaddr *)&ss, len) != 0 ? wsa_err() : 0;
}

/* A connect that ConnectEx cannot make (datagram and Unix sockets), as Go
 * does: under the write lock, a datagram socket's connect only records the
 * peer; a Unix stream connect may block a moment, so the P moves on
 * meanwhile (no deadline applies to it). */
static int plain_connect(corio__fd_t *fd, const struct sockaddr *sa, int len, bool may_block) {
  int err = corio__fd_write_lock(fd);
  if (err) return err;
  if (may_block) corio_syscall_enter();
  int r = connect((SOCKET)fd->handle, sa, len);
  int code = r != 0 ? WSAGetLastError() : 0;
  if (may_block) corio_syscall_exit();
  corio__fd_write_unlock(fd);
  return code ? win32_err((DWORD)code) : 0;
}

int corio__sock_connect(corio__fd_t *fd, const corio__netaddr_t *a) {
  struct sockaddr_storage ss;
  int len;
  int err = to_sys(a, &ss, &len);
  if (err) return err;
  if (fd->kind == CORIO__FD_DGRAM) return plain_connect(fd, (struct sockaddr *)&ss, len, false);
  if (a->family == CORIO__AF_UNIX) return plain_connect(fd, (struct sockaddr *)&ss, len, true);
  /* The FD is not shared yet (dial owns it), so binding outside the lock
   * races with nothing. */
  err = bind_any((SOCKET)fd->handle, ss.ss_family);
  if (err) return err;
  return corio__fd_connect_ex(fd, (struct sockaddr *)&ss, len);
}

ptrdiff_t corio__sock_recvfrom(corio__fd_t *fd, void *buf, size_t len, corio__netaddr_t *from) {
  struct sockaddr_storage ss;
  int sslen = sizeof ss;
  memset(&ss, 0, sizeof ss);
  ptrdiff_t n = corio__fd_recvfrom(fd, buf, len, (struct sockaddr *)&ss, &sslen);
  if (n >= 0 && from) {
    int family = ss.ss_family == AF_UNSPEC ? CORIO__AF_UNIX : CORIO__AF_UNSPEC;
    from_sys(&ss, sslen, family, from);
  }
  return n;
}

ptrdiff_t corio__sock_sendto(corio__fd_t *fd, const void *buf, size_t len,
                             const corio__netaddr_t *to) {
  struct sockaddr_storage ss;
  int sslen = 0;
  if (to) {
    int err = to_sys(to, &ss, &sslen);
    if (err) return err;
  }
  return corio__fd_sendto(fd, buf, len, to ? (struct sockaddr *)&ss : NULL, sslen);
}

int corio__sock_shutdown_write(corio__fd_t *fd) { return corio__fd_shutdown(fd, SD_SEND); }

/* ---- options and addresses ---- */

int corio__sock_set_nodelay(uintptr_t h, bool on) {
  return set_int(h, IPPROTO_TCP, TCP_NODELAY, on);
}

int corio__sock_set_keepalive(uintptr_t h, bool on, int64_t period_ns) {
  int err = set_int(h, SOL_SOCKET, SO_KEEPALIVE, on);
  if (err || !on || period_ns <= 0) return err;
  /* Idle time and interval in milliseconds, rounded up (as Go does). */
  int64_t ms = period_ns / 1000000 + (period_ns % 1000000 != 0);
  ULONG v = ms > (int64_t)ULONG_MAX ? ULONG_MAX : (ULONG)ms;
  struct tcp_keepalive ka = {.onoff = 1, .keepalivetime = v, .keepaliveinterval = v};
  DWORD n = 0;
  return WSAIoctl((SOCKET)h, SIO_KEEPALIVE_VALS, &ka, sizeof ka, NULL, 0, &n, NULL, NULL) != 0
             ? wsa_err()
             : 0;
}

static int name_of(uintptr_t h, int family, corio__netaddr_t *a, bool peer) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  int r = peer ? getpeername((SOCKET)h, (struct sockaddr *)&ss, &len)
               : getsockname((SOCKET)h, (struct sockaddr *)&ss, &len);
  if (r != 0) return wsa_err();
  from_sys(&ss, len, family, a);
  return 0;
}

int corio__sock_local_addr(uintptr_t h, int family, corio__netaddr_t *a) {
  return name_of(h, family, a, false);
}

int corio__sock_peer_addr(uintptr_t h, int family, corio__netaddr_t *a) {
  return name_of(h, family, a, true);
}

/* ---- names ---- */

/* GetAddrInfoW's codes (WSA errors) as corio errors (corio/net.h). */
static int resolve_err(int code) {
  switch (code) {
  case WSAHOST_NOT_FOUND:
  case WSANO_DATA: return CORIO_ENOSUCHHOST;
  case WSATRY_AGAIN: return CORIO_ERESOLVAGAIN;
  case WSA_NOT_ENOUGH_MEMORY: return CORIO_ENOMEM;
  default: return CORIO_ERESOLVFAIL;
  }
}

/* UTF-8 to a new UTF-16 string (corio__free it), or NULL. */
static wchar_t *wide(const char *s) {
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
  if (n <= 0) return NULL;
  wchar_t *w = corio__calloc((size_t)n, sizeof *w);
  if (w && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
    corio__free(w);
    w = NULL;
  }
  return w;
}

int corio__sock_resolve(const char *host, int family, corio__netaddr_t *out, int max, int *count) {
  *count = 0;
  int err = corio__wsa_init();
  if (err) return err;
  wchar_t *whost = wide(host);
  if (!whost) return CORIO_ENOSUCHHOST; /* not UTF-8: no host has that name */
  ADDRINFOW hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = family == CORIO__AF_INET ? AF_INET : family == CORIO__AF_INET6 ? AF_INET6 : AF_UNSPEC;
  /* One socket type, or every address comes back once per type. No
   * AI_ADDRCONFIG: Windows does not count loopback as configured, so a
   * machine without a network could not resolve "localhost". */
  hints.ai_socktype = SOCK_STREAM;
  int rc = GetAddrInfoW(whost, NULL, &hints, &res);
  corio__free(whost);
  if (rc != 0) return resolve_err(rc);
  int n = 0;
  for (ADDRINFOW *ai = res; ai && n < max; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    memcpy(&ss, ai->ai_addr, ai->ai_addrlen < sizeof ss ? ai->ai_addrlen : sizeof ss);
    corio__netaddr_t a;
    from_sys(&ss, (int)ai->ai_addrlen, CORIO__AF_UNSPEC, &a);
    bool dup = false;
    for (int i = 0; i < n && !dup; i++)
      dup = out[i].family == a.family && memcmp(out[i].ip, a.ip, 16) == 0 &&
            out[i].scope_id == a.scope_id;
    if (!dup) out[n++] = a;
  }
  FreeAddrInfoW(res);
  *count = n;
  return n > 0 ? 0 : CORIO_ENOADDR;
}

int corio__sock_zone_index(const char *name, uint32_t *index) {
  NET_IFINDEX i = if_nametoindex(name);
  if (i == 0) return CORIO_EBADADDR;
  *index = i;
  return 0;
}

int corio__sock_unlink(const char *path) {
  wchar_t *w = wide(path);
  if (!w) return win32_err(ERROR_INVALID_NAME);
  int err = DeleteFileW(w) ? 0 : win32_err(GetLastError());
  corio__free(w);
  return err;
}

/* ---- errors ---- */

int corio__sock_errno(int err) {
  uint32_t code = corio_err_win32(err);
  if (!code) return corio_err_errno(err);
  switch (code) {
  case WSAEINTR: return EINTR;
  case WSAEBADF: case WSAENOTSOCK: return code == WSAEBADF ? EBADF : ENOTSOCK;
  case WSAEACCES: case ERROR_ACCESS_DENIED: return EACCES;
  case WSAEFAULT: return EFAULT;
  case WSAEINVAL: case ERROR_INVALID_PARAMETER: return EINVAL;
  case WSAEMFILE: return EMFILE;
  case WSAEWOULDBLOCK: return EWOULDBLOCK;
  case WSAEINPROGRESS: return EINPROGRESS;
  case WSAEALREADY: return EALREADY;
  case WSAEDESTADDRREQ: return EDESTADDRREQ;
  case WSAEMSGSIZE: case ERROR_MORE_DATA: return EMSGSIZE;
  case WSAEPROTOTYPE: return EPROTOTYPE;
  case WSAENOPROTOOPT: return ENOPROTOOPT;
  case WSAEPROTONOSUPPORT: case WSAESOCKTNOSUPPORT: return EPROTONOSUPPORT;
  case WSAEOPNOTSUPP: return EOPNOTSUPP;
  case WSAEPFNOSUPPORT: case WSAEAFNOSUPPORT: return EAFNOSUPPORT;
  case WSAEADDRINUSE: case ERROR_ADDRESS_ALREADY_ASSOCIATED: return EADDRINUSE;
  case WSAEADDRNOTAVAIL: return EADDRNOTAVAIL;
  case WSAENETDOWN: return ENETDOWN;
  case WSAENETUNREACH: case ERROR_NETWORK_UNREACHABLE: return ENETUNREACH;
  case WSAENETRESET: return ENETRESET;
  case WSAECONNABORTED: case ERROR_CONNECTION_ABORTED: return ECONNABORTED;
  /* Wine completes a receive on a reset connection with 64. */
  case WSAECONNRESET: case ERROR_NETNAME_DELETED: return ECONNRESET;
  case WSAENOBUFS: case WSA_NOT_ENOUGH_MEMORY: return code == WSAENOBUFS ? ENOBUFS : ENOMEM;
  case WSAEISCONN: return EISCONN;
  case WSAENOTCONN: return ENOTCONN;
  /* Writing after one's own shutdown: EPIPE on Unix. */
  case WSAESHUTDOWN: case ERROR_BROKEN_PIPE: case ERROR_NO_DATA: return EPIPE;
  case WSAETIMEDOUT: case ERROR_SEM_TIMEOUT: return ETIMEDOUT;
  /* ConnectEx reports a refusal as 1225 under Wine; an ICMP port
   * unreachable arrives as 1234. */
  case WSAECONNREFUSED: case ERROR_CONNECTION_REFUSED: case ERROR_PORT_UNREACHABLE:
    return ECONNREFUSED;
  case WSAEHOSTDOWN: case WSAEHOSTUNREACH: case ERROR_HOST_UNREACHABLE: return EHOSTUNREACH;
  case ERROR_FILE_NOT_FOUND: case ERROR_PATH_NOT_FOUND: return ENOENT;
  case WSAENAMETOOLONG: return ENAMETOOLONG;
  default: return 0;
  }
}
