/* The portable half of the FD: references and locks with the closing error of
 * the FD's flavour, close, destruction at the last reference, and the FD's
 * poll descriptor -- how the FD asks the runtime's netpoller to park a
 * coroutine until its handle is ready, and turns the answers into errors
 * (after Go's internal/poll pollDesc). One unit: close and destroy use the
 * poll descriptor, and setting a deadline takes a reference. */
#include "fd.h"

#include "corio/sync.h"

int corio__fd_closing_error(const corio__fd_t *fd) {
  return fd->is_file ? CORIO_ECLOSING : CORIO_ENETCLOSING;
}

/* The last reference of a closed FD is gone: release the poll descriptor
 * before the handle (the poller must unregister a handle that is still
 * open), then let close, which may be waiting, return. Nothing touches fd
 * after the release: the closer may free it as soon as it wakes. */
int corio__fd_destroy(corio__fd_t *fd) {
  corio__fd_poll_close(fd);
  int err = corio__fd_sys_destroy(fd);
  corio_sema_release(&fd->csema);
  return err;
}

int corio__fd_incref(corio__fd_t *fd) {
  return corio__fd_flavour(fd, corio__fdmu_incref(&fd->mu));
}

int corio__fd_decref(corio__fd_t *fd) {
  return corio__fdmu_decref(&fd->mu) ? corio__fd_destroy(fd) : 0;
}

int corio__fd_close(corio__fd_t *fd) {
  int err = corio__fdmu_incref_and_close(&fd->mu);
  if (err) return corio__fd_flavour(fd, err);
  corio__fd_sys_close_begin(fd);
  corio__fd_poll_evict(fd);
  /* Read before our reference goes: once it has, another holder may destroy
   * the FD, but the caller keeps the memory alive until we return. */
  bool blocking = atomic_load_explicit(&fd->blocking, memory_order_acquire);
  err = corio__fd_decref(fd);
  /* Wait for the last holder, who leaves promptly since evict woke it. A
   * blocking-mode holder may stay in the kernel indefinitely, so then the
   * handle is closed whenever it returns (Go's rule). Off a coroutine we
   * cannot sleep; the last holder still closes the handle. */
  if (!blocking && corio__getg()) corio_sema_acquire(&fd->csema);
  return err;
}

int corio__fd_control(corio__fd_t *fd, int (*fn)(uintptr_t handle, void *arg), void *arg) {
  int err = corio__fd_incref(fd);
  if (err) return err;
  int res = fn(fd->handle, arg);
  corio__fd_decref(fd);
  return res;
}

/* ---- the poll descriptor ---- */

int corio__fd_poll_error(const corio__fd_t *fd, int res) {
  switch (res) {
  case CORIO__POLL_OK: return 0;
  case CORIO__POLL_ERR_CLOSING: return corio__fd_closing_error(fd);
  case CORIO__POLL_ERR_TIMEOUT: return CORIO_ETIMEOUT;
  case CORIO__POLL_ERR_NOT_POLLABLE: return CORIO_ENOTPOLLABLE;
  case CORIO__POLL_ERR_NOTCORO: return CORIO_ENOTCORO;
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
