/* The socket calls only Windows has, over the FD's overlapped operations
 * (fd_windows.c): Winsock's start-up, once per process, and connecting and
 * accepting through the ConnectEx / AcceptEx extension functions. */
#include "sock_windows.h"

#include <mswsock.h>

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
    err = corio__fd_win_exec_io(fd, op, submit_connect);
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
  err = a.fn ? corio__fd_win_exec_io(fd, op, submit_accept) : win32_err((DWORD)WSAGetLastError());
  if (!err && setsockopt((SOCKET)accepted, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (char *)&s,
                         sizeof s) != 0)
    err = win32_err((DWORD)WSAGetLastError());
  op->arg = NULL;
  corio__fd_read_unlock(fd);
  return err;
}

int corio__fd_win_socket_kind(uintptr_t handle) {
  if (corio__wsa_init() != 0) return 0;
  int type = 0, len = sizeof type;
  if (getsockopt((SOCKET)handle, SOL_SOCKET, SO_TYPE, (char *)&type, &len) != 0) return 0;
  return type == SOCK_STREAM ? CORIO__FD_STREAM : CORIO__FD_DGRAM;
}
