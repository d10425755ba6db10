/* Socket calls on the readiness path (see sock_unix.h): the same try, wait
 * on EAGAIN, retry loop as fd_unix.c's io_once, for the calls with
 * addresses. Not hot: the FD's read and write carry the stream traffic. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sock_unix.h"

#include <errno.h>

#include "corio/runtime.h"

/* After a failed call: 0 to try again (EINTR; EAGAIN once the poller says
 * ready), or the error. */
static int retry(corio__fd_t *fd, int e, int mode) {
  if (e == EINTR) return 0;
  if ((e == EAGAIN || e == EWOULDBLOCK) && corio__fd_pollable(fd))
    return corio__fd_poll_wait(fd, mode);
  return corio_err_from_errno(e);
}

ptrdiff_t corio__fd_recvfrom(corio__fd_t *fd, void *buf, size_t len, struct sockaddr *sa,
                             socklen_t *salen) {
  int err = corio__fd_read_lock(fd);
  if (err) return err;
  /* A read the short-read rule does not track: the next plain read must
   * not rely on an earlier short one. */
  fd->read_drained = false;
  if (len > CORIO__FD_MAX_RW) len = CORIO__FD_MAX_RW;
  socklen_t cap = salen ? *salen : 0;
  ptrdiff_t n = corio__fd_poll_prepare(fd, 'r');
  while (n == 0) {
    if (salen) *salen = cap;
    ssize_t r = recvfrom((int)fd->handle, buf, len, 0, sa, salen);
    if (r >= 0) {
      n = r == 0 && len > 0 && fd->zero_read_is_eof ? CORIO_EEOF : r;
      break;
    }
    n = retry(fd, errno, 'r');
  }
  corio__fd_read_unlock(fd);
  return n;
}

ptrdiff_t corio__fd_sendto(corio__fd_t *fd, const void *buf, size_t len, const struct sockaddr *sa,
                           socklen_t salen) {
  int err = corio__fd_write_lock(fd);
  if (err) return err;
  ptrdiff_t n = corio__fd_poll_prepare(fd, 'w');
  while (n == 0) {
    ssize_t r = sendto((int)fd->handle, buf, len, MSG_NOSIGNAL, sa, sa ? salen : 0);
    if (r >= 0) {
      n = r;
      break;
    }
    n = retry(fd, errno, 'w');
  }
  corio__fd_write_unlock(fd);
  return n;
}

int corio__fd_shutdown(corio__fd_t *fd, int how) {
  int err = corio__fd_incref(fd);
  if (err) return err;
  if (shutdown((int)fd->handle, how) < 0) err = corio_err_from_errno(errno);
  corio__fd_decref(fd);
  return err;
}
