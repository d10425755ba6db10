/* poll/fd_windows.h: the Windows half of the FD: the per-direction
 * operations and the port / event paths (fd_windows.c), reads, writes and
 * offsets (fd_rw_windows.c), detaching a handle from the runtime's completion
 * port (fd_detach_windows.c), and the socket calls only Windows has.
 *
 * Operations. An FD has one read and one write operation, each an OVERLAPPED
 * (first member, so the port's packet leads back to it) with its buffer and
 * results. The read lock (or, for regular files, the offset lock) makes sure
 * a single caller uses an operation at a time, so at most one coroutine waits
 * on the poll descriptor per direction.
 *
 * Two ways to wait for an operation:
 * - the port path: the handle is on the runtime's completion port; the
 *   coroutine parks on the poll descriptor until the packet comes, a deadline
 *   passes or the FD is closed (then the I/O is cancelled and its aborted
 *   packet awaited before the operation is reused);
 * - the event path: the handle is not on the runtime's port (it was attached
 *   to another port before corio saw it, or it was detached from ours); the
 *   OVERLAPPED carries an event whose handle has its low bit set, so the OS
 *   signals the event and queues no packet on any port, and the thread waits
 *   for the event with its P handed on (syscall_enter / exit). Deadlines do
 *   not apply there; close still cancels pending pipe and socket I/O.
 * Handles opened without FILE_FLAG_OVERLAPPED (console, CreatePipe ends) run
 * their calls synchronously in blocking mode, also with the P handed on.
 *
 * Choosing the path, and detaching. A word per FD (io, laid out below)
 * holds DETACHED, DETACHING and the number of overlapped calls in flight.
 * A call increments the count with a CAS, after waiting (yielding) while
 * DETACHING is set, and takes the port path when the FD has a poll
 * descriptor and DETACHED was clear, the event path otherwise; it decrements
 * the count once its completion is collected. Detaching moves the word from
 * exactly 0 to DETACHING, so it is refused (CORIO_EINPROGRESS) while any call
 * is in flight, and the OS call runs with none of ours in flight and none
 * starting. Success stores DETACHED (and the FD's portable `disassociated`
 * flag, which corio__fd_pollable reads); failure clears DETACHING and the
 * handle keeps working through the port. A detached handle keeps the
 * completion modes set at init (FILE_SKIP_COMPLETION_PORT_ON_SUCCESS): the
 * OS offers no way to clear them, so its new owner gets no packet for calls
 * that complete at once (and, for a handle corio opened, no signal on the
 * handle itself: corio__fd_win_own_handle).
 */
#ifndef CORIO_POLL_FD_WINDOWS_H
#define CORIO_POLL_FD_WINDOWS_H

#include <winsock2.h>
#include <windows.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "corio/sync.h"
#include "fd.h"
#include "netpoll_windows.h"
#include "sock_windows.h"

/* The io word:
 *
 *   bit 0     DETACHED   the handle left the runtime's port (never cleared)
 *   bit 1     DETACHING  corio__fd_disassociate_iocp is inside the OS call
 *   bits 2-31 the number of overlapped calls in flight, from submission to
 *             the collection of their completion (at most 2: one per
 *             operation), counted in units of CORIO__FD_IO_ONE
 *
 * Orders: a call's CAS is acq_rel (a DETACHED it sees comes with the
 * detach's effects), its decrement release (the completion is collected
 * before a detach may start); the detach's CAS from 0 is acq_rel. */
#define CORIO__FD_IO_DETACHED (1u << 0)
#define CORIO__FD_IO_DETACHING (1u << 1)
#define CORIO__FD_IO_COUNT_SHIFT 2
#define CORIO__FD_IO_ONE (1u << CORIO__FD_IO_COUNT_SHIFT)

typedef struct corio__fd_op corio__fd_op_t;

/* Start one OS call for op; ov is the operation's OVERLAPPED, or NULL for a
 * handle in blocking mode that is not positioned. Returns 0 when the call
 * completed at once (op->qty set), ERROR_IO_PENDING, or the error. */
typedef DWORD (*corio__fd_submit_fn)(corio__fd_t *fd, corio__fd_op_t *op, OVERLAPPED *ov);

struct corio__fd_op {
  corio__win_op_t base; /* must stay first: the OVERLAPPED, its pd and mode */
  HANDLE event;  /* event path only: made on first use, closed with the FD */
  WSABUF buf;    /* what to read into / write from */
  DWORD qty;     /* bytes transferred by the last call */
  DWORD flags;   /* WSARecv flags in and out */
  void *arg;     /* extra argument of the submit function (accept, connect) */
  bool on_port;  /* how the current call waits (see above) */
  bool positioned; /* blocking mode: pass the OVERLAPPED for its offset */
};

typedef struct corio__fd_win {
  corio__fd_op_t rop, wop;
  _Atomic uint32_t io;  /* DETACHED, DETACHING and the port-path count */
  bool skip_sync_notif; /* FILE_SKIP_COMPLETION_PORT_ON_SUCCESS is on */
  bool append;          /* regular file opened for appending only */
  struct corio__con *con; /* a real console: UTF-8 through ReadConsoleW /
                           * WriteConsoleW (console_windows.h); else NULL */
  /* Regular files: serialises every use of the operations and of offset
   * (reads, writes, positioned calls, seek), as Go's fd.l does, since an
   * overlapped handle has no file pointer of its own. */
  corio_mutex_t l;
  int64_t offset;       /* guarded by l; written into the OVERLAPPED per call */
} corio__fd_win_t;

/* ---- the operation engine (fd_windows.c), for the FD's other files ----
 *
 * Run one call on op through the FD's path (prepare, submit, wait, cancel
 * on a deadline or close, collect). 0 or an error (the closing error,
 * CORIO_ETIMEOUT, the call's own); op->qty holds the count, which may be
 * non-zero with ERROR_MORE_DATA. The caller holds the lock of op's direction
 * (and, for regular files, the offset lock). Also used by the socket calls
 * of sock_windows.c. */
int corio__fd_win_exec_io(corio__fd_t *fd, corio__fd_op_t *op, corio__fd_submit_fn submit);
/* The submit functions for op->buf: ReadFile / WriteFile, WSARecv / WSASend. */
DWORD corio__fd_win_submit_read(corio__fd_t *fd, corio__fd_op_t *op, OVERLAPPED *ov);
DWORD corio__fd_win_submit_write(corio__fd_t *fd, corio__fd_op_t *op, OVERLAPPED *ov);

/* The handle was opened by corio (os/: corio_file_open, corio_file_pipe), so
 * nobody else will wait on the handle itself: also skip signalling it when
 * I/O completes (FILE_SKIP_SET_EVENT_ON_HANDLE, a small saving per call).
 * Handles given to corio keep being signalled, for whoever owns them after
 * corio_file_fd. Nothing to do off the port. */
void corio__fd_win_own_handle(corio__fd_t *fd);

/* ---- detaching (fd_detach_windows.c) ---- */

/* Detach the handle from the runtime's completion port (Go's
 * DisassociateIOCP), holding a reference meanwhile, so that its owner can
 * attach it to a port of its own; the FD's own operations then take the
 * event path and deadlines stop applying (set_deadline: CORIO_ENODEADLINE).
 * 0 also when there is nothing to detach (blocking mode, never on the port,
 * already detached). Errors: the closing error, CORIO_ETOOMANY,
 * CORIO_EINPROGRESS (an operation is in flight on the port, or another detach
 * runs: the handle stays attached), CORIO_ENOTSUP (the system cannot detach,
 * e.g. Wine 8, where NtSetInformationFile(FileReplaceCompletionInformation)
 * is not implemented: the FD keeps working through the runtime's port, with
 * deadlines), or the Win32 translation of the call's NTSTATUS. */
int corio__fd_disassociate_iocp(corio__fd_t *fd);



#endif
