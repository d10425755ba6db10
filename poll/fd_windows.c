/* The FD on Windows, its engine: overlapped operations waited for on the
 * runtime's completion port, or on an event when the handle is not on that
 * port (Go's internal/poll fd_windows.go), and the FD's life cycle. The
 * paths and the per-FD io word are described in fd_windows.h; reads, writes
 * and offsets are in fd_rw_windows.c, detaching from the port in
 * fd_detach_windows.c; the socket calls (Winsock start-up, ConnectEx,
 * AcceptEx, datagrams) in sock_windows.c. */
#include "fd_windows.h"
#include "console_windows.h"

#include <winternl.h>

#include <errno.h>

#include "corio/runtime.h"

/* Not in every SDK's headers. */
#ifndef ERROR_HANDLES_CLOSED
#define ERROR_HANDLES_CLOSED 676L
#endif
#define FILE_MODE_INFORMATION_CLASS 16          /* FileModeInformation */
#define MODE_SYNCHRONOUS_IO (0x10 | 0x20)       /* FILE_SYNCHRONOUS_IO_ALERT | _NONALERT */

static corio__fd_win_t *win(corio__fd_t *fd) { return (corio__fd_win_t *)fd->sys; }
static bool is_socket(const corio__fd_t *fd) {
  return fd->kind == CORIO__FD_STREAM || fd->kind == CORIO__FD_DGRAM;
}
static bool is_closed(corio__fd_t *fd) { return corio__fdmu_closed(&fd->mu); }

/* ---- errors ---- */

static int win32_err(DWORD code) { return corio_err_from_win32((uint32_t)code); }

/* ---- the two paths ---- */

/* Count the call in the io word, waiting out a detach in progress (a few
 * microseconds of one OS call): while DETACHING is set none of our I/O may
 * be in flight. Returns the word as it was, which tells the path. */
static uint32_t io_enter(corio__fd_win_t *w) {
  /* Acquire: a DETACHED seen here comes with the detach's effects. */
  uint32_t s = atomic_load_explicit(&w->io, memory_order_acquire);
  for (;;) {
    if (s & CORIO__FD_IO_DETACHING) {
      if (corio_yield() != 0) SwitchToThread();
      s = atomic_load_explicit(&w->io, memory_order_acquire);
      continue;
    }
    if (atomic_compare_exchange_weak_explicit(&w->io, &s, s + CORIO__FD_IO_ONE, memory_order_acq_rel,
                                              memory_order_acquire))
      return s;
  }
}

static void io_leave(corio__fd_win_t *w) {
  /* Release: the completion is collected before a detach may start. */
  atomic_fetch_sub_explicit(&w->io, CORIO__FD_IO_ONE, memory_order_release);
}

/* Make op ready for one call on the path the FD is on (fd_windows.h). */
static int op_ready(corio__fd_t *fd, corio__fd_op_t *op) {
  OVERLAPPED *ov = &op->base.ov;
  ov->Internal = 0;
  ov->InternalHigh = 0;
  if (op->on_port) {
    ov->hEvent = NULL;
    return corio__fd_poll_prepare(fd, op->base.mode);
  }
  if (!op->event) {
    op->event = CreateEventW(NULL, TRUE, FALSE, NULL); /* manual reset */
    if (!op->event) return win32_err(GetLastError());
  }
  /* The I/O manager clears it when a call starts; a provider that would not
   * must not leave the last completion's signal to end our next wait. */
  ResetEvent(op->event);
  /* The low bit keeps the completion off any port the handle may be on. */
  ov->hEvent = (HANDLE)((uintptr_t)op->event | 1);
  /* No deadline here: a poll descriptor left from before a detach may hold
   * an expired one that nothing can clear any more. */
  return is_closed(fd) ? corio__fd_closing_error(fd) : 0;
}

/* Begin one call: count it and choose its path. 0, or the error that
 * forbids the call (then nothing is counted): the poll descriptor's
 * (closing, deadline) on the port path; closing, or no event, otherwise. */
static int op_begin(corio__fd_t *fd, corio__fd_op_t *op) {
  corio__fd_win_t *w = win(fd);
  uint32_t s = io_enter(w);
  op->on_port = fd->pd && !(s & CORIO__FD_IO_DETACHED);
  int err = op_ready(fd, op);
  if (err) io_leave(w);
  return err;
}

static void op_end(corio__fd_t *fd) { io_leave(win(fd)); }

/* Wait for a call that returned ERROR_IO_PENDING (or, on the port path, a
 * synchronous success whose packet still comes). 0, or why the wait ended
 * early (closing, CORIO_ETIMEOUT): the I/O may then still be in flight. */
static int wait_io(corio__fd_t *fd, corio__fd_op_t *op) {
  if (op->on_port) return corio__fd_poll_wait(fd, op->base.mode);
  /* Close sets the closed bit, then cancels pipe and socket I/O. A call
   * submitted after that cancel would wait for ever, so look again now that
   * ours is in the kernel: one of the two sides sees the other. */
  atomic_thread_fence(memory_order_seq_cst);
  if (is_closed(fd)) CancelIoEx((HANDLE)fd->handle, &op->base.ov);
  corio_syscall_enter();
  DWORD r = WaitForSingleObject(op->event, INFINITE);
  corio_syscall_exit();
  if (r != WAIT_OBJECT_0) corio__throw("poll: waiting for an overlapped I/O event failed");
  return 0;
}

/* The wait ended early: cancel the call and wait for its completion, which
 * may report success if the I/O won the race (Go's cancelIO). */
static void cancel_io(corio__fd_t *fd, corio__fd_op_t *op) {
  /* A failure other than ERROR_NOT_FOUND (already complete) is possible:
   * sockets behind a layered provider without IFS handles may refuse the
   * cancel. The OS still owns the OVERLAPPED and the buffer, so the only
   * safe course is the one below: wait until the operation completes by
   * itself (the peer sends, the connection ends), however long that is. */
  (void)CancelIoEx((HANDLE)fd->handle, &op->base.ov);
  if (op->on_port) {
    corio__fd_poll_wait_canceled(fd, op->base.mode);
  } else {
    corio_syscall_enter();
    WaitForSingleObject(op->event, INFINITE);
    corio_syscall_exit();
  }
}

/* The final result of a completed call: 0 or its error; op->qty is set. */
static DWORD overlapped_result(corio__fd_t *fd, corio__fd_op_t *op) {
  DWORD qty = 0, code = 0;
  if (is_socket(fd)) {
    DWORD flags = 0;
    if (!WSAGetOverlappedResult((SOCKET)fd->handle, &op->base.ov, &qty, FALSE, &flags))
      code = (DWORD)WSAGetLastError();
    op->flags = flags;
  } else if (!GetOverlappedResult((HANDLE)fd->handle, &op->base.ov, &qty, FALSE)) {
    code = GetLastError();
  }
  op->qty = qty;
  return code;
}

/* Blocking mode: the call blocks the thread, so the P goes to another M. */
static DWORD exec_blocking(corio__fd_t *fd, corio__fd_op_t *op, corio__fd_submit_fn submit) {
  OVERLAPPED *ov = NULL;
  if (op->positioned) {
    ov = &op->base.ov;
    ov->Internal = ov->InternalHigh = 0;
    ov->hEvent = NULL;
  }
  corio_syscall_enter();
  DWORD code = submit(fd, op, ov);
  corio_syscall_exit();
  return code;
}

/* Overlapped submissions that completed inside the OS call with the P handed
 * on (tests look). */
static _Atomic uint64_t file_handoffs;

/* Start an overlapped call. On a regular file the call itself may do the
 * work: NTFS completes synchronously, overlapped handle or not, every write
 * that extends the file (each append) and I/O on compressed or encrypted
 * files, and a cache miss may wait for the disk. So file calls go through the
 * syscall handoff, as Go's do, and a long one does not stall the coroutines
 * queued on this P. Pipes and sockets return at once: no handoff. */
static DWORD submit_overlapped(corio__fd_t *fd, corio__fd_op_t *op, corio__fd_submit_fn submit) {
  if (fd->kind != CORIO__FD_FILE) return submit(fd, op, &op->base.ov);
  bool handed = corio_syscall_enter() == 0;
  DWORD code = submit(fd, op, &op->base.ov);
  if (handed) {
    corio_syscall_exit();
    atomic_fetch_add_explicit(&file_handoffs, 1, memory_order_relaxed);
  }
  return code;
}

uint64_t corio__fd_win_debug_file_handoffs(void) {
  return atomic_load_explicit(&file_handoffs, memory_order_relaxed);
}

/* Turn a call's final code into 0 or a corio error (Go's execIO mapping). */
static int result_error(corio__fd_t *fd, DWORD code, int wait_err) {
  switch (code) {
  case 0: return 0;
  case ERROR_OPERATION_ABORTED:
    /* We cancelled it: say why. Close cancels pipe and socket I/O too. */
    if (wait_err) return wait_err;
    if (is_closed(fd)) return corio__fd_closing_error(fd);
    break;
  case ERROR_IO_INCOMPLETE:
    /* The wait gave up before the I/O did; its reason says more. (await_io
     * does not return it; a submit function may.) */
    if (wait_err) return wait_err;
    break;
  case ERROR_HANDLES_CLOSED:
    /* Wine completes a receive pending on a socket closed under it with
     * STATUS_HANDLES_CLOSED rather than an abort. */
    return corio__fd_closing_error(fd);
  default: break;
  }
  return win32_err(code);
}

/* Wait for a call in flight until the OS has finished with it, cancelling
 * it if the wait ends early (*wait_err then says why). Returns its final
 * code. A wake-up that finds the call still incomplete (a packet left over
 * from an earlier call, which the OS may queue for a synchronous warning
 * such as ERROR_MORE_DATA) is not the end: the OS still owns the OVERLAPPED
 * and the buffer, so we wait again. */
static DWORD await_io(corio__fd_t *fd, corio__fd_op_t *op, int *wait_err) {
  *wait_err = wait_io(fd, op);
  if (*wait_err) cancel_io(fd, op);
  DWORD code = overlapped_result(fd, op);
  while (code == ERROR_IO_INCOMPLETE) {
    if (*wait_err) {
      cancel_io(fd, op);
    } else {
      *wait_err = wait_io(fd, op);
      if (*wait_err) cancel_io(fd, op);
    }
    code = overlapped_result(fd, op);
  }
  return code;
}


/* Coroutine stacks commit on demand (runtime/sched/os_windows.c): a buffer on
 * the caller's stack may reach below the committed part. Touch it here, top
 * down, so that user mode grows the stack through its guard page: an access
 * the kernel makes on the OS call's behalf is not documented to grow a user
 * stack. Two compares when the buffer is elsewhere or already committed. */
static void probe_stack_buffer(const void *buf, size_t len) {
  uintptr_t limit, bottom, lo = (uintptr_t)buf;
  __asm__ volatile("movq %%gs:0x10, %0\n\tmovq %%gs:0x1478, %1" : "=r"(limit), "=r"(bottom));
  if (len == 0 || lo >= limit || lo + len <= bottom) return;
  uintptr_t a = (lo + len - 1 < limit ? lo + len - 1 : limit - 1) & ~(uintptr_t)4095;
  for (; a >= (lo & ~(uintptr_t)4095) && a >= bottom; a -= 4096) (void)*(volatile const char *)a;
}

/* Run one call on op: prepare, submit, wait when it pends, cancel when the
 * wait ends early, collect the result. 0 or an error; op->qty holds the
 * count (it may be non-zero with ERROR_MORE_DATA). */
static int exec_io(corio__fd_t *fd, corio__fd_op_t *op, corio__fd_submit_fn submit) {
  op->qty = 0;
  op->flags = 0;
  if (submit == corio__fd_win_submit_read || submit == corio__fd_win_submit_write)
    probe_stack_buffer(op->buf.buf, op->buf.len);
  if (atomic_load_explicit(&fd->blocking, memory_order_relaxed))
    return result_error(fd, exec_blocking(fd, op, submit), 0);
  int err = op_begin(fd, op);
  if (err) return err;
  DWORD code = submit_overlapped(fd, op, submit);
  int wait_err = 0;
  /* A synchronous success queues a packet unless the port is skipped; on
   * the event path it is simply done. */
  if (code == ERROR_IO_PENDING || (code == 0 && op->on_port && !win(fd)->skip_sync_notif))
    code = await_io(fd, op, &wait_err);
  else if (code == ERROR_MORE_DATA || code == WSAEMSGSIZE)
    op->qty = (DWORD)op->base.ov.InternalHigh; /* a failed call reports no count */
  op_end(fd);
  return result_error(fd, code, wait_err);
}

int corio__fd_win_exec_io(corio__fd_t *fd, corio__fd_op_t *op, corio__fd_submit_fn submit) {
  return exec_io(fd, op, submit);
}

/* ---- submit functions ---- */

static DWORD last_error(BOOL ok) { return ok ? 0 : GetLastError(); }
static DWORD wsa_error(int r) { return r == 0 ? 0 : (DWORD)WSAGetLastError(); }

DWORD corio__fd_win_submit_read(corio__fd_t *fd, corio__fd_op_t *op, OVERLAPPED *ov) {
  if (is_socket(fd))
    return wsa_error(WSARecv((SOCKET)fd->handle, &op->buf, 1, &op->qty, &op->flags, ov, NULL));
  return last_error(ReadFile((HANDLE)fd->handle, op->buf.buf, op->buf.len, &op->qty, ov));
}

DWORD corio__fd_win_submit_write(corio__fd_t *fd, corio__fd_op_t *op, OVERLAPPED *ov) {
  if (is_socket(fd))
    return wsa_error(WSASend((SOCKET)fd->handle, &op->buf, 1, &op->qty, 0, ov, NULL));
  return last_error(WriteFile((HANDLE)fd->handle, op->buf.buf, op->buf.len, &op->qty, ov));
}

/* ---- life cycle ---- */

/* Opened without FILE_FLAG_OVERLAPPED? Such a handle completes every call
 * synchronously, with no packet (CreatePipe ends, most console and standard
 * handles). When the system cannot tell, believe the caller. */
static bool handle_is_synchronous(HANDLE h) {
  IO_STATUS_BLOCK iosb;
  ULONG mode = 0;
  NTSTATUS st = NtQueryInformationFile(h, &iosb, &mode, sizeof mode,
                                       (FILE_INFORMATION_CLASS)FILE_MODE_INFORMATION_CLASS);
  return st == 0 && (mode & MODE_SYNCHRONOUS_IO);
}

/* A regular file opened for appending only (FILE_APPEND_DATA without
 * FILE_WRITE_DATA): overlapped writes must ask for the end explicitly. */
static bool handle_appends(HANDLE h) {
  PUBLIC_OBJECT_BASIC_INFORMATION info;
  if (NtQueryObject(h, ObjectBasicInformation, &info, sizeof info, NULL) != 0) return false;
  return (info.GrantedAccess & FILE_APPEND_DATA) && !(info.GrantedAccess & FILE_WRITE_DATA);
}

static void op_init(corio__fd_t *fd, corio__fd_op_t *op, int mode) {
  op->base.ov = (OVERLAPPED){0};
  op->base.pd = fd->pd;
  op->base.mode = mode;
  op->event = NULL;
}

/* Put the handle on the runtime's port, eagerly (Go 1.25): a handle the port
 * refuses (ERROR_INVALID_PARAMETER: already attached to another port) keeps
 * no descriptor and waits on events. Other errors are the caller's. */
static int attach(corio__fd_t *fd) {
  int err = corio__fd_poll_init(fd);
  if (err == win32_err(ERROR_INVALID_PARAMETER)) return 0;
  if (err) return err;
  /* Not FILE_SKIP_SET_EVENT_ON_HANDLE here: it cannot be cleared, and a
   * later owner of a handle corio did not open may wait on the handle
   * itself; corio__fd_win_own_handle adds it for handles corio opened. */
  if (!is_socket(fd) || corio__wsa_skip_sync_ok())
    win(fd)->skip_sync_notif =
        SetFileCompletionNotificationModes((HANDLE)fd->handle, FILE_SKIP_COMPLETION_PORT_ON_SUCCESS);
  return 0;
}

void corio__fd_win_own_handle(corio__fd_t *fd) {
  if (win(fd)->skip_sync_notif)
    SetFileCompletionNotificationModes(
        (HANDLE)fd->handle, FILE_SKIP_COMPLETION_PORT_ON_SUCCESS | FILE_SKIP_SET_EVENT_ON_HANDLE);
}

int corio__fd_init(corio__fd_t *fd, uintptr_t handle, int kind, bool is_file, bool pollable) {
  if (handle == 0 || handle == (uintptr_t)INVALID_HANDLE_VALUE) return CORIO_EBADF;
  if (kind < CORIO__FD_FILE || kind > CORIO__FD_DGRAM) return CORIO_EINVAL;
  bool sock = kind == CORIO__FD_STREAM || kind == CORIO__FD_DGRAM;
  if (sock) {
    int err = corio__wsa_init();
    if (err) return err;
  } else if (GetFileType((HANDLE)handle) == FILE_TYPE_UNKNOWN && GetLastError() != NO_ERROR) {
    return CORIO_EBADF;
  }
  if (kind == CORIO__FD_CONSOLE || handle_is_synchronous((HANDLE)handle)) pollable = false;

  corio__fd_win_t *w = corio__calloc(1, sizeof *w);
  if (!w) return CORIO_ENOMEM;
  atomic_init(&fd->mu.state, 0);
  fd->mu.rsema = fd->mu.wsema = 0;
  fd->handle = handle;
  fd->pd = NULL;
  fd->kind = kind;
  fd->is_file = is_file;
  fd->zero_read_is_eof = kind != CORIO__FD_DGRAM;
  atomic_init(&fd->blocking, !pollable);
  atomic_init(&fd->disassociated, false);
  fd->csema = 0;
  fd->short_read_drains = false; /* the Unix short-read rule: completions need none */
  fd->read_drained = false;
  fd->sys = w;
  atomic_init(&w->io, 0);
  w->l = (corio_mutex_t)CORIO_MUTEX_INIT;
  if (kind == CORIO__FD_FILE) w->append = handle_appends((HANDLE)handle);
  DWORD con_mode;
  if (kind == CORIO__FD_CONSOLE && GetConsoleMode((HANDLE)handle, &con_mode)) {
    w->con = corio__calloc(1, sizeof *w->con);
    if (!w->con) {
      fd->sys = NULL;
      corio__free(w);
      return CORIO_ENOMEM;
    }
  }

  int err = pollable ? attach(fd) : 0;
  if (err) {
    fd->sys = NULL;
    corio__free(w->con);
    corio__free(w);
    return err;
  }
  op_init(fd, &w->rop, 'r');
  op_init(fd, &w->wop, 'w');
  return 0;
}

void corio__fd_sys_close_begin(corio__fd_t *fd) {
  /* Pending pipe and socket I/O would otherwise wait for a peer (Go cancels
   * pipes here). Port-path waiters are also woken by the eviction that
   * follows; event-path waiters only by this. */
  if (fd->kind != CORIO__FD_FILE && fd->kind != CORIO__FD_CONSOLE)
    CancelIoEx((HANDLE)fd->handle, NULL);
}

int corio__fd_sys_destroy(corio__fd_t *fd) {
  corio__fd_win_t *w = win(fd);
  /* No operation is in flight: every one held a reference. */
  if (w->rop.event) CloseHandle(w->rop.event);
  if (w->wop.event) CloseHandle(w->wop.event);
  /* The descriptor is closed (its sequence bumped), so the backend reads
   * no operation of ours from now on. Poison them anyway: a reader of freed
   * memory then sees an operation of no descriptor and drops the packet as
   * foreign, which the stress test counts, instead of readying a stranger. */
  w->rop.base.pd = w->wop.base.pd = NULL;
  w->rop.base.mode = w->wop.base.mode = 0;
  int err = 0;
  if (is_socket(fd)) {
    if (closesocket((SOCKET)fd->handle) != 0) err = win32_err((DWORD)WSAGetLastError());
  } else if (!CloseHandle((HANDLE)fd->handle)) {
    err = win32_err(GetLastError());
  }
  fd->handle = (uintptr_t)INVALID_HANDLE_VALUE;
  fd->sys = NULL;
  corio__free(w->con);
  corio__free(w);
  return err;
}

bool corio__fd_win_skips_sync(corio__fd_t *fd) { return win(fd)->skip_sync_notif; }
uint32_t corio__fd_win_io_word(corio__fd_t *fd) {
  return atomic_load_explicit(&win(fd)->io, memory_order_acquire);
}

