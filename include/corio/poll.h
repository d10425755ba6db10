/* corio poll: a handle made safe for coroutines (after Go's internal/poll.FD).
 *
 * For embedders who hold a descriptor of their own (a socket, a pipe, a
 * device) and want coroutines to read and write it without blocking their
 * thread. Files have a friendlier API in corio/os.h.
 *
 * A corio_fd_t owns its handle. Reads are serialised with each other, writes
 * with each other; a read and a write may run at the same time, and deadline
 * changes and close may come from any coroutine at any moment. An operation
 * that would block parks the coroutine until the handle is ready, its deadline
 * passes or the FD is closed. Blocking operations must run on a coroutine: on
 * any other thread an operation that would have to wait (on the poller, or
 * for another reader or writer of the same FD) returns CORIO_ENOTCORO,
 * having done nothing; one that need not wait works.
 *
 * Deadlines are absolute monotonic nanoseconds (corio_nanotime()); 0 means no
 * deadline; a time already past makes pending and later operations fail with
 * CORIO_ETIMEOUT at once, until the deadline is moved.
 *
 * Closing: after corio_fd_close every operation fails with the closing error
 * (CORIO_ECLOSING for file kinds, CORIO_ENETCLOSING for sockets); operations
 * parked at that moment return it promptly. The object itself stays valid
 * until corio_fd_free.
 */
#ifndef CORIO_POLL_H
#define CORIO_POLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corio/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An OS handle: a file descriptor on Unix, a HANDLE (or SOCKET) on Windows. */
typedef intptr_t corio_handle_t;
#define CORIO_INVALID_HANDLE ((corio_handle_t)-1)

typedef struct corio_fd corio_fd_t;

/* What a handle is: decides whether a zero-byte read means end of file (every
 * kind except datagrams) and which closing error is reported. */
typedef enum corio_fd_kind {
  CORIO_FD_FILE = 1,    /* regular file or device */
  CORIO_FD_PIPE = 2,    /* pipe or FIFO */
  CORIO_FD_CONSOLE = 3, /* terminal */
  CORIO_FD_STREAM = 4,  /* stream socket */
  CORIO_FD_DGRAM = 5    /* datagram socket */
} corio_fd_kind_t;

/* Wrap handle and take ownership of it (it is closed by corio_fd_close). The
 * runtime must be initialised. Unix: the descriptor is made non-blocking and
 * registered with the poller; a descriptor the poller refuses (a regular file)
 * works in blocking mode, without deadlines. Windows: a handle opened for
 * overlapped I/O is associated with the runtime's port, or, when it is already
 * attached elsewhere, waits on events; a handle opened without
 * FILE_FLAG_OVERLAPPED (CreatePipe ends, consoles) works in blocking mode,
 * with its thread's P handed on, and without deadlines.
 * Errors (the caller then still owns handle): CORIO_EBADF (not an open
 * handle), CORIO_EINVAL (kind unknown, out NULL), CORIO_ENOTINIT, CORIO_ENOMEM,
 * an OS error from the poller. */
CORIO_API int corio_fd_open(corio_handle_t handle, corio_fd_kind_t kind, corio_fd_t **out);

/* Read up to len bytes. Returns the count (> 0); 0 when len is 0 (nothing is
 * asked of the OS); CORIO_EEOF at end of stream. Errors: the closing error,
 * CORIO_ETIMEOUT (read deadline), CORIO_ETOOMANY (2^20 operations queued on
 * one FD), CORIO_EINVAL (buf NULL with len > 0), OS errors. */
CORIO_API ptrdiff_t corio_fd_read(corio_fd_t *fd, void *buf, size_t len);

/* Write all len bytes, waiting for room as needed. Returns len; or a shorter
 * count when an error stopped the write after some bytes went out (a
 * persistent error, such as a passed deadline or close, is returned by the
 * next call); or a negative error when nothing was written: the closing error,
 * CORIO_ETIMEOUT, CORIO_ETOOMANY, CORIO_EINVAL (buf NULL with len > 0), OS
 * errors (EPIPE when the reader is gone). 0 when len is 0. */
CORIO_API ptrdiff_t corio_fd_write(corio_fd_t *fd, const void *buf, size_t len);

/* At an offset, leaving the file offset alone. pread returns what one read
 * gave (possibly short), CORIO_EEOF at or past the end; pwrite writes all.
 * Errors: as read / write, plus CORIO_EINVAL (off < 0), ESPIPE (not seekable). */
CORIO_API ptrdiff_t corio_fd_pread(corio_fd_t *fd, void *buf, size_t len, int64_t off);
CORIO_API ptrdiff_t corio_fd_pwrite(corio_fd_t *fd, const void *buf, size_t len, int64_t off);

/* Deadlines for reads and writes / reads / writes (see above). Errors: the
 * closing error, CORIO_ENODEADLINE (the handle is not on the poller). */
CORIO_API int corio_fd_set_deadline(corio_fd_t *fd, int64_t deadline);
CORIO_API int corio_fd_set_read_deadline(corio_fd_t *fd, int64_t deadline);
CORIO_API int corio_fd_set_write_deadline(corio_fd_t *fd, int64_t deadline);

/* true when the handle is on the runtime's poller (deadlines work). */
CORIO_API bool corio_fd_pollable(corio_fd_t *fd);

/* Run fn(handle, arg) while holding a reference, so the handle cannot be
 * closed under fn. Returns fn's result. Errors (fn not called): the closing
 * error, CORIO_ETOOMANY, CORIO_EINVAL (fn NULL). */
CORIO_API int corio_fd_control(corio_fd_t *fd, int (*fn)(corio_handle_t handle, void *arg), void *arg);

/* Close: wake pending operations with the closing error and close the handle
 * when the last of them has let go of it. On the poller, close waits for
 * that, so the handle is closed when it returns; in blocking mode (a handle
 * the poller refused) it does not wait, since an operation may sit in the
 * kernel indefinitely. Returns 0 or the OS's close error. Errors: the closing
 * error on a second close. */
CORIO_API int corio_fd_close(corio_fd_t *fd);

/* Release the object, closing it first if needed. Call it only once every
 * coroutine that used fd has returned from its last call on it (one woken by
 * close may still be on its way out when close returns). NULL is ignored.
 * Close and free FDs before corio_shutdown. */
CORIO_API void corio_fd_free(corio_fd_t *fd);

#ifdef __cplusplus
}
#endif
#endif
