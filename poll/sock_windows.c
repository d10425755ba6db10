/* The socket calls only Windows has, over the FD's overlapped operations
 * (fd_windows.c): Winsock's start-up, once per process; connecting and
 * accepting through the ConnectEx / AcceptEx extension functions; datagrams
 * with their addresses (WSARecvFrom / WSASendTo); shutdown. */
#include "sock_windows.h"

#include <mswsock.h>

#include <string.h>

#include "fd_windows.h"

static corio__fd_win_t *win(corio__fd_t *fd) { return (corio__fd_win_t *)fd->sys; }
static bool is_socket(const corio__fd_t *fd) {
  return fd->kind == CORIO__FD_STREAM || fd->kind == CORIO__FD_DGRAM;
}
static int win32_err(DWORD code) { return corio_err_from_win32((uint32_t)code); }
static DWORD wsa_error(int r) { return r == 0 ? 0 : (DWORD)WSAGetLastError(); }

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

int corio__wsa_init(void) {
  InitOnceExecuteOnce(&wsa_once, wsa_start, NULL, NULL);
  return wsa_err;
}

bool corio__wsa_skip_sync_ok(void) {
  corio__wsa_init();
  return wsa_skip_ok;
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
  bool used_ex; /* ConnectEx ran (not connect, in blocking mode) */
} connect_args_t;

static DWORD submit_connect(corio__fd_t *fd, corio__fd_op_t *op, OVERLAPPED *ov) {
  connect_args_t *a = op->arg;
  if (!ov) return wsa_error(connect((SOCKET)fd->handle, a->sa, a->salen));
  a->used_ex = true;
  return a->fn((SOCKET)fd->handle, a->sa, a->salen, NULL, 0, NULL, ov) ? 0
                                                                        : (DWORD)WSAGetLastError();
}

int corio__fd_connect_ex(corio__fd_t *fd, const struct sockaddr *sa, int salen) {
  if (!is_socket(fd) || !sa || salen <= 0) return CORIO_EINVAL;
  int err = corio__fd_write_lock(fd);
  if (err) return err;
  SOCKET s = (SOCKET)fd->handle;
  connect_args_t a = {extension(s, (GUID)WSAID_CONNECTEX), sa, salen, false};
  corio__fd_op_t *op = &win(fd)->wop;
  op->arg = &a;
  op->positioned = false;
  if (!a.fn && !atomic_load_explicit(&fd->blocking, memory_order_relaxed))
    err = win32_err((DWORD)WSAGetLastError());
  else
    err = corio__fd_win_exec_io(fd, op, submit_connect);
  /* Make the socket behave as connected for shutdown, getpeername ... (a
   * plain connect needs no update). */
  if (!err && a.used_ex && setsockopt(s, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0) != 0)
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
  err = a.fn ? corio__fd_win_exec_io(fd, op, submit_accept) : win32_err((DWORD)WSAGetLastError());
  if (!err && setsockopt((SOCKET)accepted, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (char *)&s,
                         sizeof s) != 0)
    err = win32_err((DWORD)WSAGetLastError());
  op->arg = NULL;
  corio__fd_read_unlock(fd);
  return err;
}

int corio__fd_accept_ex_peer(corio__fd_t *fd, const void *addrbuf, struct sockaddr_storage *peer,
                             int *peerlen) {
  if (!is_socket(fd) || !addrbuf || !peer || !peerlen) return CORIO_EINVAL;
  int err = corio__fd_incref(fd);
  if (err) return err;
  /* Through the extension pointer, as for AcceptEx itself: mswsock's export
   * leaves both addresses NULL under Wine 8. */
  LPFN_GETACCEPTEXSOCKADDRS fn = extension((SOCKET)fd->handle, (GUID)WSAID_GETACCEPTEXSOCKADDRS);
  if (!fn) err = win32_err((DWORD)WSAGetLastError());
  corio__fd_decref(fd);
  if (err) return err;
  const DWORD addrlen = sizeof(struct sockaddr_storage) + 16;
  struct sockaddr *local = NULL, *remote = NULL;
  int llen = 0, rlen = 0;
  fn((void *)addrbuf, 0, addrlen, addrlen, &local, &llen, &remote, &rlen);
  memset(peer, 0, sizeof *peer);
  *peerlen = 0;
  if (remote && rlen > 0) {
    *peerlen = rlen < (int)sizeof *peer ? rlen : (int)sizeof *peer;
    memcpy(peer, remote, (size_t)*peerlen);
  }
  return 0;
}

/* ---- datagrams ---- */

/* The addresses of one WSARecvFrom / WSASendTo. The OS writes the sender's
 * address when the receive completes, which may be after the call returned
 * ERROR_IO_PENDING: it lives here, in the operation's argument block on the
 * caller's stack (a parked coroutine's stack never moves, and exec_io does not
 * return while the OS may still write), never in the caller's own buffer. */
typedef struct dgram_args {
  struct sockaddr_storage sa;
  INT salen;
  bool has_to; /* sendto: sa holds the destination */
} dgram_args_t;

static DWORD submit_recvfrom(corio__fd_t *fd, corio__fd_op_t *op, OVERLAPPED *ov) {
  dgram_args_t *a = op->arg;
  a->salen = sizeof a->sa;
  return wsa_error(WSARecvFrom((SOCKET)fd->handle, &op->buf, 1, &op->qty, &op->flags,
                               (struct sockaddr *)&a->sa, &a->salen, ov, NULL));
}

static DWORD submit_sendto(corio__fd_t *fd, corio__fd_op_t *op, OVERLAPPED *ov) {
  dgram_args_t *a = op->arg;
  return wsa_error(WSASendTo((SOCKET)fd->handle, &op->buf, 1, &op->qty, 0,
                             a->has_to ? (const struct sockaddr *)&a->sa : NULL,
                             a->has_to ? a->salen : 0, ov, NULL));
}

ptrdiff_t corio__fd_recvfrom(corio__fd_t *fd, void *buf, size_t len, struct sockaddr *from,
                             int *fromlen) {
  if (!is_socket(fd) || (!buf && len > 0) || (from && (!fromlen || *fromlen < 0)))
    return CORIO_EINVAL;
  int err = corio__fd_read_lock(fd);
  if (err) return err;
  dgram_args_t a = {.salen = 0};
  char none; /* a valid pointer for a zero-length buffer */
  corio__fd_op_t *op = &win(fd)->rop;
  op->buf.buf = buf ? buf : &none;
  op->buf.len = (ULONG)(len < CORIO__FD_MAX_RW ? len : CORIO__FD_MAX_RW);
  op->arg = &a;
  op->positioned = false;
  /* Unlike read, a zero-length receive goes to the OS: on a datagram
   * socket it takes one datagram (possibly empty) off the queue. */
  err = corio__fd_win_exec_io(fd, op, submit_recvfrom);
  op->arg = NULL;
  ptrdiff_t n;
  /* A datagram longer than buf: the part that fits is the answer, the rest is
   * gone (recvfrom on Unix truncates the same way). */
  if (err == win32_err(WSAEMSGSIZE) || err == win32_err(ERROR_MORE_DATA)) err = 0;
  if (err) n = err;
  else if (op->qty == 0 && len > 0 && fd->zero_read_is_eof) n = CORIO_EEOF;
  else n = (ptrdiff_t)op->qty;
  if (n >= 0 && from) {
    int got = a.salen > 0 && a.salen <= (INT)sizeof a.sa ? a.salen : 0;
    memcpy(from, &a.sa, (size_t)(got < *fromlen ? got : *fromlen));
    *fromlen = got;
  }
  corio__fd_read_unlock(fd);
  return n;
}

ptrdiff_t corio__fd_sendto(corio__fd_t *fd, const void *buf, size_t len, const struct sockaddr *to,
                           int tolen) {
  if (!is_socket(fd) || (!buf && len > 0)) return CORIO_EINVAL;
  if (to && (tolen <= 0 || (size_t)tolen > sizeof(struct sockaddr_storage))) return CORIO_EINVAL;
  if (len > CORIO__FD_MAX_RW) return win32_err(WSAEMSGSIZE); /* one datagram, never split */
  int err = corio__fd_write_lock(fd);
  if (err) return err;
  dgram_args_t a = {.salen = to ? tolen : 0, .has_to = to != NULL};
  if (to) memcpy(&a.sa, to, (size_t)tolen);
  char none = 0; /* a valid pointer for a zero-length buffer */
  corio__fd_op_t *op = &win(fd)->wop;
  op->buf.buf = buf ? (char *)buf : &none;
  op->buf.len = (ULONG)len;
  op->arg = &a;
  op->positioned = false;
  /* A zero-length send goes to the OS too: an empty datagram. */
  err = corio__fd_win_exec_io(fd, op, submit_sendto);
  op->arg = NULL;
  ptrdiff_t n = err ? err : (ptrdiff_t)op->qty;
  corio__fd_write_unlock(fd);
  return n;
}

/* ---- shutdown ---- */

int corio__fd_shutdown(corio__fd_t *fd, int how) {
  if (!is_socket(fd) || how < SD_RECEIVE || how > SD_BOTH) return CORIO_EINVAL;
  int err = corio__fd_incref(fd);
  if (err) return err;
  if (shutdown((SOCKET)fd->handle, how) != 0) err = win32_err((DWORD)WSAGetLastError());
  corio__fd_decref(fd);
  return err;
}

int corio__fd_win_socket_kind(uintptr_t handle) {
  if (corio__wsa_init() != 0) return 0;
  int type = 0, len = sizeof type;
  if (getsockopt((SOCKET)handle, SOL_SOCKET, SO_TYPE, (char *)&type, &len) != 0) return 0;
  return type == SOCK_STREAM ? CORIO__FD_STREAM : CORIO__FD_DGRAM;
}
