/* The FD on Windows: overlapped operations waited for on the runtime's
 * completion port, or on an event when the handle is not on that port (Go's
 * internal/poll fd_windows.go, with the IOCP disassociation of Go 1.25). The
 * paths, the per-FD io word and detaching are described in fd_windows.h. */
#include "fd_windows.h"

#include <mswsock.h>
#include <winternl.h>

#include <errno.h>

#include "corio/runtime.h"

/* Not in every SDK's headers. */
#ifndef ERROR_HANDLES_CLOSED
#define ERROR_HANDLES_CLOSED 676L
#endif
#define FILE_MODE_INFORMATION_CLASS 16          /* FileModeInformation */
#define FILE_REPLACE_COMPLETION_INFORMATION 61  /* FileReplaceCompletionInformation */
#define MODE_SYNCHRONOUS_IO (0x10 | 0x20)       /* FILE_SYNCHRONOUS_IO_ALERT | _NONALERT */
#define NT_STATUS_NOT_IMPLEMENTED ((NTSTATUS)0xC0000002L)
#define NT_STATUS_INVALID_INFO_CLASS ((NTSTATUS)0xC0000003L)
#define NT_STATUS_NOT_SUPPORTED ((NTSTATUS)0xC00000BBL)

/* FILE_COMPLETION_INFORMATION: the port a handle reports to, and its key. */
typedef struct completion_info {
  HANDLE port;
  void *key;
} completion_info_t;

/* The io word (fd_windows.h). */
#define IO_DETACHED 1u
#define IO_DETACHING 2u
#define IO_ONE 4u

static corio__fd_win_t *win(corio__fd_t *fd) { return (corio__fd_win_t *)fd->sys; }
static bool is_socket(const corio__fd_t *fd) {
  return fd->kind == CORIO__FD_STREAM || fd->kind == CORIO__FD_DGRAM;
}
static bool is_closed(corio__fd_t *fd) { return corio__fdmu_closed(&fd->mu); }

/* ---- Winsock, once per process ---- */

static INIT_ONCE wsa_once = INIT_ONCE_STATIC_INIT;
static int wsa_err;
/* Skipping the port on synchronous success is unsafe for sockets when a
 * layered provider without IFS handles is installed (Microsoft KB 2568167);
 * Go checks the TCP providers the same way. */
static bool wsa_skip_ok;

static BOOL CALLBACK wsa_start(PINIT_ONCE once, void *param, void **ctx) {
  WSADATA d;
  int e = WSAStartup(MAKEWORD(2, 2), &d);
  if (e != 0) {
    wsa_err = corio_err_from_win32((uint32_t)e);
    return TRUE;
  }
  /* On the heap: this may run on a small coroutine stack. */
  enum { MAX_PROVIDERS = 32 };
  int protos[2] = {IPPROTO_TCP, 0};
  WSAPROTOCOL_INFOW *info = corio__calloc(MAX_PROVIDERS, sizeof *info);
  DWORD len = MAX_PROVIDERS * sizeof *info;
  int n = info ? WSAEnumProtocolsW(protos, info, &len) : SOCKET_ERROR;
  bool ok = n != SOCKET_ERROR; /* unknown: do not skip */
  for (int i = 0; i < n; i++)
    if (!(info[i].dwServiceFlags1 & XP1_IFS_HANDLES)) ok = false;
  wsa_skip_ok = ok;
  corio__free(info);
  return TRUE;
}

static int wsa_init(void) {
  InitOnceExecuteOnce(&wsa_once, wsa_start, NULL, NULL);
  return wsa_err;
}

/* ---- errors ---- */

static int win32_err(DWORD code) { return corio_err_from_win32((uint32_t)code); }

/* An NTSTATUS from the detach call: "this system cannot" is its own error. */
static int nt_err(NTSTATUS st) {
  if (st == NT_STATUS_NOT_IMPLEMENTED || st == NT_STATUS_INVALID_INFO_CLASS ||
      st == NT_STATUS_NOT_SUPPORTED)
    return CORIO_ENOTSUP;
  return win32_err(RtlNtStatusToDosError(st));
}

/* ---- the two paths ---- */

/* Count the call in the io word, waiting out a detach in progress (a few
 * microseconds of one OS call): while DETACHING is set none of our I/O may
 * be in flight. Returns the word as it was, which tells the path. */
static uint32_t io_enter(corio__fd_win_t *w) {
  /* Acquire: a DETACHED seen here comes with the detach's effects. */
  uint32_t s = atomic_load_explicit(&w->io, memory_order_acquire);
  for (;;) {
    if (s & IO_DETACHING) {
      if (corio_yield() != 0) SwitchToThread();
      s = atomic_load_explicit(&w->io, memory_order_acquire);
      continue;
    }
    if (atomic_compare_exchange_weak_explicit(&w->io, &s, s + IO_ONE, memory_order_acq_rel,
                                              memory_order_acquire))
      return s;
  }
}

static void io_leave(corio__fd_win_t *w) {
  /* Release: the completion is collected before a detach may start. */
  atomic_fetch_sub_explicit(&w->io, IO_ONE, memory_order_release);
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
  op->on_port = fd->pd && !(s & IO_DETACHED);
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
  if (!CancelIoEx((HANDLE)fd->handle, &op->base.ov) && GetLastError() != ERROR_NOT_FOUND)
    corio__throw("poll: CancelIoEx failed on a pending operation");
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

/* Run one call on op: prepare, submit, wait when it pends, cancel when the
 * wait ends early, collect the result. 0 or an error; op->qty holds the
 * count (it may be non-zero with ERROR_MORE_DATA). */
static int exec_io(corio__fd_t *fd, corio__fd_op_t *op, corio__fd_submit_fn submit) {
  op->qty = 0;
  op->flags = 0;
  if (atomic_load_explicit(&fd->blocking, memory_order_relaxed))
    return result_error(fd, exec_blocking(fd, op, submit), 0);
  int err = op_begin(fd, op);
  if (err) return err;
  DWORD code = submit(fd, op, &op->base.ov);
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

/* ---- submit functions ---- */

static DWORD last_error(BOOL ok) { return ok ? 0 : GetLastError(); }
static DWORD wsa_error(int r) { return r == 0 ? 0 : (DWORD)WSAGetLastError(); }

static DWORD submit_read(corio__fd_t *fd, corio__fd_op_t *op, OVERLAPPED *ov) {
  if (is_socket(fd))
    return wsa_error(WSARecv((SOCKET)fd->handle, &op->buf, 1, &op->qty, &op->flags, ov, NULL));
  return last_error(ReadFile((HANDLE)fd->handle, op->buf.buf, op->buf.len, &op->qty, ov));
}

static DWORD submit_write(corio__fd_t *fd, corio__fd_op_t *op, OVERLAPPED *ov) {
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
  if (!is_socket(fd) || wsa_skip_ok)
    win(fd)->skip_sync_notif = SetFileCompletionNotificationModes(
        (HANDLE)fd->handle, FILE_SKIP_COMPLETION_PORT_ON_SUCCESS | FILE_SKIP_SET_EVENT_ON_HANDLE);
  return 0;
}

int corio__fd_init(corio__fd_t *fd, uintptr_t handle, int kind, bool is_file, bool pollable) {
  if (handle == 0 || handle == (uintptr_t)INVALID_HANDLE_VALUE) return CORIO_EBADF;
  if (kind < CORIO__FD_FILE || kind > CORIO__FD_DGRAM) return CORIO_EINVAL;
  bool sock = kind == CORIO__FD_STREAM || kind == CORIO__FD_DGRAM;
  if (sock) {
    int err = wsa_init();
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

  int err = pollable ? attach(fd) : 0;
  if (err) {
    fd->sys = NULL;
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
  int err = 0;
  if (is_socket(fd)) {
    if (closesocket((SOCKET)fd->handle) != 0) err = win32_err((DWORD)WSAGetLastError());
  } else if (!CloseHandle((HANDLE)fd->handle)) {
    err = win32_err(GetLastError());
  }
  fd->handle = (uintptr_t)INVALID_HANDLE_VALUE;
  fd->sys = NULL;
  corio__free(w);
  return err;
}

/* ---- detaching from the port ---- */

static int detach(corio__fd_t *fd) {
  corio__fd_win_t *w = win(fd);
  if (atomic_load_explicit(&fd->blocking, memory_order_relaxed) || !fd->pd) return 0;
  uint32_t s = 0;
  if (!atomic_compare_exchange_strong_explicit(&w->io, &s, IO_DETACHING, memory_order_acq_rel,
                                               memory_order_acquire))
    return (s & IO_DETACHED) ? 0 : CORIO_EINPROGRESS;
  completion_info_t info = {NULL, NULL};
  IO_STATUS_BLOCK iosb;
  NTSTATUS st = NtSetInformationFile((HANDLE)fd->handle, &iosb, &info, sizeof info,
                                     (FILE_INFORMATION_CLASS)FILE_REPLACE_COMPLETION_INFORMATION);
  if (st != 0) {
    atomic_fetch_and_explicit(&w->io, ~IO_DETACHING, memory_order_release);
    return nt_err(st);
  }
  /* No call started while DETACHING was set, so the count is still 0. */
  atomic_store_explicit(&w->io, IO_DETACHED, memory_order_release);
  atomic_store_explicit(&fd->disassociated, true, memory_order_release);
  /* The poll descriptor stays until destroy: closing it here would race
   * with set_deadline and close (Go leaves it too). */
  return 0;
}

int corio__fd_disassociate_iocp(corio__fd_t *fd) {
  int err = corio__fd_incref(fd);
  if (err) return err;
  err = detach(fd);
  corio__fd_decref(fd);
  return err;
}

bool corio__fd_win_skips_sync(corio__fd_t *fd) { return win(fd)->skip_sync_notif; }
uint32_t corio__fd_win_io_word(corio__fd_t *fd) {
  return atomic_load_explicit(&win(fd)->io, memory_order_acquire);
}

/* ---- reads and writes ---- */

static bool overlapped_file(corio__fd_t *fd) {
  return fd->kind == CORIO__FD_FILE && !atomic_load_explicit(&fd->blocking, memory_order_relaxed);
}

static void set_offset(corio__fd_op_t *op, int64_t off) {
  op->base.ov.Offset = (DWORD)(uint64_t)off;
  op->base.ov.OffsetHigh = (DWORD)((uint64_t)off >> 32);
}

/* A read's count or error, with EOF where Go's os sees one. */
static ptrdiff_t read_result(corio__fd_t *fd, corio__fd_op_t *op, int err, size_t len) {
  if (err == win32_err(ERROR_HANDLE_EOF)) return CORIO_EEOF;
  /* ReadFile documents ERROR_BROKEN_PIPE for a pipe whose writer left. */
  if (err == win32_err(ERROR_BROKEN_PIPE) && fd->kind == CORIO__FD_PIPE) return CORIO_EEOF;
  /* A message longer than the buffer: the part that fits is the answer. */
  if (err == win32_err(ERROR_MORE_DATA) || err == win32_err(WSAEMSGSIZE))
    return op->qty > 0 ? (ptrdiff_t)op->qty : err;
  if (err) return err;
  if (op->qty == 0 && len > 0 && fd->zero_read_is_eof) return CORIO_EEOF;
  return (ptrdiff_t)op->qty;
}

/* The offset lock, for regular files only. It parks, so it fails off a
 * coroutine (CORIO_ENOTCORO); then nothing is held. */
static int lock_offset(corio__fd_t *fd) {
  return fd->kind == CORIO__FD_FILE ? corio_mutex_lock(&win(fd)->l) : 0;
}
static void unlock_offset(corio__fd_t *fd) {
  if (fd->kind == CORIO__FD_FILE) corio_mutex_unlock(&win(fd)->l);
}

ptrdiff_t corio__fd_read(corio__fd_t *fd, void *buf, size_t len) {
  int err = corio__fd_read_lock(fd);
  if (err) return err;
  ptrdiff_t n = 0;
  if (len > 0 && (n = lock_offset(fd)) == 0) {
    corio__fd_win_t *w = win(fd);
    corio__fd_op_t *op = &w->rop;
    op->buf.buf = buf;
    op->buf.len = (ULONG)(len < CORIO__FD_MAX_RW ? len : CORIO__FD_MAX_RW);
    op->positioned = false;
    bool file = overlapped_file(fd);
    if (file) set_offset(op, w->offset);
    err = exec_io(fd, op, submit_read);
    if (file) w->offset += op->qty;
    n = read_result(fd, op, err, len);
    unlock_offset(fd);
  }
  corio__fd_read_unlock(fd);
  return n;
}

/* Append-only files: the end of file, where the OS just wrote. */
static int64_t end_offset(corio__fd_t *fd, int64_t fallback) {
  LARGE_INTEGER size;
  return GetFileSizeEx((HANDLE)fd->handle, &size) ? size.QuadPart : fallback;
}

/* Write [buf, buf + len) through the write operation, in chunks of at most
 * CORIO__FD_MAX_RW. off < 0: at the FD's offset (regular files) or wherever
 * the handle writes; otherwise at off. Count, short count or error (fd.h). */
static ptrdiff_t write_all(corio__fd_t *fd, const char *buf, size_t len, int64_t off) {
  corio__fd_win_t *w = win(fd);
  corio__fd_op_t *op = &w->wop;
  bool file = overlapped_file(fd);
  op->positioned = off >= 0;
  size_t done = 0;
  int err = 0;
  while (done < len) {
    size_t chunk = len - done < CORIO__FD_MAX_RW ? len - done : CORIO__FD_MAX_RW;
    op->buf.buf = (char *)buf + done;
    op->buf.len = (ULONG)chunk;
    if (off >= 0) set_offset(op, off + (int64_t)done);
    else if (file && w->append) set_offset(op, -1); /* 0xFFFFFFFF:0xFFFFFFFF, the end */
    else if (file) set_offset(op, w->offset);
    err = exec_io(fd, op, submit_write);
    done += op->qty;
    if (off < 0 && file) w->offset = w->append ? end_offset(fd, w->offset) : w->offset + op->qty;
    if (err) break;
    if (op->qty == 0) {
      err = CORIO_ESHORTWRITE;
      break;
    }
  }
  return done > 0 ? (ptrdiff_t)done : err;
}

ptrdiff_t corio__fd_write(corio__fd_t *fd, const void *buf, size_t len) {
  int err = corio__fd_write_lock(fd);
  if (err) return err;
  ptrdiff_t n = 0;
  if (len > 0 && (n = lock_offset(fd)) == 0) {
    n = write_all(fd, buf, len, -1);
    unlock_offset(fd);
  }
  corio__fd_write_unlock(fd);
  return n;
}

/* Positioned calls: regular files only, under a reference and the offset
 * lock (which also keeps the read and write operations to one user). A
 * handle in blocking mode moves its file pointer even for a positioned
 * call, so it is put back afterwards, as Go does. */
static int positioned_begin(corio__fd_t *fd, int64_t off, LARGE_INTEGER *saved) {
  if (off < 0) return CORIO_EINVAL;
  if (fd->kind != CORIO__FD_FILE) return corio_err_from_errno(ESPIPE);
  int err = corio__fd_incref(fd);
  if (err) return err;
  err = lock_offset(fd);
  if (err) {
    corio__fd_decref(fd);
    return err;
  }
  saved->QuadPart = -1;
  if (atomic_load_explicit(&fd->blocking, memory_order_relaxed)) {
    LARGE_INTEGER zero = {.QuadPart = 0};
    if (!SetFilePointerEx((HANDLE)fd->handle, zero, saved, FILE_CURRENT)) {
      err = win32_err(GetLastError());
      unlock_offset(fd);
      corio__fd_decref(fd);
    }
  }
  return err;
}

static void positioned_end(corio__fd_t *fd, const LARGE_INTEGER *saved) {
  if (saved->QuadPart >= 0) SetFilePointerEx((HANDLE)fd->handle, *saved, NULL, FILE_BEGIN);
  unlock_offset(fd);
  corio__fd_decref(fd);
}

ptrdiff_t corio__fd_pread(corio__fd_t *fd, void *buf, size_t len, int64_t off) {
  LARGE_INTEGER saved;
  int err = positioned_begin(fd, off, &saved);
  if (err) return err;
  ptrdiff_t n = 0;
  if (len > 0) {
    corio__fd_op_t *op = &win(fd)->rop;
    op->buf.buf = buf;
    op->buf.len = (ULONG)(len < CORIO__FD_MAX_RW ? len : CORIO__FD_MAX_RW);
    op->positioned = true;
    set_offset(op, off);
    n = read_result(fd, op, exec_io(fd, op, submit_read), len);
  }
  positioned_end(fd, &saved);
  return n;
}

ptrdiff_t corio__fd_pwrite(corio__fd_t *fd, const void *buf, size_t len, int64_t off) {
  LARGE_INTEGER saved;
  int err = positioned_begin(fd, off, &saved);
  if (err) return err;
  ptrdiff_t n = len > 0 ? write_all(fd, buf, len, off) : 0;
  positioned_end(fd, &saved);
  return n;
}

/* The new offset of an overlapped handle, which has no file pointer of its
 * own: Go's rule, SEEK_CUR from our offset, SEEK_END from the size. */
static int64_t overlapped_seek(corio__fd_t *fd, int64_t off, int whence) {
  int64_t base = 0;
  if (whence == 1) base = win(fd)->offset;
  if (whence == 2) {
    LARGE_INTEGER size;
    if (!GetFileSizeEx((HANDLE)fd->handle, &size)) return win32_err(GetLastError());
    base = size.QuadPart;
  }
  if ((off > 0 && base > INT64_MAX - off) || base + off < 0) return CORIO_EINVAL;
  /* Keep the handle's own pointer in step for whoever inherits it. */
  LARGE_INTEGER to = {.QuadPart = base + off};
  if (!SetFilePointerEx((HANDLE)fd->handle, to, NULL, FILE_BEGIN)) return win32_err(GetLastError());
  return base + off;
}

int64_t corio__fd_seek(corio__fd_t *fd, int64_t off, int whence) {
  if (whence < 0 || whence > 2) return CORIO_EINVAL;
  if (fd->kind != CORIO__FD_FILE) return corio_err_from_errno(ESPIPE);
  int err = corio__fd_incref(fd);
  if (err) return err;
  err = lock_offset(fd);
  if (err) {
    corio__fd_decref(fd);
    return err;
  }
  corio__fd_win_t *w = win(fd);
  int64_t res;
  if (atomic_load_explicit(&fd->blocking, memory_order_relaxed)) {
    LARGE_INTEGER to = {.QuadPart = off}, now;
    static const DWORD method[3] = {FILE_BEGIN, FILE_CURRENT, FILE_END};
    if (SetFilePointerEx((HANDLE)fd->handle, to, &now, method[whence])) res = now.QuadPart;
    else if (GetLastError() == ERROR_NEGATIVE_SEEK) res = CORIO_EINVAL;
    else res = win32_err(GetLastError());
  } else {
    res = overlapped_seek(fd, off, whence);
  }
  if (res >= 0) w->offset = res;
  unlock_offset(fd);
  corio__fd_decref(fd);
  return res;
}

/* ---- sockets ---- */

/* Extension functions are per provider; fetched with the socket at hand. */
static void *extension(SOCKET s, GUID id) {
  void *fn = NULL;
  DWORD n = 0;
  if (WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof id, &fn, sizeof fn, &n, NULL,
               NULL) != 0)
    return NULL;
  return fn;
}

typedef struct connect_args {
  LPFN_CONNECTEX fn;
  const struct sockaddr *sa;
  int salen;
} connect_args_t;

static DWORD submit_connect(corio__fd_t *fd, corio__fd_op_t *op, OVERLAPPED *ov) {
  connect_args_t *a = op->arg;
  if (!ov) return wsa_error(connect((SOCKET)fd->handle, a->sa, a->salen));
  return a->fn((SOCKET)fd->handle, a->sa, a->salen, NULL, 0, NULL, ov) ? 0
                                                                        : (DWORD)WSAGetLastError();
}

int corio__fd_connect_ex(corio__fd_t *fd, const struct sockaddr *sa, int salen) {
  if (!is_socket(fd) || !sa || salen <= 0) return CORIO_EINVAL;
  int err = corio__fd_write_lock(fd);
  if (err) return err;
  SOCKET s = (SOCKET)fd->handle;
  connect_args_t a = {extension(s, (GUID)WSAID_CONNECTEX), sa, salen};
  corio__fd_op_t *op = &win(fd)->wop;
  op->arg = &a;
  op->positioned = false;
  if (!a.fn && !atomic_load_explicit(&fd->blocking, memory_order_relaxed))
    err = win32_err((DWORD)WSAGetLastError());
  else
    err = exec_io(fd, op, submit_connect);
  /* Make the socket behave as connected for shutdown, getpeername ... */
  if (!err && a.fn && setsockopt(s, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0) != 0)
    err = win32_err((DWORD)WSAGetLastError());
  op->arg = NULL;
  corio__fd_write_unlock(fd);
  return err;
}

typedef struct accept_args {
  LPFN_ACCEPTEX fn;
  SOCKET accepted;
  void *buf;
  DWORD addrlen; /* each of the two addresses */
} accept_args_t;

static DWORD submit_accept(corio__fd_t *fd, corio__fd_op_t *op, OVERLAPPED *ov) {
  accept_args_t *a = op->arg;
  return a->fn((SOCKET)fd->handle, a->accepted, a->buf, 0, a->addrlen, a->addrlen, &op->qty, ov)
             ? 0
             : (DWORD)WSAGetLastError();
}

int corio__fd_accept_ex(corio__fd_t *fd, uintptr_t accepted, void *addrbuf, size_t addrbuf_len) {
  const DWORD addrlen = sizeof(struct sockaddr_storage) + 16;
  if (!is_socket(fd) || !addrbuf || addrbuf_len < 2 * (size_t)addrlen) return CORIO_EINVAL;
  /* AcceptEx needs an OVERLAPPED, which a blocking-mode handle cannot use. */
  if (atomic_load_explicit(&fd->blocking, memory_order_relaxed)) return CORIO_ENOTSUP;
  int err = corio__fd_read_lock(fd);
  if (err) return err;
  SOCKET s = (SOCKET)fd->handle;
  accept_args_t a = {extension(s, (GUID)WSAID_ACCEPTEX), (SOCKET)accepted, addrbuf, addrlen};
  corio__fd_op_t *op = &win(fd)->rop;
  op->arg = &a;
  op->positioned = false;
  err = a.fn ? exec_io(fd, op, submit_accept) : win32_err((DWORD)WSAGetLastError());
  if (!err && setsockopt((SOCKET)accepted, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (char *)&s,
                         sizeof s) != 0)
    err = win32_err((DWORD)WSAGetLastError());
  op->arg = NULL;
  corio__fd_read_unlock(fd);
  return err;
}

int corio__fd_win_socket_kind(uintptr_t handle) {
  if (wsa_init() != 0) return 0;
  int type = 0, len = sizeof type;
  if (getsockopt((SOCKET)handle, SOL_SOCKET, SO_TYPE, (char *)&type, &len) != 0) return 0;
  return type == SOCK_STREAM ? CORIO__FD_STREAM : CORIO__FD_DGRAM;
}
