/* The FD on Windows: reads, writes, positioned calls and the offset, over
 * the operation engine of fd_windows.c. Regular files opened for overlapped
 * I/O have no file pointer of their own, so the FD keeps the offset (under
 * the offset lock, fd_windows.h) and writes it into each OVERLAPPED, as Go's
 * fd.l and fd.offset do. */
#include "fd_windows.h"
#include "console_windows.h"

#include <errno.h>

#include "corio/runtime.h"

static corio__fd_win_t *win(corio__fd_t *fd) { return (corio__fd_win_t *)fd->sys; }
static int win32_err(DWORD code) { return corio_err_from_win32((uint32_t)code); }
static bool is_socket(const corio__fd_t *fd) {
  return fd->kind == CORIO__FD_STREAM || fd->kind == CORIO__FD_DGRAM;
}

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
  if (len > 0 && win(fd)->con) {
    n = corio__con_read(fd, win(fd)->con, buf, len); /* a console: UTF-16 inside */
  } else if (len > 0 && (n = lock_offset(fd)) == 0) {
    corio__fd_win_t *w = win(fd);
    corio__fd_op_t *op = &w->rop;
    op->buf.buf = buf;
    op->buf.len = (ULONG)(len < CORIO__FD_MAX_RW ? len : CORIO__FD_MAX_RW);
    op->positioned = false;
    bool file = overlapped_file(fd);
    if (file) set_offset(op, w->offset);
    err = corio__fd_win_exec_io(fd, op, corio__fd_win_submit_read);
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

/* A write's error as poll.h and os.h promise it: a pipe whose reader has
 * gone is EPIPE (WriteFile says ERROR_NO_DATA while the pipe is being closed,
 * ERROR_BROKEN_PIPE once it is). Sockets report their own WSA errors. */
static int write_error(corio__fd_t *fd, int err) {
  if (!is_socket(fd) && (err == win32_err(ERROR_NO_DATA) || err == win32_err(ERROR_BROKEN_PIPE)))
    return corio_err_from_errno(EPIPE);
  return err;
}

/* Write [buf, buf + len) through the write operation, in chunks of at most
 * CORIO__FD_MAX_RW; len 0 makes one call of 0 bytes, as Go's Write does, so a
 * zero-length message on a message-mode pipe (an empty datagram) is sent.
 * off < 0: at the FD's offset (regular files) or wherever the handle writes;
 * otherwise at off. The count that went out and the error that stopped it,
 * if any (fd.h). */
static corio__fd_wres_t write_all(corio__fd_t *fd, const char *buf, size_t len, int64_t off) {
  corio__fd_win_t *w = win(fd);
  corio__fd_op_t *op = &w->wop;
  bool file = overlapped_file(fd);
  op->positioned = off >= 0;
  if (!buf) buf = ""; /* len is 0: the OS still wants a buffer */
  size_t done = 0;
  int err = 0;
  do {
    size_t chunk = len - done < CORIO__FD_MAX_RW ? len - done : CORIO__FD_MAX_RW;
    op->buf.buf = (char *)buf + done;
    op->buf.len = (ULONG)chunk;
    if (off >= 0) set_offset(op, off + (int64_t)done);
    else if (file && w->append) set_offset(op, -1); /* 0xFFFFFFFF:0xFFFFFFFF, the end */
    else if (file) set_offset(op, w->offset);
    err = write_error(fd, corio__fd_win_exec_io(fd, op, corio__fd_win_submit_write));
    done += op->qty;
    if (off < 0 && file) w->offset = w->append ? end_offset(fd, w->offset) : w->offset + op->qty;
    if (err) break;
    if (op->qty == 0 && chunk > 0) {
      err = CORIO_ESHORTWRITE;
      break;
    }
  } while (done < len);
  return (corio__fd_wres_t){done, err};
}

corio__fd_wres_t corio__fd_write_res(corio__fd_t *fd, const void *buf, size_t len) {
  corio__fd_wres_t r = {0, corio__fd_write_lock(fd)};
  if (r.err) return r;
  if (win(fd)->con) {
    /* a console: UTF-16 inside; its count or its error */
    ptrdiff_t n = corio__con_write(fd, win(fd)->con, buf, len);
    r = n < 0 ? (corio__fd_wres_t){0, n} : (corio__fd_wres_t){(size_t)n, 0};
  } else if ((r.err = lock_offset(fd)) == 0) {
    r = write_all(fd, buf, len, -1);
    unlock_offset(fd);
  }
  corio__fd_write_unlock(fd);
  return r;
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
    n = read_result(fd, op, corio__fd_win_exec_io(fd, op, corio__fd_win_submit_read), len);
  }
  positioned_end(fd, &saved);
  return n;
}

ptrdiff_t corio__fd_pwrite(corio__fd_t *fd, const void *buf, size_t len, int64_t off) {
  LARGE_INTEGER saved;
  int err = positioned_begin(fd, off, &saved);
  if (err) return err;
  corio__fd_wres_t r = {0, 0};
  if (len > 0) r = write_all(fd, buf, len, off);
  positioned_end(fd, &saved);
  return r.done > 0 ? (ptrdiff_t)r.done : r.err;
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
