/* The portable File: argument checks, the File object, and Go's os.File
 * behaviours over the poll FD (read_at loops to fill the buffer, write_at is
 * refused in append mode, the reporting form of fd). The platform halves
 * (file_unix.c, file_windows.c) open handles and choose how they are polled. */
#include "file.h"

#include <string.h>

#include "base.h"

#define KNOWN_FLAGS                                                                          \
  (CORIO_O_WRONLY | CORIO_O_RDWR | CORIO_O_APPEND | CORIO_O_CREATE | CORIO_O_EXCL |          \
   CORIO_O_SYNC | CORIO_O_TRUNC)

static int check_flags(int flags, uint32_t perm) {
  if (flags & ~KNOWN_FLAGS) return CORIO_EINVAL;
  if ((flags & (CORIO_O_WRONLY | CORIO_O_RDWR)) == (CORIO_O_WRONLY | CORIO_O_RDWR)) return CORIO_EINVAL;
  if ((flags & CORIO_O_EXCL) && !(flags & CORIO_O_CREATE)) return CORIO_EINVAL;
  if (perm & ~(uint32_t)07777) return CORIO_EINVAL;
  return 0;
}

int corio__file_new(uintptr_t handle, const char *name, int how, corio_file_t **out) {
  if (corio_procs() == 0) return CORIO_ENOTINIT;
  corio_file_t *f = corio__calloc(1, CORIO__LINE_SIZE(sizeof *f));
  size_t n = strlen(name) + 1;
  char *copy = corio__malloc(n);
  if (!f || !copy) {
    corio__free(f);
    corio__free(copy);
    return CORIO_ENOMEM;
  }
  memcpy(copy, name, n);
  f->name = copy;
  int err = corio__file_sys_init(f, handle, how);
  if (err) {
    corio__free(copy);
    corio__free(f);
    return err;
  }
  *out = f;
  return 0;
}

int corio_file_open(const char *name, int flags, uint32_t perm, corio_file_t **out) {
  if (!out) return CORIO_EINVAL;
  *out = NULL;
  if (!name || !*name) return CORIO_EINVAL;
  int err = check_flags(flags, perm);
  if (err) return err;
  if (corio_procs() == 0) return CORIO_ENOTINIT;
  uintptr_t h;
  err = corio__file_sys_open(name, flags, perm, &h);
  if (err) return err;
  err = corio__file_new(h, name, CORIO__FILE_OPEN, out);
  if (err) {
    corio__file_sys_close_handle(h);
    return err;
  }
  (*out)->append = (flags & CORIO_O_APPEND) != 0;
  return 0;
}

int corio_file_create(const char *name, corio_file_t **out) {
  return corio_file_open(name, CORIO_O_RDWR | CORIO_O_CREATE | CORIO_O_TRUNC, 0666, out);
}

int corio_file_new(corio_handle_t handle, const char *name, corio_file_t **out) {
  if (!out) return CORIO_EINVAL;
  *out = NULL;
  if (handle == CORIO_INVALID_HANDLE) return CORIO_EBADF;
  return corio__file_new((uintptr_t)handle, name ? name : "", CORIO__FILE_NEW, out);
}

int corio_file_pipe(corio_file_t **r, corio_file_t **w) {
  if (!r || !w) return CORIO_EINVAL;
  *r = *w = NULL;
  if (corio_procs() == 0) return CORIO_ENOTINIT;
  uintptr_t h[2];
  int err = corio__file_sys_pipe(h);
  if (err) return err;
  err = corio__file_new(h[0], "|0", CORIO__FILE_PIPE, r);
  if (err) {
    corio__file_sys_close_handle(h[0]);
    corio__file_sys_close_handle(h[1]);
    return err;
  }
  err = corio__file_new(h[1], "|1", CORIO__FILE_PIPE, w);
  if (err) {
    corio__file_sys_close_handle(h[1]);
    corio_file_free(*r);
    *r = NULL;
    return err;
  }
  return 0;
}

CORIO__HOT ptrdiff_t corio_file_read(corio_file_t *f, void *buf, size_t len) {
  if (!f || (!buf && len > 0)) return CORIO_EINVAL;
  return corio__fd_read(&f->pfd, buf, len);
}

CORIO__HOT ptrdiff_t corio_file_write(corio_file_t *f, const void *buf, size_t len) {
  if (!f || (!buf && len > 0)) return CORIO_EINVAL;
  return corio__fd_write(&f->pfd, buf, len);
}

ptrdiff_t corio_file_read_at(corio_file_t *f, void *buf, size_t len, int64_t off) {
  if (!f || (!buf && len > 0) || off < 0) return CORIO_EINVAL;
  /* A reference across the loop: a closed File says so before any other
   * error, on every platform, and stays open until the loop ends. */
  int err = corio__fd_incref(&f->pfd);
  if (err) return err;
  size_t done = 0;
  ptrdiff_t res = 0;
  while (done < len) {
    ptrdiff_t n = corio__fd_pread(&f->pfd, (char *)buf + done, len - done, off + (int64_t)done);
    if (n < 0) {
      res = n;
      break;
    }
    done += (size_t)n;
  }
  corio__fd_decref(&f->pfd);
  return done > 0 || res == 0 ? (ptrdiff_t)done : res;
}

ptrdiff_t corio_file_write_at(corio_file_t *f, const void *buf, size_t len, int64_t off) {
  if (!f || (!buf && len > 0) || off < 0) return CORIO_EINVAL;
  /* The OS would write at the end whatever off says. */
  if (f->append) return CORIO_EINVAL;
  int err = corio__fd_incref(&f->pfd);
  if (err) return err;
  ptrdiff_t n = len > 0 ? corio__fd_pwrite(&f->pfd, buf, len, off) : 0;
  corio__fd_decref(&f->pfd);
  return n;
}

int64_t corio_file_seek(corio_file_t *f, int64_t off, int whence) {
  if (!f) return CORIO_EINVAL;
  /* As read_at: the closed state comes before what the handle can do. */
  int err = corio__fd_incref(&f->pfd);
  if (err) return err;
  int64_t r = corio__fd_seek(&f->pfd, off, whence);
  corio__fd_decref(&f->pfd);
  return r;
}

int corio_file_close(corio_file_t *f) {
  if (!f) return CORIO_EINVAL;
  return corio__fd_close(&f->pfd);
}

void corio_file_free(corio_file_t *f) {
  if (!f) return;
  corio__fd_close(&f->pfd); /* CORIO_ECLOSING when closed already: fine */
  corio__free(f->name);
  corio__free(f);
}

const char *corio_file_name(const corio_file_t *f) { return f ? f->name : ""; }

int corio_file_set_deadline(corio_file_t *f, int64_t deadline) {
  if (!f) return CORIO_EINVAL;
  return corio__fd_set_deadline(&f->pfd, deadline, 'r' + 'w');
}

int corio_file_set_read_deadline(corio_file_t *f, int64_t deadline) {
  if (!f) return CORIO_EINVAL;
  return corio__fd_set_deadline(&f->pfd, deadline, 'r');
}

int corio_file_set_write_deadline(corio_file_t *f, int64_t deadline) {
  if (!f) return CORIO_EINVAL;
  return corio__fd_set_deadline(&f->pfd, deadline, 'w');
}

int corio_file_control(corio_file_t *f, int (*fn)(corio_handle_t handle, void *arg), void *arg) {
  if (!f) return CORIO_EINVAL;
  return corio_fd_control(&f->pfd, fn, arg);
}

int corio_file_fd_ex(corio_file_t *f, corio_handle_t *out) {
  if (!f || !out) return CORIO_EINVAL;
  int err = corio__fd_incref(&f->pfd);
  if (err) {
    *out = CORIO_INVALID_HANDLE;
    return err;
  }
  *out = (corio_handle_t)f->pfd.handle;
  err = corio__file_sys_fd(f);
  corio__fd_decref(&f->pfd);
  return err;
}

corio_handle_t corio_file_fd(corio_file_t *f) {
  corio_handle_t h = CORIO_INVALID_HANDLE;
  if (f) corio_file_fd_ex(f, &h);
  return h;
}
