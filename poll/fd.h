/* poll/fd.h: the FD, a handle (Unix fd, Windows HANDLE or SOCKET) made safe
 * for concurrent use by coroutines (after Go's internal/poll.FD).
 *
 * Layers: os/ builds on this; this builds on runtime/netpoll. The struct holds
 * only portable fields; a platform keeps its own state (Windows: the read and
 * write operations with their OVERLAPPEDs) behind `sys`, allocated by its
 * corio__fd_init and freed by its corio__fd_sys_destroy.
 *
 * Life cycle. corio__fd_init fills a caller-provided struct and takes
 * ownership of the handle. Every operation holds a reference (reads the read
 * lock, writes the write lock, see fd_mutex.h) for its duration. corio__fd_close
 * sets the closed bit, wakes every waiter (they fail with the closing error)
 * and drops its reference; whoever drops the last reference destroys the FD:
 * the poll descriptor is closed, then the handle. In non-blocking mode close
 * waits for that last reference, so the handle is closed when close returns
 * (the waiters it woke leave promptly). In blocking mode (Unix after
 * set_blocking) a thread may sit in the kernel with a reference for ever, so
 * close does not wait: the handle is closed when that operation returns, as
 * in Go. The struct's memory belongs to the caller and must stay valid until
 * close has returned and no coroutine is inside any corio__fd_* call on it.
 *
 * Errors are negative corio errors (corio/error.h). The closing error has two
 * flavours: CORIO_ECLOSING when is_file, CORIO_ENETCLOSING otherwise.
 *
 * Modes are the netpoll ones: 'r', 'w', and 'r' + 'w' (deadlines only).
 */
#ifndef CORIO_POLL_FD_H
#define CORIO_POLL_FD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corio/error.h"
#include "corio/poll.h"
#include "netpoll.h"
#include "fd_mutex.h"

/* What the handle is: the public corio_fd_kind_t (corio/poll.h), defined
 * there once; these are its values under the internal prefix. It decides
 * whether a zero read is EOF (not for datagrams) and, on Windows, how I/O is
 * submitted. */
enum {
  CORIO__FD_FILE = CORIO_FD_FILE,       /* regular file, directory or device */
  CORIO__FD_PIPE = CORIO_FD_PIPE,       /* pipe or FIFO (Windows: named or anonymous pipe) */
  CORIO__FD_CONSOLE = CORIO_FD_CONSOLE, /* terminal / console */
  CORIO__FD_STREAM = CORIO_FD_STREAM,   /* stream socket */
  CORIO__FD_DGRAM = CORIO_FD_DGRAM,     /* datagram or message socket */
};

/* Largest single read or write handed to the OS (Go's maxRW); longer buffers
 * are split by write, and reads return at most this much. */
#define CORIO__FD_MAX_RW ((size_t)1 << 30)

struct corio_fd {
  corio__fd_mutex_t mu;      /* references and the read / write locks */
  uintptr_t handle;          /* set by init, immutable until destroy */
  corio__pd_t *pd;           /* poll descriptor; NULL when not on the poller */
  int kind;                  /* CORIO__FD_*, immutable */
  bool is_file;              /* closing flavour; immutable */
  bool zero_read_is_eof;     /* immutable */
  /* The handle is in blocking mode (Unix: set_blocking; Windows: opened
   * without FILE_FLAG_OVERLAPPED). Atomic: set_blocking runs concurrently with
   * reads and writes that look at it. */
  _Atomic bool blocking;
  /* Windows: the handle was detached from the runtime's port. Never set on
   * Unix. Read by corio__fd_pollable with acquire order, set with release
   * after the OS call succeeded. */
  _Atomic bool disassociated;
  /* Unix: a read that returns fewer bytes than it asked for proves that the
   * descriptor was empty at that moment (plain TCP sockets, decided by init;
   * pipes whose maker vouches for their writers, corio__fd_set_plain_pipe;
   * see fd_unix.c), so the next read may wait for readiness before it calls
   * the OS. Only where the backend has CORIO__NETPOLL_CAP_STICKY_HUP (read
   * once, by init). Set before the FD is shared, immutable afterwards; false
   * for every other descriptor. Windows never reads this field nor the next. */
  bool short_read_drains;
  /* Unix, with short_read_drains: the last read came back short, and no read
   * has been made since. Guarded by the read lock. */
  bool read_drained;
  uint32_t csema;            /* close sleeps here until the FD is destroyed */
  void *sys;                 /* platform state, owned by fd_<platform>.c */
};
typedef struct corio_fd corio__fd_t;

/* ==== Defined by each platform (fd_unix.c, fd_windows.c) ====
 * init sets every field above (mu and csema zeroed, pd through
 * corio__fd_poll_init, disassociated false, blocking as the handle is). The
 * portable code reads `blocking` in two places: close waits for the last
 * reference only when it is false, and corio__fd_set_deadline refuses
 * (CORIO_ENODEADLINE) when it is true or the FD is not pollable. */

/* Set fd up over handle and take ownership of it. pollable: try to put it on
 * the poller (Unix: init sets O_NONBLOCK first; when the poller refuses the
 * handle, e.g. a regular file on Linux, init restores the previous mode, the
 * FD works in blocking mode and init still succeeds. Windows: associate with
 * the runtime's port, else fall back to the event path). pollable false: the
 * FD stays in blocking mode and has no poll descriptor. On error nothing is
 * allocated and the caller still owns handle. */
int corio__fd_init(corio__fd_t *fd, uintptr_t handle, int kind, bool is_file, bool pollable);

/* Run by corio__fd_close after the closed bit is set and before the waiters
 * are evicted (Windows: CancelIoEx on pipes). */
void corio__fd_sys_close_begin(corio__fd_t *fd);

/* Run once, at the last reference of a closed FD, after the poll descriptor is
 * closed: close the handle and free sys. Returns the OS's close error or 0. */
int corio__fd_sys_destroy(corio__fd_t *fd);

/* Read up to len bytes (at most CORIO__FD_MAX_RW). Returns the count, 0 when
 * len is 0 (no system call), CORIO_EEOF when the OS read 0 bytes and
 * zero_read_is_eof, or a negative error: closing, CORIO_ETIMEOUT (read
 * deadline), CORIO_ETOOMANY, or an OS error. */
ptrdiff_t corio__fd_read(corio__fd_t *fd, void *buf, size_t len);
/* Write all len bytes, looping over partial writes and waiting for room.
 * Returns len; a count short of len when an error stopped it after some
 * bytes went out (the error is not reported; a persistent one is returned by
 * the next call); or a negative error when nothing was written. 0 for len 0. */
ptrdiff_t corio__fd_write(corio__fd_t *fd, const void *buf, size_t len);
/* Positional forms: do not move the file offset. off < 0: CORIO_EINVAL.
 * pread does not loop (a short count is not EOF); a zero read at or past
 * the end is CORIO_EEOF. pwrite loops like write. */
ptrdiff_t corio__fd_pread(corio__fd_t *fd, void *buf, size_t len, int64_t off);
ptrdiff_t corio__fd_pwrite(corio__fd_t *fd, const void *buf, size_t len, int64_t off);
/* Move the offset; whence 0 set, 1 current, 2 end. The new offset or a
 * negative error (CORIO_EINVAL for a bad whence or a negative result). */
int64_t corio__fd_seek(corio__fd_t *fd, int64_t off, int whence);

/* ==== Portable (fd.c) ==== */

/* References without a lock (deadlines, control, platform calls). */
int corio__fd_incref(corio__fd_t *fd);   /* 0, closing or CORIO_ETOOMANY */
int corio__fd_decref(corio__fd_t *fd);   /* 0, or destroy's error when it destroyed */
/* The read / write lock with a reference (inline: every read and write
 * takes one). lock: 0, closing, CORIO_ETOOMANY or CORIO_ENOTCORO (fd_mutex.h).
 * unlock destroys the FD when it drops the last reference of a closed one. */
static inline int corio__fd_read_lock(corio__fd_t *fd);
static inline void corio__fd_read_unlock(corio__fd_t *fd);
static inline int corio__fd_write_lock(corio__fd_t *fd);
static inline void corio__fd_write_unlock(corio__fd_t *fd);
/* The last reference of a closed FD is gone: release the poll descriptor,
 * then the handle. The handle's close error or 0. */
int corio__fd_destroy(corio__fd_t *fd);
/* Close (see the life cycle above). The closing error when already closed;
 * otherwise 0 or the OS's close error if this call destroyed the FD. */
int corio__fd_close(corio__fd_t *fd);
/* The closing error of fd's flavour. */
int corio__fd_closing_error(const corio__fd_t *fd);
/* Run fn(handle, arg) while holding a reference; returns fn's result, or the
 * reference error without calling fn. */
int corio__fd_control(corio__fd_t *fd, int (*fn)(uintptr_t handle, void *arg), void *arg);

/* ==== Portable poll-descriptor wrapper (fd.c) ==== */

/* Open a poll descriptor for fd->handle (registers it with the backend). 0 or
 * the backend's error (fd->pd stays NULL). */
int corio__fd_poll_init(corio__fd_t *fd);
/* Unregister the handle and release the descriptor; idempotent. Called by
 * destroy before the handle is closed. */
void corio__fd_poll_close(corio__fd_t *fd);
/* Mark the descriptor closing and wake both waiters. */
void corio__fd_poll_evict(corio__fd_t *fd);
/* Turn a CORIO__POLL_* result other than OK into a corio error of fd's
 * flavour. */
int corio__fd_poll_error(const corio__fd_t *fd, int res);
/* Windows: after CancelIoEx, wait for the aborted completion whatever the
 * deadline or closing state. No-op without a descriptor. */
void corio__fd_poll_wait_canceled(corio__fd_t *fd, int mode);

/* The four below run on every read and write: inline, because a function
 * still on the stack when the coroutine parks or the system call returns
 * costs a mispredicted return (see runtime/rawsys_linux.h). */

/* Before an I/O attempt: 0, or closing / CORIO_ETIMEOUT / CORIO_ENOTPOLLABLE
 * when the attempt must not be made. 0 when fd has no descriptor. */
static inline int corio__fd_poll_prepare(corio__fd_t *fd, int mode) {
  if (!fd->pd) return 0;
  int res = corio__pd_reset(fd->pd, mode);
  return res == CORIO__POLL_OK ? 0 : corio__fd_poll_error(fd, res);
}
/* Park until the handle is ready for mode: 0, closing, CORIO_ETIMEOUT,
 * CORIO_ENOTPOLLABLE (no descriptor, or the backend reported an error),
 * CORIO_ENOTCORO (the caller is not a coroutine). */
static inline int corio__fd_poll_wait(corio__fd_t *fd, int mode) {
  if (!fd->pd) return CORIO_ENOTPOLLABLE;
  int res = corio__pd_wait(fd->pd, mode);
  return res == CORIO__POLL_OK ? 0 : corio__fd_poll_error(fd, res);
}
/* The hang-up hint of fd's descriptor (corio__pd_hup_seen): the backend has
 * reported end of file, a hang-up, an error or urgent data. false without a
 * descriptor. */
static inline bool corio__fd_poll_hup_seen(corio__fd_t *fd) {
  return fd->pd && corio__pd_hup_seen(fd->pd);
}
/* On the poller: a descriptor exists and the handle was not disassociated. */
static inline bool corio__fd_pollable(corio__fd_t *fd) {
  /* Acquire pairs with the release that publishes a completed
   * disassociation: after seeing it, no I/O may expect a port packet. */
  return fd->pd && !atomic_load_explicit(&fd->disassociated, memory_order_acquire);
}
/* Deadlines: absolute monotonic ns, 0 for none, a past time expires at once
 * (pending and later operations fail with CORIO_ETIMEOUT). Errors: closing,
 * CORIO_ENODEADLINE when fd is not pollable. */
int corio__fd_set_deadline(corio__fd_t *fd, int64_t deadline, int mode);

/* An fd_mutex result in fd's flavour: fd_mutex reports a closed FD as
 * CORIO_ECLOSING whatever the flavour. */
static inline int corio__fd_flavour(const corio__fd_t *fd, int err) {
  return err == CORIO_ECLOSING ? corio__fd_closing_error(fd) : err;
}
static inline int corio__fd_lock(corio__fd_t *fd, bool read) {
  return corio__fd_flavour(fd, corio__fdmu_rwlock(&fd->mu, read));
}
static inline int corio__fd_read_lock(corio__fd_t *fd) { return corio__fd_lock(fd, true); }
static inline int corio__fd_write_lock(corio__fd_t *fd) { return corio__fd_lock(fd, false); }
static inline void corio__fd_read_unlock(corio__fd_t *fd) {
  if (corio__fdmu_rwunlock(&fd->mu, true)) corio__fd_destroy(fd);
}
static inline void corio__fd_write_unlock(corio__fd_t *fd) {
  if (corio__fdmu_rwunlock(&fd->mu, false)) corio__fd_destroy(fd);
}

#endif
