/* poll/sock_unix.h: socket calls on the readiness path that the FD's own
 * read and write do not cover (poll/sock_unix.c): datagrams with addresses,
 * empty datagrams, shutdown. Used by the Unix half of net/. */
#ifndef CORIO_POLL_SOCK_UNIX_H
#define CORIO_POLL_SOCK_UNIX_H

#include <stddef.h>
#include <sys/socket.h>

#include "fd.h"

/* recvfrom under the read lock, waiting for data; sa / salen may be NULL.
 * One datagram (truncated to len; 0 for an empty one), or on a stream
 * socket up to len bytes with CORIO_EEOF at end of stream (len > 0). Errors:
 * the closing error, CORIO_ETIMEOUT (read deadline), CORIO_ETOOMANY, OS
 * errors. */
ptrdiff_t corio__fd_recvfrom(corio__fd_t *fd, void *buf, size_t len, struct sockaddr *sa,
                             socklen_t *salen);

/* sendto under the write lock, waiting for room, without SIGPIPE
 * (MSG_NOSIGNAL); sa NULL sends to the connected peer. One call: a datagram
 * goes whole or not at all, len 0 included (an empty datagram). Returns the
 * count or an error: the closing error, CORIO_ETIMEOUT (write deadline),
 * CORIO_ETOOMANY, OS errors (EMSGSIZE, EDESTADDRREQ ...). */
ptrdiff_t corio__fd_sendto(corio__fd_t *fd, const void *buf, size_t len, const struct sockaddr *sa,
                           socklen_t salen);

/* shutdown(how) holding a reference. 0, the closing error, or the OS's
 * error (ENOTCONN). */
int corio__fd_shutdown(corio__fd_t *fd, int how);

#endif
