/* The FD's poll descriptor: how the FD layer asks the runtime's netpoller to
 * park a coroutine until its handle is ready, and turns the answers into
 * errors (after Go's internal/poll pollDesc). */
#include "fd.h"

int corio__fd_poll_error(const corio__fd_t *fd, int res) {
  switch (res) {
  case CORIO__POLL_OK: return 0;
  case CORIO__POLL_ERR_CLOSING: return corio__fd_closing_error(fd);
  case CORIO__POLL_ERR_TIMEOUT: return CORIO_ETIMEOUT;
  case CORIO__POLL_ERR_NOT_POLLABLE: return CORIO_ENOTPOLLABLE;
  case CORIO__POLL_ERR_POLLER: return CORIO_EPOLLER;
  default: corio__throw("poll: unexpected result from the netpoller");
  }
}

int corio__fd_poll_init(corio__fd_t *fd) {
  corio__pd_t *pd = NULL;
  int err = corio__pd_open(fd->handle, &pd);
  if (err) return err;
  fd->pd = pd;
  return 0;
}

void corio__fd_poll_close(corio__fd_t *fd) {
  if (!fd->pd) return;
  /* Unregisters the handle, which is still open, and returns the
   * descriptor to the cache. */
  corio__pd_close(fd->pd);
  fd->pd = NULL;
}

void corio__fd_poll_evict(corio__fd_t *fd) {
  if (fd->pd) corio__pd_unblock(fd->pd);
}

void corio__fd_poll_wait_canceled(corio__fd_t *fd, int mode) {
  if (fd->pd) corio__pd_wait_canceled(fd->pd, mode);
}

int corio__fd_set_deadline(corio__fd_t *fd, int64_t deadline, int mode) {
  int err = corio__fd_incref(fd);
  if (err) return err;
  /* A descriptor in blocking mode has a pd no wait will ever consult. */
  if (!corio__fd_pollable(fd) || atomic_load_explicit(&fd->blocking, memory_order_acquire))
    err = CORIO_ENODEADLINE;
  else
    corio__pd_set_deadline(fd->pd, deadline, mode);
  corio__fd_decref(fd);
  return err;
}
