/* corio net: TCP, UDP and Unix-domain sockets for coroutines (after Go's net).
 *
 * Networks and addresses, as in Go:
 *   stream:   "tcp", "tcp4", "tcp6"   "host:port", "[v6addr%zone]:port", ":port"
 *             "unix"                  a path; on Linux "@name" is an abstract name
 *   datagram: "udp", "udp4", "udp6"   as tcp
 *             "unixgram"              as unix
 * The host may be an IPv4 literal ("127.0.0.1"), an IPv6 literal in brackets
 * ("[::1]"), a name ("localhost"), or empty (every local address when
 * listening; the local system when dialling). The port is decimal, 0..65535;
 * 0 when listening picks a free port (read it back with corio_listener_addr).
 * Numeric addresses never reach the resolver. A name is resolved with the
 * system resolver (getaddrinfo) inside corio_syscall_enter/exit, so the P
 * serves other coroutines while the resolver blocks; "tcp4" / "udp4" keep
 * only IPv4 results, "tcp6" / "udp6" only IPv6. A host that looks numeric
 * but is not a valid IP literal ("1.2.3", "300.1.1.1") is an invalid address,
 * not a name. Listening on "tcp" / "udp" with an empty or unspecified host
 * uses a dual-stack IPv6 socket where the system has one (the bound address
 * then reads "[::]:port"), else IPv4; a name listens on its first IPv4
 * address, or its first address when it has none.
 *
 * Addresses come back as text: "127.0.0.1:41234", "[::1]:8080",
 * "[fe80::1%2]:80" (zone as an index), a path, "@name", or "" for an unnamed
 * Unix socket. Buffers of CORIO_NET_ADDRSTRLEN bytes always suffice.
 *
 * Objects. A listener or connection owns its socket. Reads are serialised
 * with each other, writes with each other; a read and a write may run at the
 * same time, and deadlines and close may come from any coroutine at any
 * moment. Calls that park (accept, dial, read, write, read_from, write_to)
 * must run on a coroutine (CORIO_ENOTCORO otherwise); every call needs an
 * initialised runtime (CORIO_ENOTINIT). Resolving a name off a coroutine
 * (listen between corio_init and corio_main) simply blocks that thread.
 *
 * Deadlines are absolute monotonic nanoseconds (corio_nanotime()); 0 clears.
 * A deadline already past makes pending and later operations of its direction
 * fail with CORIO_ETIMEOUT at once, even with data buffered, until it is
 * moved; a deadline may be moved or cleared while an operation is blocked.
 *
 * Closing: close wakes every parked operation (accept, read, write), which
 * returns CORIO_ENETCLOSING ("use of closed network connection") promptly;
 * every later call fails the same way. The object stays valid until free.
 *
 * Errors. Every function returns 0, a count, or a negative corio error
 * (corio/error.h); corio_strerror names each one. Socket errors from the
 * system are passed through (Unix: -errno; Windows: the WSA code as a Win32
 * error); corio_net_errno() gives the POSIX errno for either, so portable
 * code can test for ECONNREFUSED, ECONNRESET, EADDRINUSE, EPIPE ... The
 * common ones:
 *   refused            ECONNREFUSED (dial)
 *   reset              ECONNRESET (read, write); EPIPE (write after the
 *                      peer closed; not a signal: the runtime ignores
 *                      SIGPIPE from corio_init on, as Go's does)
 *   deadline           CORIO_ETIMEOUT
 *   closed             CORIO_ENETCLOSING
 *   address in use     EADDRINUSE (listen)
 *   end of stream      CORIO_EEOF (read)
 *   bad input          CORIO_EINVAL (NULL pointers, negative timeouts),
 *                      CORIO_EUNKNOWNNET, CORIO_EBADADDR, CORIO_EMISSINGPORT,
 *                      CORIO_EBADPORT (below)
 *   resolution         CORIO_ENOSUCHHOST, CORIO_ERESOLVAGAIN,
 *                      CORIO_ERESOLVFAIL, CORIO_ENOADDR, CORIO_ENOMEM
 * corio_net_error_text() formats an error the way Go's net.OpError reads,
 * naming the operation, the network, the address and, for resolver errors,
 * the host: "dial tcp: lookup nosuch.invalid: no such host".
 *
 * The net error codes (range -4130..-4139 of corio's own errors):
 *   CORIO_EUNKNOWNNET  -4130  "unknown network"
 *   CORIO_EBADADDR     -4131  "invalid address": not an IP literal although
 *                      numeric ("1.2.3"), bad brackets or zone, too many
 *                      colons, an empty or over-long Unix path, an
 *                      abstract name off Linux
 *   CORIO_EMISSINGPORT -4132  "missing port in address" ("host", "[::1]")
 *   CORIO_EBADPORT     -4133  "invalid port" (not decimal, above 65535)
 *   CORIO_ENOSUCHHOST  -4134  "no such host" (resolver: EAI_NONAME,
 *                      EAI_NODATA, EAI_ADDRFAMILY; Windows WSAHOST_NOT_FOUND,
 *                      WSANO_DATA)
 *   CORIO_ERESOLVAGAIN -4135  "temporary failure in name resolution"
 *                      (EAI_AGAIN; WSATRY_AGAIN)
 *   CORIO_ERESOLVFAIL  -4136  "non-recoverable failure in name resolution"
 *                      (EAI_FAIL; WSANO_RECOVERY; and any other resolver
 *                      failure: EAI_SERVICE, EAI_FAMILY, EAI_SOCKTYPE ...)
 *   CORIO_ENOADDR      -4137  "no suitable address found": no address of
 *                      the network's family ("tcp4" with "[::1]:80", a name
 *                      with only IPv6 addresses for "udp4")
 * EAI_MEMORY is CORIO_ENOMEM and EAI_SYSTEM the errno it carries.
 *
 * Every function that takes an object returns CORIO_EINVAL for NULL.
 */
#ifndef CORIO_NET_H
#define CORIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corio/error.h"
#include "corio/poll.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_listener corio_listener_t; /* a stream listener (tcp, tcp4, tcp6, unix) */
typedef struct corio_conn corio_conn_t;         /* a stream or datagram connection */

/* Room for any address text corio writes (a 108-byte Unix path, or
 * "[" IPv6 "%" zone "]:" port), with its NUL. */
#define CORIO_NET_ADDRSTRLEN 128

/* ---- listeners ---- */

/* Listen on address for stream connections ("tcp", "tcp4", "tcp6", "unix").
 * TCP listeners set SO_REUSEADDR (Unix), as Go does; a Unix listener creates
 * its socket file and removes it when closed. Errors: CORIO_EINVAL (network,
 * address or out NULL), CORIO_EUNKNOWNNET (including datagram networks),
 * CORIO_EBADADDR, CORIO_EMISSINGPORT, CORIO_EBADPORT, the resolver's errors,
 * CORIO_ENOTINIT, CORIO_ENOMEM, OS errors (EADDRINUSE, EACCES, EADDRNOTAVAIL, EMFILE ...). */
CORIO_API int corio_net_listen(const char *network, const char *address, corio_listener_t **out);

/* Wait for the next connection and return it in *out (a connection whose
 * local and remote addresses are known). Parks the coroutine; the listener's
 * deadline applies. Errors: CORIO_ENETCLOSING (closed, or closed while
 * parked), CORIO_ETIMEOUT, CORIO_ETOOMANY, CORIO_ENOTCORO, CORIO_ENOMEM (the
 * connection is dropped), OS errors (EMFILE, ENFILE: the pending connection
 * stays queued). */
CORIO_API int corio_listener_accept(corio_listener_t *l, corio_conn_t **out);

/* The bound address as text ("127.0.0.1:41234", "[::]:8080", a path) into
 * buf; returns its length (without the NUL). Works after close too.
 * Errors: CORIO_EINVAL (buf NULL), CORIO_ERANGE (len too small; buf then
 * holds as much as fits, NUL-terminated when len > 0). */
CORIO_API int corio_listener_addr(corio_listener_t *l, char *buf, size_t len);

/* Deadline for accept (absolute ns, 0 = none). Errors: CORIO_ENETCLOSING. */
CORIO_API int corio_listener_set_deadline(corio_listener_t *l, int64_t deadline);

/* Run fn(handle, arg) with the raw listening socket, which stays open
 * meanwhile. fn's result. Errors (fn not called): CORIO_ENETCLOSING,
 * CORIO_ETOOMANY, CORIO_EINVAL (fn NULL). */
CORIO_API int corio_listener_control(corio_listener_t *l, int (*fn)(corio_handle_t h, void *arg), void *arg);

/* Stop listening: parked accepts return CORIO_ENETCLOSING; a Unix listener
 * removes its socket file (not an abstract name). 0 or the OS's close error.
 * Errors: CORIO_ENETCLOSING when already closed. */
CORIO_API int corio_listener_close(corio_listener_t *l);

/* Release the listener, closing it first if needed. Only once no coroutine
 * is inside a call on it any more. NULL is ignored. */
CORIO_API void corio_listener_free(corio_listener_t *l);

/* ---- dialling ---- */

/* Connect to address over network (stream networks, or "udp*" / "unixgram"
 * for a connected datagram socket, whose reads take datagrams from that peer
 * only and whose writes go to it). A name is resolved first; its addresses
 * are tried in order until one connects, and when none does the last
 * address's error is returned. deadline (absolute ns, 0 = none) bounds the
 * whole call, resolution included as far as the resolver allows (a resolver
 * call that is already running is not interrupted; its result is discarded
 * when the deadline has passed). Errors: CORIO_EINVAL, CORIO_EUNKNOWNNET,
 * CORIO_EBADADDR, CORIO_EMISSINGPORT, CORIO_EBADPORT, the resolver's errors,
 * CORIO_ETIMEOUT, CORIO_ENOTINIT, CORIO_ENOTCORO, CORIO_ENOMEM, OS errors
 * (ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, ENOENT for a missing Unix path
 * ...). A Unix or UDP dial with an empty host or port: "tcp" with ":80"
 * dials the local system, as Go does. */
CORIO_API int corio_net_dial(const char *network, const char *address, int64_t deadline, corio_conn_t **out);

/* corio_net_dial with deadline now + timeout_ns; timeout_ns 0 = no deadline.
 * Errors: as corio_net_dial, CORIO_EINVAL for timeout_ns < 0. */
CORIO_API int corio_net_dial_timeout(const char *network, const char *address, int64_t timeout_ns, corio_conn_t **out);

/* ---- connections ---- */

/* Read up to len bytes. Stream: the count (> 0), CORIO_EEOF at end of stream.
 * Datagram: one datagram, truncated to len (the rest is dropped); 0 for an
 * empty datagram. 0 when len is 0 on a stream (no system call). Errors:
 * CORIO_ENETCLOSING, CORIO_ETIMEOUT (read deadline), CORIO_ETOOMANY,
 * CORIO_EINVAL (buf NULL with len > 0), CORIO_ENOTCORO, OS errors
 * (ECONNRESET, ECONNREFUSED on a connected UDP socket whose peer is gone). */
CORIO_API ptrdiff_t corio_conn_read(corio_conn_t *c, void *buf, size_t len);

/* Write all len bytes (stream), waiting for room as needed; or send one
 * datagram of len bytes (an empty datagram when len is 0). Returns len; a
 * shorter count when an error stopped a stream write after some bytes went
 * out (the error itself comes back from the next call when it persists);
 * otherwise an error: CORIO_ENETCLOSING, CORIO_ETIMEOUT (write deadline),
 * CORIO_ETOOMANY, CORIO_EINVAL (buf NULL with len > 0), CORIO_ENOTCORO, OS
 * errors (EPIPE after close-write or when the peer is gone, ECONNRESET,
 * EMSGSIZE for an oversized datagram, EDESTADDRREQ on an unconnected
 * datagram socket). */
CORIO_API ptrdiff_t corio_conn_write(corio_conn_t *c, const void *buf, size_t len);

/* corio_conn_write reporting both results, as Go's Write does (and as
 * corio_fd_write_ex): returns 0 when all len bytes went out (one datagram of
 * len bytes), otherwise the error that stopped the write, whether or not some
 * bytes went out first (a write deadline that passed after part of a stream
 * write gives CORIO_ETIMEOUT with the part's count); *written receives the
 * count written in every case (0 when len is 0, and 0 for a datagram that
 * was not sent). Errors: those of corio_conn_write, plus CORIO_ESHORTWRITE
 * (the OS accepted no bytes and reported no error), and CORIO_EINVAL (c or
 * written NULL, buf NULL with len > 0; *written is then 0 when written is
 * not NULL). */
CORIO_API ptrdiff_t corio_conn_write_ex(corio_conn_t *c, const void *buf, size_t len, size_t *written);

/* Close: parked reads and writes return CORIO_ENETCLOSING. 0 or the OS's
 * close error. Errors: CORIO_ENETCLOSING when already closed. */
CORIO_API int corio_conn_close(corio_conn_t *c);

/* Half close (stream): no more writes; the peer reads end of stream and may
 * still write back, which this side can read. Later writes fail with EPIPE.
 * Errors: CORIO_ENETCLOSING, CORIO_ENOTSUP (datagram sockets), OS errors
 * (ENOTCONN). */
CORIO_API int corio_conn_close_write(corio_conn_t *c);

/* Release the connection, closing it first if needed. Only once no coroutine
 * is inside a call on it any more (join the ones close woke). NULL ignored. */
CORIO_API void corio_conn_free(corio_conn_t *c);

/* Deadlines for both directions / reads / writes (see above).
 * Errors: CORIO_ENETCLOSING. */
CORIO_API int corio_conn_set_deadline(corio_conn_t *c, int64_t deadline);
CORIO_API int corio_conn_set_read_deadline(corio_conn_t *c, int64_t deadline);
CORIO_API int corio_conn_set_write_deadline(corio_conn_t *c, int64_t deadline);

/* The local / remote address as text into buf (see the top of this file);
 * returns its length. Datagram sockets that are not connected have no
 * remote address: "". Work after close too. Errors: CORIO_EINVAL (buf NULL),
 * CORIO_ERANGE (len too small; buf holds what fits). */
CORIO_API int corio_conn_local_addr(corio_conn_t *c, char *buf, size_t len);
CORIO_API int corio_conn_remote_addr(corio_conn_t *c, char *buf, size_t len);

/* Run fn(handle, arg) with the raw socket, which stays open meanwhile (Go's
 * SyscallConn().Control). Do not change its blocking mode. fn's result.
 * Errors (fn not called): CORIO_ENETCLOSING, CORIO_ETOOMANY, CORIO_EINVAL. */
CORIO_API int corio_conn_control(corio_conn_t *c, int (*fn)(corio_handle_t h, void *arg), void *arg);

/* TCP_NODELAY (Go sets it on every TCP connection, and so does corio: dial
 * and accept turn it on). Errors: CORIO_ENETCLOSING, CORIO_ENOTSUP (not TCP),
 * OS errors. */
CORIO_API int corio_conn_set_nodelay(corio_conn_t *c, bool on);

/* SO_KEEPALIVE, and when on with period_ns > 0 the idle time before the first
 * probe and the interval between probes (whole seconds, rounded up; Windows:
 * milliseconds). period_ns 0 keeps the system's timing. Errors:
 * CORIO_ENETCLOSING, CORIO_ENOTSUP (not TCP), CORIO_EINVAL (period_ns < 0),
 * OS errors. */
CORIO_API int corio_conn_set_keepalive(corio_conn_t *c, bool on, int64_t period_ns);

/* ---- datagrams ---- */

/* A datagram socket bound to address ("udp", "udp4", "udp6", "unixgram"),
 * not connected: use read_from / write_to. A "unixgram" socket file is
 * removed when the connection is closed. Errors: as corio_net_listen
 * (CORIO_EUNKNOWNNET for stream networks). */
CORIO_API int corio_net_listen_packet(const char *network, const char *address, corio_conn_t **out);

/* Receive one datagram (truncated to len) and write its sender's address as
 * text into addr (an unnamed Unix sender gives ""). addr may be NULL with
 * addrlen 0 when the address is not wanted; otherwise addrlen must be at
 * least CORIO_NET_ADDRSTRLEN, checked before anything is received, so no
 * datagram is lost to a small buffer. Returns the datagram's length as
 * received (at most len; 0 for an empty datagram). On a connected socket
 * addr gets the peer. Errors: as corio_conn_read, CORIO_ERANGE (addrlen
 * below CORIO_NET_ADDRSTRLEN), CORIO_EINVAL (addr NULL with addrlen > 0),
 * CORIO_ENOTSUP (stream sockets). */
CORIO_API ptrdiff_t corio_conn_read_from(corio_conn_t *c, void *buf, size_t len, char *addr, size_t addrlen);

/* Send one datagram of len bytes (len 0: an empty datagram) to addr, an
 * address of the socket's network given numerically ("127.0.0.1:9000",
 * "[::1]:9000", a path; names are not resolved here). Returns len. Errors:
 * as corio_conn_write, CORIO_EBADADDR / CORIO_EMISSINGPORT / CORIO_EBADPORT
 * (addr), CORIO_EINVAL (addr NULL), CORIO_ENOTSUP (stream sockets),
 * EISCONN (a connected socket, on some systems). */
CORIO_API ptrdiff_t corio_conn_write_to(corio_conn_t *c, const void *buf, size_t len, const char *addr);

/* ---- errors ---- */

/* Format err as Go's net.OpError prints, into buf (always NUL-terminated
 * when len > 0): "<op> <network> <address>: <message>", where op is what the
 * caller did ("dial", "listen", "read" ...; NULL or "" leaves out the
 * prefix), network and address what it passed (NULL leaves each out).
 * Resolver errors name the host and address errors the address, in place of
 * the address in the prefix, as Go does:
 *   "dial tcp: lookup nosuch.invalid: no such host"
 *   "dial tcp: address 1.2.3: missing port in address"
 *   "listen tcp: address 127.0.0.1:99999: invalid port"
 *   "dial tcp 127.0.0.1:1: connection refused"
 * Returns the length the full text needs (snprintf's convention).
 * Errors: CORIO_EINVAL (buf NULL with len > 0). */
CORIO_API int corio_net_error_text(char *buf, size_t len, int err, const char *op,
                                   const char *network, const char *address);

/* The POSIX errno behind a socket error from either platform (Windows WSA
 * codes mapped: WSAECONNREFUSED -> ECONNREFUSED ...), or 0 when err is not
 * an OS socket error. */
CORIO_API int corio_net_errno(int err);

#ifdef __cplusplus
}
#endif
#endif
