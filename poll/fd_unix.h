/* poll/fd_unix.h: FD operations that only Unix has (sockets and vectors on a
 * descriptor, blocking mode). Included by os/file_unix.c, by Unix tests and,
 * later, by the Unix network layer. */
#ifndef CORIO_POLL_FD_UNIX_H
#define CORIO_POLL_FD_UNIX_H

#include <sys/socket.h>
#include <sys/uio.h>

#include "fd.h"

/* readv: one read into iov[0..n), waiting for data. The count, CORIO_EEOF
 * (zero bytes into a non-empty vector, stream kinds), 0 for an empty vector,
 * or an error as corio__fd_read. */
ptrdiff_t corio__fd_readv(corio__fd_t *fd, const struct iovec *iov, int n);
/* writev: write every byte of iov[0..n) (the array itself is not modified).
 * Returns the total, or as corio__fd_write. */
ptrdiff_t corio__fd_writev(corio__fd_t *fd, const struct iovec *iov, int n);

/* Accept a connection on a listening socket: *newfd receives a descriptor
 * that is non-blocking and close-on-exec; sa / salen may be NULL. Retries
 * EINTR and ECONNABORTED. 0, the closing error, CORIO_ETIMEOUT (read
 * deadline) or an OS error. */
int corio__fd_accept(corio__fd_t *fd, struct sockaddr *sa, socklen_t *salen, int *newfd);

/* Connect a non-blocking socket, parking until the connection is made or
 * fails (the write deadline applies). 0, the closing error, CORIO_ETIMEOUT,
 * or the OS's connect error (ECONNREFUSED ...). */
int corio__fd_connect(corio__fd_t *fd, const struct sockaddr *sa, socklen_t salen);

/* The caller made this pipe and vouches that no writer of it will ever be in
 * packet mode (O_DIRECT; corio_file_pipe's ends qualify): a short read then
 * proves it empty, and reads may wait for readiness first after one (the
 * short-read rule, fd_unix.c). Call on the reading end right after
 * corio__fd_init, before the FD is shared; does nothing unless fd is a pipe
 * on the poller. A packet-mode writer afterwards (F_SETFL O_DIRECT on the
 * other end) would make reads wait for data that is already there. */
void corio__fd_set_plain_pipe(corio__fd_t *fd);

/* Defined by the OS's own file (fd_linux.c): whether a read of h that
 * returns fewer bytes than it asked for proves h empty (the short-read rule,
 * fd_unix.c), as far as can be told when the FD is initialised. Linux: plain
 * TCP sockets. A port without such knowledge returns false. */
bool corio__fd_os_short_means_empty(int h);

/* Put the descriptor in blocking mode for good: later operations block their
 * thread (with the P handed on), deadlines are cleared and setting one fails
 * with CORIO_ENODEADLINE. 0, the closing error, or fcntl's error. */
int corio__fd_set_blocking(corio__fd_t *fd);

#endif
