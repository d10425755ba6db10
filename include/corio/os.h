/* corio os: files for coroutines (after Go's os.File).
 *
 * A corio_file_t owns an OS handle. Reads and writes park the calling
 * coroutine instead of blocking its thread when the handle is on the poller
 * (pipes, FIFOs, terminals, sockets; regular files on Linux are read in
 * blocking mode, with the thread's P handed to another thread meanwhile).
 * Blocking operations must run on a coroutine: on any other thread an
 * operation that would have to wait (on the poller, or for another reader or
 * writer of the same File) returns CORIO_ENOTCORO, having done nothing; one
 * that need not wait works. Reads are serialised with each
 * other, writes with each other; deadline changes and close may come from any
 * coroutine at any time.
 *
 * Deadlines are absolute monotonic nanoseconds (corio_nanotime()); 0 clears
 * one. A deadline already past makes pending and later operations of that
 * direction fail with CORIO_ETIMEOUT at once, until it is moved.
 *
 * Closing: corio_file_close wakes pending operations, which return
 * CORIO_ECLOSING promptly, and closes the handle. The object stays valid, and
 * every later call on it fails with CORIO_ECLOSING, until corio_file_free.
 *
 * Every function that takes a corio_file_t * returns CORIO_EINVAL for NULL.
 */
#ifndef CORIO_OS_H
#define CORIO_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corio/error.h"
#include "corio/poll.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_file corio_file_t;

/* Open flags: exactly one access mode, or-ed with any of the others. These
 * are corio's own values, translated for the OS. */
#define CORIO_O_RDONLY 0x0000
#define CORIO_O_WRONLY 0x0001
#define CORIO_O_RDWR   0x0002
#define CORIO_O_APPEND 0x0008 /* writes go to the end; write_at is refused */
#define CORIO_O_CREATE 0x0040 /* create if missing */
#define CORIO_O_EXCL   0x0080 /* with CREATE: fail if it exists */
#define CORIO_O_SYNC   0x0100 /* synchronous writes */
#define CORIO_O_TRUNC  0x0200 /* truncate a regular writable file */

/* Seek origins. */
#define CORIO_SEEK_SET 0
#define CORIO_SEEK_CUR 1
#define CORIO_SEEK_END 2

/* Open name with flags; perm (Unix mode bits, before the umask) is used when
 * the file is created (Windows honours only 0200: without it the file is
 * read-only). Errors: CORIO_EINVAL (name or out NULL, name empty, unknown
 * flag bits, access mode 3, EXCL without CREATE), CORIO_ENOMEM, OS errors
 * (ENOENT, EACCES, EEXIST, EISDIR ...; Win32 codes on Windows). */
CORIO_API int corio_file_open(const char *name, int flags, uint32_t perm, corio_file_t **out);
/* corio_file_open(name, RDWR | CREATE | TRUNC, 0666, out). */
CORIO_API int corio_file_create(const char *name, corio_file_t **out);

/* Wrap a handle obtained elsewhere and take ownership of it; name is copied
 * (NULL: ""). Unix: a descriptor already in non-blocking mode is put on the
 * poller (deadlines work); a blocking one is used in blocking mode, as Go
 * does. Windows: works whether or not the handle is already attached to a
 * foreign completion port (then it waits on events and has no deadlines).
 * Errors (the caller still owns handle): CORIO_EBADF (not an open handle),
 * CORIO_EINVAL (out NULL), CORIO_ENOMEM, OS errors. */
CORIO_API int corio_file_new(corio_handle_t handle, const char *name, corio_file_t **out);

/* A connected pipe: bytes written to *w are read from *r. Both ends are on
 * the poller (Windows: an overlapped named-pipe pair). On Unix a read that
 * returns fewer bytes than asked is taken to have emptied the pipe, so the
 * next read waits for the poller before it calls read (one system call fewer
 * per wake-up); so do not switch the writing end to packet mode (O_DIRECT,
 * e.g. through its descriptor in another process), where a read can stop
 * short with packets left. Errors: CORIO_EINVAL (r or w NULL), CORIO_ENOMEM,
 * OS errors (EMFILE ...). */
CORIO_API int corio_file_pipe(corio_file_t **r, corio_file_t **w);

/* Read up to len bytes at the file offset. Returns the count (> 0); 0 when
 * len is 0 (no system call is made); CORIO_EEOF at end of file. Errors:
 * CORIO_ECLOSING (closed, or closed while pending), CORIO_ETIMEOUT (read
 * deadline), CORIO_ETOOMANY (2^20 operations queued on one File), CORIO_EINVAL
 * (buf NULL with len > 0), OS errors (EISDIR ...). */
CORIO_API ptrdiff_t corio_file_read(corio_file_t *f, void *buf, size_t len);

/* Write all len bytes, waiting for room as needed. Returns len; a shorter
 * count when an error stopped it after some bytes went out (a persistent error
 * such as a passed deadline or close is returned by the next call); or, when
 * nothing was written, an error: CORIO_ECLOSING, CORIO_ETIMEOUT (write
 * deadline), CORIO_ETOOMANY, CORIO_EINVAL (buf NULL with len > 0), OS errors
 * (EPIPE: no reader left; EBADF: not open for writing ...). 0 when len is 0. */
CORIO_API ptrdiff_t corio_file_write(corio_file_t *f, const void *buf, size_t len);

/* At offset off, leaving the file offset alone. read_at reads until len bytes
 * or end of file: it returns len, a short count when the end came first (the
 * next call at the end returns CORIO_EEOF), or an error. write_at writes all
 * len bytes. 0 when len is 0. Errors: as read / write, plus CORIO_EINVAL (off
 * < 0; write_at on a File opened with CORIO_O_APPEND) and ESPIPE (pipes). */
CORIO_API ptrdiff_t corio_file_read_at(corio_file_t *f, void *buf, size_t len, int64_t off);
CORIO_API ptrdiff_t corio_file_write_at(corio_file_t *f, const void *buf, size_t len, int64_t off);

/* Set the offset for the next read or write relative to whence
 * (CORIO_SEEK_*). Returns the new offset. Errors: CORIO_ECLOSING,
 * CORIO_EINVAL (unknown whence, a resulting offset < 0), ESPIPE (pipes). */
CORIO_API int64_t corio_file_seek(corio_file_t *f, int64_t off, int whence);

/* Close the File (see above). When the handle is on the poller, close
 * returns once the operations it woke have let go of the handle, and the
 * handle is closed by then. In blocking mode (regular files, after
 * corio_file_fd on Unix) an operation may sit in the kernel indefinitely, so
 * close does not wait: the handle is closed when that operation returns.
 * 0, or the OS's error from closing the handle (when this call closed it).
 * Errors: CORIO_ECLOSING when already closed. */
CORIO_API int corio_file_close(corio_file_t *f);

/* Release the object, closing it first if still open. Call it only once
 * every coroutine that used f has returned from its last call on it: a
 * coroutine woken by close may still be on its way out of that call when
 * close returns (join it first, e.g. with a wait group). NULL is ignored.
 * Close and free Files before corio_shutdown. */
CORIO_API void corio_file_free(corio_file_t *f);

/* The name given at open (never NULL; valid until corio_file_free). */
CORIO_API const char *corio_file_name(const corio_file_t *f);

/* Deadlines for both directions / reads / writes. Errors: CORIO_ECLOSING,
 * CORIO_ENODEADLINE (the handle is not on the poller: regular files, handles
 * in blocking mode, and every File after corio_file_fd). */
CORIO_API int corio_file_set_deadline(corio_file_t *f, int64_t deadline);
CORIO_API int corio_file_set_read_deadline(corio_file_t *f, int64_t deadline);
CORIO_API int corio_file_set_write_deadline(corio_file_t *f, int64_t deadline);

/* Run fn(handle, arg) while the File holds a reference, so the handle stays
 * open during fn (Go's SyscallConn().Control). Returns fn's result. Errors
 * (fn not called): CORIO_ECLOSING, CORIO_ETOOMANY, CORIO_EINVAL (fn NULL). */
CORIO_API int corio_file_control(corio_file_t *f, int (*fn)(corio_handle_t handle, void *arg), void *arg);

/* Hand the raw handle to the caller, who may use it directly; the File still
 * owns it and closes it. Afterwards deadlines fail with CORIO_ENODEADLINE.
 * Unix: the descriptor is switched to blocking mode (further reads and writes
 * through the File block their thread, with its P handed on).
 * Windows: the handle is detached from the runtime's completion port so the
 * caller can attach it to a port of its own; the File's own I/O then waits on
 * events. The handle keeps FILE_SKIP_COMPLETION_PORT_ON_SUCCESS, so the new
 * owner's port gets no packet for a call that completes at once (as with Go).
 * Returns CORIO_INVALID_HANDLE when f is NULL or closed. Like Go's File.Fd it
 * drops the detaching error (see corio_file_fd_ex). */
CORIO_API corio_handle_t corio_file_fd(corio_file_t *f);

/* corio_file_fd, reporting what went wrong. *out receives the handle whenever
 * the File is open, even on error (the File then keeps working as before).
 * Errors: CORIO_EINVAL (f or out NULL), CORIO_ECLOSING (*out is set to
 * CORIO_INVALID_HANDLE), CORIO_ETOOMANY; Unix: the OS error of fcntl;
 * Windows: CORIO_ENOTSUP (the system cannot detach a handle from a port, e.g.
 * Wine 8: the handle stays on the runtime's port and deadlines keep working),
 * CORIO_EINPROGRESS (I/O was in flight on the handle; it stays attached), or
 * the Win32 error of NtSetInformationFile. */
CORIO_API int corio_file_fd_ex(corio_file_t *f, corio_handle_t *out);

#ifdef __cplusplus
}
#endif
#endif
