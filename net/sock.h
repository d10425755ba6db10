/* net/sock.h: the platform seam of net/. Every function below is defined by
 * each platform half (net/sock_unix.c with the net/ files named *_linux.c;
 * the net/ files named *_windows.c) and by nothing else; the portable files
 * (dial.c, listen.c, conn.c, addr.c, resolve.c, errors.c) call only
 * these, the poll FD (poll/fd.h) and the runtime base. No system socket
 * type crosses this seam: addresses are corio__netaddr_t (net/addr.h), handles uintptr_t,
 * errors negative corio errors (corio/error.h) exactly as the public API
 * reports them (Unix: -errno; Windows: the WSA code as a Win32 error).
 *
 * Conventions.
 * - `uintptr_t h` arguments are raw sockets. Before the socket belongs to an
 *   FD the caller owns it; afterwards the caller holds a reference on the FD
 *   (corio__fd_incref) for the duration of the call, so h stays open.
 * - `corio__fd_t *fd` arguments are sockets wrapped by corio__fd_init (kind
 *   CORIO__FD_STREAM or CORIO__FD_DGRAM, is_file false, pollable true). Such
 *   a function takes the FD's read or write lock itself (as corio__fd_read
 *   does), may park the coroutine, honours that direction's deadline, and
 *   fails with CORIO_ENETCLOSING once the FD is closed.
 * - Nothing here blocks the thread except corio__sock_resolve, which the
 *   caller brackets with corio_syscall_enter/exit.
 * - Start-up of the socket library (Winsock) is the platform's business:
 *   every function that may be first does it (once).
 *
 * Stable after its first commit; a change is announced in a commit message
 * starting "net/sock.h:". */
#ifndef CORIO_NET_SOCK_H
#define CORIO_NET_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "fd.h"

/* ---- creation and set-up (raw handles the caller owns) ---- */

/* A new socket of family (CORIO__AF_INET, INET6, UNIX) and sotype
 * (CORIO__SOCK_*), ready for corio__fd_init: non-blocking (Unix) or
 * overlapped (Windows), not inherited by child processes, SIGPIPE-free where
 * the system offers a per-socket switch (SO_NOSIGPIPE; Linux sends with
 * MSG_NOSIGNAL instead). 0, or EAFNOSUPPORT / EPROTONOSUPPORT (the family is
 * missing: no IPv6, or no AF_UNIX on this Windows), EMFILE, ENFILE, ENOBUFS,
 * CORIO_ENOMEM ... The caller owns *h on success. */
int corio__sock_open(int family, int sotype, uintptr_t *h);

/* Close a socket that no FD owns (error paths). */
void corio__sock_close_raw(uintptr_t h);

/* Roles for corio__sock_setup. */
enum {
  CORIO__SOCK_ROLE_LISTEN = 1, /* a stream listener */
  CORIO__SOCK_ROLE_DIAL = 2,   /* a dialled stream or datagram socket */
  CORIO__SOCK_ROLE_PACKET = 3, /* listen_packet's bound datagram socket */
};

/* Options a socket gets before bind or connect, as Go sets them: IPv6
 * sockets IPV6_V6ONLY = v6only (false: dual-stack); TCP listeners
 * SO_REUSEADDR on Unix (Windows: nothing, its SO_REUSEADDR means something
 * else); IP datagram sockets SO_BROADCAST. 0 or the OS's error. */
int corio__sock_setup(uintptr_t h, int family, int sotype, int role, bool v6only);

/* Bind h to a (any family; an unnamed Unix address is refused by the
 * caller). 0, or EADDRINUSE, EADDRNOTAVAIL, EACCES, ENOENT ... or
 * CORIO_EBADADDR when the platform cannot represent a (a Unix path too long
 * for its sun_path, an abstract name off Linux). */
int corio__sock_bind(uintptr_t h, const corio__netaddr_t *a);

/* Start listening with the system's largest backlog (Linux:
 * net.core.somaxconn; elsewhere SOMAXCONN). 0 or the OS's error. */
int corio__sock_listen(uintptr_t h);

/* ---- operations that park (FD arguments; see conventions) ---- */

/* Accept the next connection on listening socket lfd, whose family is
 * family: *h receives a new socket, ready for corio__fd_init (non-blocking
 * or overlapped, not inherited, accepted-context updated on Windows), and
 * *peer (may be NULL) its peer's address as accept reported it (Windows:
 * GetAcceptExSockaddrs; an unnamed Unix peer: path ""). Takes the read lock;
 * the read deadline applies; connections the peer aborted before they were
 * taken are skipped. 0, CORIO_ENETCLOSING, CORIO_ETIMEOUT, CORIO_ETOOMANY,
 * or the OS's error (EMFILE ...). */
int corio__sock_accept(corio__fd_t *lfd, int family, uintptr_t *h, corio__netaddr_t *peer);

/* Connect fd to a, parking until the connection is made or fails. Takes
 * the write lock; the write deadline applies (dial sets it). Windows binds
 * an unbound stream socket to the wildcard address first (ConnectEx's rule)
 * and updates the connect context. Datagram sockets just set their peer.
 * 0, CORIO_ENETCLOSING, CORIO_ETIMEOUT, CORIO_EBADADDR (a not
 * representable), or the OS's error (ECONNREFUSED, ENETUNREACH, ENOENT ...). */
int corio__sock_connect(corio__fd_t *fd, const corio__netaddr_t *a);

/* Receive one datagram (or, on a stream socket, up to len bytes) into buf,
 * truncating it to len (the rest of the datagram is dropped and len is
 * returned: Windows' WSAEMSGSIZE is that case, not an error); datagram
 * conns read through here too. *from (may be NULL) receives the sender's
 * address in the socket's family (an unnamed Unix sender: path ""). Takes the read
 * lock; the read deadline applies. Returns the count (0 for an empty
 * datagram; CORIO_EEOF for end of stream on a stream socket), or
 * CORIO_ENETCLOSING, CORIO_ETIMEOUT, CORIO_ETOOMANY, the OS's error
 * (ECONNREFUSED after an ICMP error on a connected UDP socket ...). */
ptrdiff_t corio__sock_recvfrom(corio__fd_t *fd, void *buf, size_t len, corio__netaddr_t *from);

/* Send one datagram of len bytes (len 0 too: an empty datagram is sent) to
 * *to, or to the connected peer when to is NULL. Takes the write lock; the
 * write deadline applies; waits for room. Returns len, or
 * CORIO_ENETCLOSING, CORIO_ETIMEOUT, CORIO_ETOOMANY, CORIO_EBADADDR (to not
 * representable), or the OS's error (EMSGSIZE, EDESTADDRREQ, ECONNREFUSED,
 * EISCONN ...). Never raises SIGPIPE. */
ptrdiff_t corio__sock_sendto(corio__fd_t *fd, const void *buf, size_t len,
                             const corio__netaddr_t *to);

/* Stream writes: corio__fd_write (poll/fd.h) must not raise SIGPIPE on the
 * platform's sockets either; stream reads are corio__fd_read. */

/* Shut down the sending side (shutdown(SHUT_WR) / SD_SEND): the peer reads
 * end of stream. Holds a reference, not a lock. 0, CORIO_ENETCLOSING, or
 * the OS's error (ENOTCONN). */
int corio__sock_shutdown_write(corio__fd_t *fd);

/* ---- options and addresses (raw handles under a reference) ---- */

/* TCP_NODELAY. 0 or the OS's error. */
int corio__sock_set_nodelay(uintptr_t h, bool on);

/* SO_KEEPALIVE = on; when on and period_ns > 0, the idle time before the
 * first probe and the probe interval are period_ns (Unix: TCP_KEEPIDLE and
 * TCP_KEEPINTVL in whole seconds rounded up, at least 1; Windows:
 * SIO_KEEPALIVE_VALS in milliseconds). 0 or the OS's error. */
int corio__sock_set_keepalive(uintptr_t h, bool on, int64_t period_ns);

/* The socket's own / its peer's address (getsockname / getpeername)
 * converted to *a in family (the socket's family; needed to read unnamed
 * Unix addresses). 0 or the OS's error (ENOTCONN for an unconnected peer). */
int corio__sock_local_addr(uintptr_t h, int family, corio__netaddr_t *a);
int corio__sock_peer_addr(uintptr_t h, int family, corio__netaddr_t *a);

/* ---- names ---- */

/* Resolve host (a NUL-terminated name, never numeric: the portable code
 * parses literals itself) with the system resolver (getaddrinfo), keeping
 * addresses of family (CORIO__AF_INET, INET6, or UNSPEC for both), in the
 * resolver's order, without duplicates, at most max of them (port 0) into
 * out; *count receives how many. Blocks the thread: the caller brackets the
 * call with corio_syscall_enter/exit. 0, or CORIO_ENOSUCHHOST,
 * CORIO_ERESOLVAGAIN, CORIO_ERESOLVFAIL, CORIO_ENOADDR (no address of
 * family), CORIO_ENOMEM, or the errno of EAI_SYSTEM (see corio/net.h for
 * which resolver codes map where). */
int corio__sock_resolve(const char *host, int family, corio__netaddr_t *out, int max,
                        int *count);

/* The interface index of an IPv6 zone name ("eth0"). 0 or CORIO_EBADADDR
 * (no such interface). Does not block. */
int corio__sock_zone_index(const char *name, uint32_t *index);

/* Remove the socket file a Unix listener created (path as bound; the
 * portable code never passes an abstract name). 0 or the OS's error. */
int corio__sock_unlink(const char *path);

/* The POSIX errno value behind err when err is an OS socket error of this
 * platform (Unix: corio_err_errno; Windows: WSAECONNREFUSED -> ECONNREFUSED
 * and the like, with the C library's errno constants), else 0. */
int corio__sock_errno(int err);

/* Notes for a completion-port half (Windows), from the contracts above:
 * open: WSASocketW(..., WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
 * accept: a fresh socket of `family`, AcceptEx through the FD's read
 * operation, GetAcceptExSockaddrs for *peer, SO_UPDATE_ACCEPT_CONTEXT, and a
 * new socket after ERROR_NETNAME_DELETED / WSAECONNRESET; connect (stream):
 * bind to the wildcard of a's family if unbound, ConnectEx through the write
 * operation, SO_UPDATE_CONNECT_CONTEXT; connect (datagram): connect();
 * recvfrom / sendto: WSARecvFrom / WSASendTo, len 0 included; errno: the
 * WSAE* codes to the C library's E* values (WSAESHUTDOWN, a write after
 * close-write, as EPIPE, which is what Unix reports); AF_UNIX where the system has it
 * (EAFNOSUPPORT otherwise, which the tests report as a skip). */

#endif
