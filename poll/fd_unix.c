/* The FD on Unix: non-blocking descriptors registered with the poller. An
 * operation tries the system call; EINTR is retried; EAGAIN parks the
 * coroutine on the poll descriptor until the descriptor is ready, its
 * deadline passes or the FD is closed, then tries again (Go's fd_unix.go).
 * Descriptors the poller refuses (regular files) and descriptors switched to
 * blocking mode make the call directly, bracketed by syscall_enter/exit so
 * that the P serves other coroutines meanwhile.
 *
 * ---- The short-read rule ----
 * A careful event loop does not call read(2) only to hear EAGAIN: when a
 * read returned fewer bytes than it asked for, the descriptor was empty at
 * that moment, and any byte arriving later makes the poller report it again;
 * so the next read waits for that report first. One system call fewer per
 * message. (libuv stops at a short read too, but polls level-triggered, so a
 * byte it leaves behind is reported again; with edge triggering nothing is
 * reported twice.) It needs two things:
 *
 * "Short means empty", true only of some descriptors:
 *   - TCP sockets (AF_INET or AF_INET6, SOCK_STREAM, IPPROTO_TCP, no
 *     upper-layer protocol such as kernel TLS, which returns a record at a
 *     time), decided once by init (corio__fd_os_short_means_empty, in the
 *     OS's file: fd_linux.c). A read also stops short before urgent data;
 *     the poller reports that (EPOLLPRI) and the rule is off from then on
 *     (below).
 *   - pipes whose every writer is known to stay out of packet mode, because
 *     whoever made the pipe says so (corio__fd_set_plain_pipe: corio_file_pipe
 *     made both ends). Packet mode (O_DIRECT) belongs to the writing end
 *     alone: the reading end of pipe2(O_DIRECT) does not show it, and a
 *     writer can turn it on at any time (F_SETFL), for a FIFO too. A read
 *     then returns one packet, short, with more behind it, and the reader
 *     would wait for a report that may never come. So a pipe or FIFO from
 *     elsewhere makes every read. (Notification pipes, which stop a read
 *     before a notification that does not fit, are excluded the same way.)
 *   Not terminals (canonical mode returns a line per read), datagram and
 *   seqpacket sockets (a message per read), Unix-domain stream sockets (a
 *   read stops before a message that carries descriptors or credentials),
 *   other stream protocols (SCTP returns a message per read), nor anything
 *   else.
 * "Every byte still unread is announced by a report yet to come". Edge-
 * triggered epoll reports end of file, hang-up and errors once, perhaps in
 * the same report as the last data, which the short read took; no report
 * would follow. A backend that promises to report every such event
 * (CORIO__NETPOLL_CAP_STICKY_HUP, runtime/netpoll/netpoll.h; epoll does)
 * has the poll descriptor remember it (the hang-up hint), and once it has
 * seen one the FD makes every read as Go does. init reads the capability
 * once; without it the rule is off for every FD.
 *
 * The drained path's wait is a normal wait (corio__fd_poll_wait): it takes a
 * pending READY, which it must not drop as prepare would (it may announce the
 * very bytes we want), and honours deadlines and close. A stale READY costs
 * one EAGAIN, after which the normal wait loop runs. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, IOV_MAX */
#endif
#include "fd_unix.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corio/runtime.h"
#include "rawsys.h"

/* One system call's arguments, so that one loop serves every call. */
typedef struct io_args {
  void *buf;
  size_t len;
  int64_t off;
  const struct iovec *iov;
  int iovcnt;
  struct sockaddr *sa;
  socklen_t *salen;
} io_args_t;
/* A count, or -errno (the kernel's convention: nothing can clobber it). */
typedef ssize_t (*io_call_t)(int h, io_args_t *a);

/* read and write are the hot ones: direct system calls where the platform
 * has them (rawsys.h). */
static ssize_t call_read(int h, io_args_t *a) { return corio__sys_read(h, a->buf, a->len); }
static ssize_t call_write(int h, io_args_t *a) { return corio__sys_write(h, a->buf, a->len); }
static ssize_t call_pread(int h, io_args_t *a) {
  return corio__sys_ret(pread(h, a->buf, a->len, (off_t)a->off));
}
static ssize_t call_pwrite(int h, io_args_t *a) {
  return corio__sys_ret(pwrite(h, a->buf, a->len, (off_t)a->off));
}
static ssize_t call_readv(int h, io_args_t *a) {
  return corio__sys_ret(readv(h, a->iov, a->iovcnt));
}
static ssize_t call_writev(int h, io_args_t *a) {
  return corio__sys_ret(writev(h, a->iov, a->iovcnt));
}
static ssize_t call_accept(int h, io_args_t *a) {
  return corio__sys_ret(accept4(h, a->sa, a->salen, SOCK_NONBLOCK | SOCK_CLOEXEC));
}

/* One successful system call: retries EINTR and, when may_wait, waits out
 * EAGAIN on the poll descriptor. The call's result or a negative error. In
 * blocking mode the call may block the thread, so the P is handed on. */
static ssize_t io_once(corio__fd_t *fd, io_call_t call, io_args_t *a, int mode, bool may_wait) {
  for (;;) {
    bool entered = atomic_load_explicit(&fd->blocking, memory_order_acquire) &&
                   corio_syscall_enter() == 0;
    ssize_t r = call((int)fd->handle, a);
    if (entered) corio_syscall_exit();
    if (r >= 0) return r;
    int e = (int)-r;
    if (e == EINTR) continue;
    if ((e == EAGAIN || e == EWOULDBLOCK) && may_wait && corio__fd_pollable(fd)) {
      int err = corio__fd_poll_wait(fd, mode);
      if (err) return err;
      continue;
    }
    return corio_err_from_errno(e);
  }
}

/* ---- life cycle ---- */

/* The backend keeps the promise the short-read rule needs (netpoll.h). */
static bool short_read_rule_on(void) {
  return (corio__netpoll_caps() & CORIO__NETPOLL_CAP_STICKY_HUP) != 0;
}

int corio__fd_init(corio__fd_t *fd, uintptr_t handle, int kind, bool is_file, bool pollable) {
  int h = (int)(intptr_t)handle;
  if ((intptr_t)handle < 0 || (intptr_t)handle > INT32_MAX) return CORIO_EBADF;
  if (kind < CORIO__FD_FILE || kind > CORIO__FD_DGRAM) return CORIO_EINVAL;
  int fl = fcntl(h, F_GETFL);
  if (fl < 0) return errno == EBADF ? CORIO_EBADF : corio_err_from_errno(errno);

  atomic_init(&fd->mu.state, 0);
  fd->mu.rsema = fd->mu.wsema = 0;
  fd->handle = handle;
  fd->pd = NULL;
  fd->kind = kind;
  fd->is_file = is_file;
  fd->zero_read_is_eof = kind != CORIO__FD_DGRAM;
  atomic_init(&fd->blocking, true);
  atomic_init(&fd->disassociated, false);
  fd->short_read_drains = false;
  fd->read_drained = false;
  fd->csema = 0;
  fd->sys = NULL;
  if (!pollable) return 0;

  if (!(fl & O_NONBLOCK) && fcntl(h, F_SETFL, fl | O_NONBLOCK) < 0)
    return corio_err_from_errno(errno);
  if (corio__fd_poll_init(fd) == 0) {
    fd->short_read_drains = short_read_rule_on() && corio__fd_os_short_means_empty(h);
    atomic_store_explicit(&fd->blocking, false, memory_order_release);
    return 0;
  }
  /* The poller refused it (epoll: EPERM for regular files): blocking mode,
   * as the descriptor was. */
  if (!(fl & O_NONBLOCK)) fcntl(h, F_SETFL, fl);
  return 0;
}

void corio__fd_sys_close_begin(corio__fd_t *fd) { (void)fd; }

void corio__fd_set_plain_pipe(corio__fd_t *fd) {
  struct stat st;
  if (fd->pd && short_read_rule_on() && fstat((int)fd->handle, &st) == 0 &&
      S_ISFIFO(st.st_mode))
    fd->short_read_drains = true;
}

int corio__fd_sys_destroy(corio__fd_t *fd) {
  int h = (int)fd->handle;
  fd->handle = (uintptr_t)(intptr_t)-1;
  /* Linux releases the descriptor even when close reports EINTR, so a retry
   * could close someone else's new descriptor. */
  if (close(h) < 0 && errno != EINTR) return corio_err_from_errno(errno);
  return 0;
}

int corio__fd_set_blocking(corio__fd_t *fd) {
  int err = corio__fd_incref(fd);
  if (err) return err;
  /* The flag only ever goes from false to true. */
  atomic_store_explicit(&fd->blocking, true, memory_order_release);
  if (fd->pd) corio__pd_set_deadline(fd->pd, 0, 'r' + 'w');
  int h = (int)fd->handle;
  int fl = fcntl(h, F_GETFL);
  if (fl < 0 || ((fl & O_NONBLOCK) && fcntl(h, F_SETFL, fl & ~O_NONBLOCK) < 0))
    err = corio_err_from_errno(errno);
  corio__fd_decref(fd);
  return err;
}

/* ---- reads ---- */

/* Under the read lock, before a read: when the last read drained the
 * descriptor and no hang-up was reported, wait for readiness first (the
 * short-read rule, above); otherwise prepare, as Go does. 0 or an error. */
static int read_begin(corio__fd_t *fd) {
  if (fd->read_drained && !corio__fd_poll_hup_seen(fd) &&
      !atomic_load_explicit(&fd->blocking, memory_order_acquire))
    return corio__fd_poll_wait(fd, 'r');
  return corio__fd_poll_prepare(fd, 'r');
}

/* Under the read lock: begin, then one read of up to asked bytes (what this
 * one system call asks for); EOF mapping for stream kinds. */
static ptrdiff_t read_locked(corio__fd_t *fd, io_call_t call, io_args_t *a, size_t asked) {
  int err = corio__fd_read_lock(fd);
  if (err) return err;
  ptrdiff_t n = 0;
  if (asked > 0) {
    /* When begin fails, read_drained stays: no read was made, and the
     * failed wait took no READY. */
    n = read_begin(fd);
    if (n == 0) {
      n = io_once(fd, call, a, 'r', true);
      fd->read_drained = fd->short_read_drains && n > 0 && (size_t)n < asked;
      if (n == 0 && fd->zero_read_is_eof) n = CORIO_EEOF;
    }
  }
  corio__fd_read_unlock(fd);
  return n;
}

CORIO__HOT ptrdiff_t corio__fd_read(corio__fd_t *fd, void *buf, size_t len) {
  io_args_t a = {.buf = buf, .len = len < CORIO__FD_MAX_RW ? len : CORIO__FD_MAX_RW};
  return read_locked(fd, call_read, &a, a.len);
}

ptrdiff_t corio__fd_readv(corio__fd_t *fd, const struct iovec *iov, int n) {
  io_args_t a = {.iov = iov, .iovcnt = n < IOV_MAX ? n : IOV_MAX};
  /* The bytes this one call asks for: entries past IOV_MAX wait for the
   * caller's next call. */
  size_t asked = 0;
  for (int i = 0; i < a.iovcnt; i++) asked += iov[i].iov_len;
  return read_locked(fd, call_readv, &a, asked);
}

ptrdiff_t corio__fd_pread(corio__fd_t *fd, void *buf, size_t len, int64_t off) {
  if (off < 0) return CORIO_EINVAL;
  /* A reference, not the read lock: a positioned read is independent of
   * the others. It never waits (that would be a second reader on the pd). */
  int err = corio__fd_incref(fd);
  if (err) return err;
  ptrdiff_t n = 0;
  if (len > 0) {
    io_args_t a = {.buf = buf, .len = len < CORIO__FD_MAX_RW ? len : CORIO__FD_MAX_RW, .off = off};
    n = io_once(fd, call_pread, &a, 'r', false);
    if (n == 0 && fd->zero_read_is_eof) n = CORIO_EEOF;
  }
  corio__fd_decref(fd);
  return n;
}

/* ---- writes ---- */

/* Write everything in [buf, buf + len) starting at off (when positioned),
 * chunked to CORIO__FD_MAX_RW. Count, short count or error (fd.h). */
static ptrdiff_t write_all(corio__fd_t *fd, io_call_t call, const void *buf, size_t len,
                           int64_t off, bool may_wait) {
  size_t done = 0;
  while (done < len) {
    size_t chunk = len - done < CORIO__FD_MAX_RW ? len - done : CORIO__FD_MAX_RW;
    io_args_t a = {.buf = (char *)buf + done, .len = chunk, .off = off + (int64_t)done};
    ssize_t r = io_once(fd, call, &a, 'w', may_wait);
    if (r < 0) return done > 0 ? (ptrdiff_t)done : r;
    if (r == 0) return done > 0 ? (ptrdiff_t)done : CORIO_ESHORTWRITE;
    done += (size_t)r;
  }
  return (ptrdiff_t)done;
}

CORIO__HOT ptrdiff_t corio__fd_write(corio__fd_t *fd, const void *buf, size_t len) {
  int err = corio__fd_write_lock(fd);
  if (err) return err;
  ptrdiff_t n = 0;
  if (len > 0) {
    n = corio__fd_poll_prepare(fd, 'w');
    if (n == 0) n = write_all(fd, call_write, buf, len, 0, true);
  }
  corio__fd_write_unlock(fd);
  return n;
}

ptrdiff_t corio__fd_pwrite(corio__fd_t *fd, const void *buf, size_t len, int64_t off) {
  if (off < 0) return CORIO_EINVAL;
  int err = corio__fd_incref(fd);
  if (err) return err;
  ptrdiff_t n = len > 0 ? write_all(fd, call_pwrite, buf, len, off, false) : 0;
  corio__fd_decref(fd);
  return n;
}

/* Drop the first n bytes from v[0..cnt) (entries are non-empty), moving the
 * rest to the front; returns how many entries are left. */
static int iov_advance(struct iovec *v, int cnt, size_t n) {
  int i = 0;
  while (i < cnt && n >= v[i].iov_len) n -= v[i++].iov_len;
  if (i < cnt) {
    v[i].iov_base = (char *)v[i].iov_base + n;
    v[i].iov_len -= n;
  }
  for (int j = i; j < cnt; j++) v[j - i] = v[j];
  return cnt - i;
}

ptrdiff_t corio__fd_writev(corio__fd_t *fd, const struct iovec *iov, int n) {
  int err = corio__fd_write_lock(fd);
  if (err) return err;
  /* The caller's vector stays untouched: progress is tracked in a copy, in
   * small batches to keep the coroutine's stack use modest. */
  enum { BATCH = 64 };
  struct iovec v[BATCH];
  int next = 0, cnt = 0;
  size_t done = 0;
  ptrdiff_t res = corio__fd_poll_prepare(fd, 'w');
  while (res == 0) {
    for (; cnt < BATCH && next < n; next++)
      if (iov[next].iov_len > 0) v[cnt++] = iov[next];
    if (cnt == 0) break;
    io_args_t a = {.iov = v, .iovcnt = cnt};
    ssize_t r = io_once(fd, call_writev, &a, 'w', true);
    if (r <= 0) {
      res = r < 0 ? r : CORIO_ESHORTWRITE;
      break;
    }
    done += (size_t)r;
    cnt = iov_advance(v, cnt, (size_t)r);
  }
  corio__fd_write_unlock(fd);
  return done > 0 || res == 0 ? (ptrdiff_t)done : res;
}

/* ---- the rest ---- */

int64_t corio__fd_seek(corio__fd_t *fd, int64_t off, int whence) {
  if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) return CORIO_EINVAL;
  int err = corio__fd_incref(fd);
  if (err) return err;
  off_t r = lseek((int)fd->handle, (off_t)off, whence);
  /* With whence checked, EINVAL can only mean a negative resulting offset. */
  int64_t res = r >= 0 ? (int64_t)r : errno == EINVAL ? CORIO_EINVAL : corio_err_from_errno(errno);
  corio__fd_decref(fd);
  return res;
}

int corio__fd_accept(corio__fd_t *fd, struct sockaddr *sa, socklen_t *salen, int *newfd) {
  int err = corio__fd_read_lock(fd);
  if (err) return err;
  err = corio__fd_poll_prepare(fd, 'r');
  io_args_t a = {.sa = sa, .salen = salen};
  while (err == 0) {
    ssize_t s = io_once(fd, call_accept, &a, 'r', true);
    if (s >= 0) {
      *newfd = (int)s;
      break;
    }
    /* The peer gave up before we took it: wait for the next one. */
    if (s != corio_err_from_errno(ECONNABORTED)) err = (int)s;
  }
  corio__fd_read_unlock(fd);
  return err;
}

int corio__fd_connect(corio__fd_t *fd, const struct sockaddr *sa, socklen_t salen) {
  int err = corio__fd_write_lock(fd);
  if (err) return err;
  int h = (int)fd->handle;
  int e = connect(h, sa, salen) < 0 ? errno : 0;
  err = 1; /* 1: still connecting */
  if (e == 0 || e == EISCONN) err = 0;
  else if (e != EINPROGRESS && e != EALREADY && e != EINTR) err = corio_err_from_errno(e);
  while (err == 1) {
    err = corio__fd_poll_wait(fd, 'w');
    if (err) break;
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(h, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) soerr = errno;
    if (soerr == EINPROGRESS || soerr == EALREADY || soerr == EINTR) err = 1;
    else if (soerr == EISCONN) err = 0;
    else if (soerr != 0) err = corio_err_from_errno(soerr);
    else {
      /* The poller may wake us before the connection is made: believe it
       * only when the socket has a peer. */
      struct sockaddr_storage peer;
      socklen_t plen = sizeof peer;
      err = getpeername(h, (struct sockaddr *)&peer, &plen) == 0 ? 0 : 1;
    }
  }
  corio__fd_write_unlock(fd);
  return err;
}
