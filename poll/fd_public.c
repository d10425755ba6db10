/* The public FD API (corio/poll.h): a thin, checked layer over the internal
 * FD, whose struct is the public opaque type. */
#include "corio/poll.h"

#include "fd.h"

int corio_fd_open(corio_handle_t handle, corio_fd_kind_t kind, corio_fd_t **out) {
  if (!out) return CORIO_EINVAL;
  *out = NULL;
  if (kind < CORIO_FD_FILE || kind > CORIO_FD_DGRAM) return CORIO_EINVAL;
  if (handle == CORIO_INVALID_HANDLE) return CORIO_EBADF;
  if (corio_procs() == 0) return CORIO_ENOTINIT;
  corio_fd_t *fd = corio__calloc(1, sizeof *fd);
  if (!fd) return CORIO_ENOMEM;
  /* The internal kinds are the public values (fd.h). */
  bool is_file = kind != CORIO_FD_STREAM && kind != CORIO_FD_DGRAM;
  int err = corio__fd_init(fd, (uintptr_t)handle, (int)kind, is_file, true);
  if (err) {
    corio__free(fd);
    return err;
  }
  *out = fd;
  return 0;
}

ptrdiff_t corio_fd_read(corio_fd_t *fd, void *buf, size_t len) {
  if (!fd || (!buf && len > 0)) return CORIO_EINVAL;
  return corio__fd_read(fd, buf, len);
}

ptrdiff_t corio_fd_write(corio_fd_t *fd, const void *buf, size_t len) {
  if (!fd || (!buf && len > 0)) return CORIO_EINVAL;
  return corio__fd_write(fd, buf, len);
}

ptrdiff_t corio_fd_pread(corio_fd_t *fd, void *buf, size_t len, int64_t off) {
  if (!fd || (!buf && len > 0)) return CORIO_EINVAL;
  return corio__fd_pread(fd, buf, len, off);
}

ptrdiff_t corio_fd_pwrite(corio_fd_t *fd, const void *buf, size_t len, int64_t off) {
  if (!fd || (!buf && len > 0)) return CORIO_EINVAL;
  return corio__fd_pwrite(fd, buf, len, off);
}

int corio_fd_set_deadline(corio_fd_t *fd, int64_t deadline) {
  return fd ? corio__fd_set_deadline(fd, deadline, 'r' + 'w') : CORIO_EINVAL;
}

int corio_fd_set_read_deadline(corio_fd_t *fd, int64_t deadline) {
  return fd ? corio__fd_set_deadline(fd, deadline, 'r') : CORIO_EINVAL;
}

int corio_fd_set_write_deadline(corio_fd_t *fd, int64_t deadline) {
  return fd ? corio__fd_set_deadline(fd, deadline, 'w') : CORIO_EINVAL;
}

bool corio_fd_pollable(corio_fd_t *fd) { return fd && corio__fd_pollable(fd); }

typedef struct control_call {
  int (*fn)(corio_handle_t handle, void *arg);
  void *arg;
} control_call_t;

static int control_trampoline(uintptr_t handle, void *arg) {
  control_call_t *c = arg;
  return c->fn((corio_handle_t)handle, c->arg);
}

int corio_fd_control(corio_fd_t *fd, int (*fn)(corio_handle_t handle, void *arg), void *arg) {
  if (!fd || !fn) return CORIO_EINVAL;
  control_call_t c = {fn, arg};
  return corio__fd_control(fd, control_trampoline, &c);
}

int corio_fd_close(corio_fd_t *fd) { return fd ? corio__fd_close(fd) : CORIO_EINVAL; }

void corio_fd_free(corio_fd_t *fd) {
  if (!fd) return;
  corio__fd_close(fd); /* the closing error when closed already: fine */
  corio__free(fd);
}
