/* The portable half of the FD: references and locks with the closing error of
 * the FD's flavour, close, and destruction at the last reference. */
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
