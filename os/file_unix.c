/* The Unix half of File: open(2) and pipe2(2) with close-on-exec, and the
 * choice of which descriptors go on the poller (Go's os/file_unix.go
 * newFile): pipes, FIFOs, sockets and terminals do; regular files,
 * directories and block devices do not (epoll refuses them), nor does a
 * descriptor handed to corio_file_new in blocking mode; one handed over in
 * non-blocking mode does, whatever its type. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd_unix.h"
#include "runtime/fault.h"

static int open_flags(int flags) {
  int of = O_CLOEXEC;
  if (flags & CORIO_O_WRONLY) of |= O_WRONLY;
  else if (flags & CORIO_O_RDWR) of |= O_RDWR;
  else of |= O_RDONLY;
  if (flags & CORIO_O_APPEND) of |= O_APPEND;
  if (flags & CORIO_O_CREATE) of |= O_CREAT;
  if (flags & CORIO_O_EXCL) of |= O_EXCL;
  if (flags & CORIO_O_SYNC) of |= O_SYNC;
  if (flags & CORIO_O_TRUNC) of |= O_TRUNC;
  return of;
}

int corio__file_sys_open(const char *name, int flags, uint32_t perm, uintptr_t *handle) {
  int of = open_flags(flags);
  for (;;) {
    /* Opening a FIFO blocks until its other end is opened. */
    bool entered = corio_syscall_enter() == 0;
    int h = CORIO__SYS(CORIO__SYS_OPEN, open(name, of, (mode_t)perm));
    int e = errno;
    if (entered) corio_syscall_exit();
    if (h >= 0) {
      *handle = (uintptr_t)h;
      return 0;
    }
    if (e != EINTR) return corio_err_from_errno(e);
  }
}

int corio__file_sys_pipe(uintptr_t h[2]) {
  int p[2];
  if (CORIO__SYS(CORIO__SYS_PIPE, pipe2(p, O_CLOEXEC)) < 0) return corio_err_from_errno(errno);
  h[0] = (uintptr_t)p[0];
  h[1] = (uintptr_t)p[1];
  return 0;
}

void corio__file_sys_close_handle(uintptr_t handle) { close((int)handle); }

/* The FD kind of an open descriptor, and whether the poller can take it. */
static int classify(int h, int *kind, bool *pollable) {
  struct stat st;
  if (CORIO__SYS(CORIO__SYS_FSTAT, fstat(h, &st)) < 0) return errno == EBADF ? CORIO_EBADF : corio_err_from_errno(errno);
  *kind = CORIO__FD_FILE;
  *pollable = false;
  if (S_ISFIFO(st.st_mode)) {
    *kind = CORIO__FD_PIPE;
    *pollable = true;
  } else if (S_ISSOCK(st.st_mode)) {
    int type = 0;
    socklen_t len = sizeof type;
    getsockopt(h, SOL_SOCKET, SO_TYPE, &type, &len);
    *kind = type == SOCK_STREAM ? CORIO__FD_STREAM : CORIO__FD_DGRAM;
    *pollable = true;
  } else if (S_ISCHR(st.st_mode)) {
    /* Terminals poll; other character devices (/dev/null) the poller
     * refuses, and init then falls back to blocking mode. */
    *kind = isatty(h) ? CORIO__FD_CONSOLE : CORIO__FD_FILE;
    *pollable = true;
  }
  return 0;
}

int corio__file_sys_init(corio_file_t *f, uintptr_t handle, int how) {
  if ((intptr_t)handle < 0 || (intptr_t)handle > INT32_MAX) return CORIO_EBADF;
  int h = (int)handle;
  int kind;
  bool pollable;
  int err = classify(h, &kind, &pollable);
  if (err) return err;
  if (how == CORIO__FILE_NEW) {
    /* A descriptor from elsewhere is polled exactly when its owner already
     * made it non-blocking, whatever its type (an eventfd, a timerfd, an
     * inotify descriptor: the kind "nonblock" of Go's os.NewFile): its reads
     * would say EAGAIN, so only the poller can wait for it. A blocking one is
     * left alone: switching it could surprise whoever shares it. */
    int fl = CORIO__SYS(CORIO__SYS_FCNTL, fcntl(h, F_GETFL));
    if (fl < 0) return corio_err_from_errno(errno);
    pollable = (fl & O_NONBLOCK) != 0;
  }
  err = corio__fd_init(&f->pfd, handle, kind, true, pollable);
  /* corio_file_pipe made both ends without O_DIRECT: no writer in packet
   * mode, so a short read on the reading end proves the pipe empty. */
  if (err == 0 && how == CORIO__FILE_PIPE) corio__fd_set_plain_pipe(&f->pfd);
  return err;
}

int corio__file_sys_fd(corio_file_t *f) { return corio__fd_set_blocking(&f->pfd); }
