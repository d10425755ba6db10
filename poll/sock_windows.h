/* poll/sock_windows.h: the socket calls only Windows has (poll/sock_windows.c),
 * for sockets wrapped in an FD of kind CORIO__FD_STREAM or CORIO__FD_DGRAM,
 * and Winsock's start-up, once per process. */
#ifndef CORIO_POLL_SOCK_WINDOWS_H
#define CORIO_POLL_SOCK_WINDOWS_H

#include <winsock2.h>
#include <windows.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fd.h"

/* Start Winsock (2.2) the first time; later calls return the first result.
 * 0 or the Win32 translation of WSAStartup's error. */
int corio__wsa_init(void);

/* Whether sockets may skip the port on synchronous success: false when a
 * layered provider without IFS handles is installed (or the providers could
 * not be listed). Starts Winsock if needed. */
bool corio__wsa_skip_sync_ok(void);

/* Connect the socket, which the caller has bound (ConnectEx requires it), to
 * sa, parking meanwhile; the write deadline applies. 0, the closing error,
 * CORIO_ETIMEOUT, or the WSA error (WSAECONNREFUSED, ERROR_CONNECTION_REFUSED
 * as Wine reports it ...). */
int corio__fd_connect_ex(corio__fd_t *fd, const struct sockaddr *sa, int salen);

/* Accept a connection on the listening socket into `accepted`, a fresh
 * unbound socket of the same family, created by the caller for overlapped
 * use; the read deadline applies. addrbuf receives AcceptEx's two addresses
 * (at least 2 * (sizeof(struct sockaddr_storage) + 16) bytes). On success the
 * accepted socket inherits the listener's properties (SO_UPDATE_ACCEPT_CONTEXT)
 * and the caller wraps it in an FD of its own. 0, the closing error,
 * CORIO_ETIMEOUT, CORIO_EINVAL (addrbuf too small), or the WSA error; after
 * ERROR_NETNAME_DELETED, WSAECONNRESET or WSAECONNABORTED (the peer left
 * before the accept completed), or WSAENOTCONN from the accept-context update
 * (the same, as Wine reports it), the caller should close `accepted` and try
 * again with a new one.
 * The caller keeps ownership of `accepted` in every case. */
int corio__fd_accept_ex(corio__fd_t *fd, uintptr_t accepted, void *addrbuf, size_t addrbuf_len);

/* The peer's address from the buffer a successful corio__fd_accept_ex on
 * listener fd filled (GetAcceptExSockaddrs), copied into *peer (zeroed
 * first) with its length in *peerlen (0 when the system gave none, e.g. an
 * unnamed Unix peer). Holds a reference meanwhile. 0, CORIO_EINVAL (not a
 * socket, a NULL argument), the closing error, or the WSA error of the
 * extension lookup. */
int corio__fd_accept_ex_peer(corio__fd_t *fd, const void *addrbuf, struct sockaddr_storage *peer,
                             int *peerlen);

/* Receive one datagram (WSARecvFrom) into buf, parking until one comes; the
 * read deadline applies. A datagram longer than len is cut to len bytes and
 * the rest discarded (as recvfrom does on Unix). len 0 still takes one
 * datagram off the queue. from (may be NULL) receives the sender's address,
 * at most *fromlen bytes of it, and *fromlen its full length (0 when the
 * system gave none, e.g. on a connected stream socket). Returns the count (0
 * for an empty datagram), CORIO_EEOF for a zero read on a stream socket, or
 * an error: CORIO_EINVAL (not a socket, buf NULL with len > 0, from without
 * fromlen), the closing error, CORIO_ETIMEOUT, CORIO_ETOOMANY, or the WSA
 * error (WSAECONNRESET: an earlier datagram drew an ICMP port unreachable,
 * unless SIO_UDP_CONNRESET is off on the socket). */
ptrdiff_t corio__fd_recvfrom(corio__fd_t *fd, void *buf, size_t len, struct sockaddr *from,
                             int *fromlen);

/* Send buf as one datagram (WSASendTo) to `to`, or to the connected peer when
 * to is NULL, parking while the OS holds it; the write deadline applies. len 0
 * sends an empty datagram. Returns the count (len), or an error: CORIO_EINVAL
 * (not a socket, buf NULL with len > 0, tolen out of range), WSAEMSGSIZE (len
 * above CORIO__FD_MAX_RW or the protocol's limit), the closing error,
 * CORIO_ETIMEOUT, CORIO_ETOOMANY, or the WSA error (WSAEDESTADDRREQ when to is
 * NULL on an unconnected socket ...). The call is made once, never split. */
ptrdiff_t corio__fd_sendto(corio__fd_t *fd, const void *buf, size_t len, const struct sockaddr *to,
                           int tolen);

/* Shut down the receiving side (how = SD_RECEIVE, 0), the sending side
 * (SD_SEND, 1: the peer reads end of stream) or both (SD_BOTH, 2), the values
 * of Unix's SHUT_RD / SHUT_WR / SHUT_RDWR. Under a reference, without a lock:
 * it does not wait for reads or writes in flight. 0, CORIO_EINVAL (not a
 * socket, how out of range), the closing error, or the WSA error
 * (WSAENOTCONN: a socket that ConnectEx connected without
 * SO_UPDATE_CONNECT_CONTEXT, or never connected). */
int corio__fd_shutdown(corio__fd_t *fd, int how);

/* CORIO__FD_STREAM or CORIO__FD_DGRAM when handle is a socket, else 0
 * (starts Winsock if needed; os/ uses it to classify handles). */
int corio__fd_win_socket_kind(uintptr_t handle);

#endif
