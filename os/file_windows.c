/* The Windows half of File (Go's os/file_windows.go and syscall.Open):
 * CreateFileW with FILE_FLAG_OVERLAPPED and UTF-8 names, pipes as overlapped
 * named-pipe pairs (CreatePipe's ends are synchronous and no port takes them),
 * the kind of a handle obtained elsewhere, and fd()'s detaching from the
 * runtime's completion port. */
#include "file.h"

#include <stdio.h>

#include "fd_windows.h"

/* Each pipe's buffer, per direction: a full pipe makes writers wait. */
#define PIPE_BUFFER 65536
/* Attempts at a fresh pipe name before giving up. */
#define PIPE_NAME_TRIES 16

static int win32_err(DWORD code) { return corio_err_from_win32((uint32_t)code); }

/* name as a NUL-terminated UTF-16 string from corio__malloc. */
static int wide_name(const char *name, wchar_t **out) {
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, name, -1, NULL, 0);
  if (n <= 0) return win32_err(GetLastError());
  wchar_t *w = corio__malloc((size_t)n * sizeof *w);
  if (!w) return CORIO_ENOMEM;
  if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, name, -1, w, n) != n) {
    DWORD e = GetLastError();
    corio__free(w);
    return win32_err(e);
  }
  *out = w;
  return 0;
}

/* Access rights for the CORIO_O_* access mode. Appending replaces the right
 * to write anywhere with the right to append only: the OS then puts every
 * write at the end, and the FD asks for the end explicitly (fd_windows.c). */
static DWORD access_rights(int flags) {
  DWORD access = GENERIC_READ;
  if (flags & CORIO_O_WRONLY) access = GENERIC_WRITE;
  if (flags & CORIO_O_RDWR) access = GENERIC_READ | GENERIC_WRITE;
  if ((flags & CORIO_O_APPEND) && (access & GENERIC_WRITE)) {
    access &= ~(DWORD)GENERIC_WRITE;
    access |= FILE_APPEND_DATA | FILE_WRITE_ATTRIBUTES | FILE_WRITE_EA | STANDARD_RIGHTS_WRITE |
              SYNCHRONIZE;
  }
  return access;
}

static DWORD disposition(int flags) {
  if ((flags & CORIO_O_CREATE) && (flags & CORIO_O_EXCL)) return CREATE_NEW;
  if (flags & CORIO_O_CREATE) return OPEN_ALWAYS;
  return OPEN_EXISTING;
}

/* O_TRUNC on a file that existed, opened for writing (without a write mode
 * O_TRUNC is ignored, its effect being unspecified by POSIX). TRUNCATE_EXISTING
 * would need the general write right, which an append-only handle lacks, so
 * the size is set after opening (as Go does), through a second, short-lived
 * handle for an append-only one. */
static int truncate_existing(HANDLE h, const wchar_t *wname, int flags) {
  FILE_END_OF_FILE_INFO eof = {.EndOfFile = {.QuadPart = 0}};
  if (!(flags & CORIO_O_APPEND))
    return SetFileInformationByHandle(h, FileEndOfFileInfo, &eof, sizeof eof)
               ? 0
               : win32_err(GetLastError());
  HANDLE t = CreateFileW(wname, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                         NULL, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
  if (t == INVALID_HANDLE_VALUE) return win32_err(GetLastError());
  int err = SetFileInformationByHandle(t, FileEndOfFileInfo, &eof, sizeof eof)
                ? 0
                : win32_err(GetLastError());
  CloseHandle(t);
  return err;
}

int corio__file_sys_open(const char *name, int flags, uint32_t perm, uintptr_t *handle) {
  wchar_t *wname;
  int err = wide_name(name, &wname);
  if (err) return err;
  DWORD attrs = FILE_FLAG_OVERLAPPED | FILE_FLAG_BACKUP_SEMANTICS; /* directories too */
  attrs |= ((flags & CORIO_O_CREATE) && !(perm & 0200)) ? FILE_ATTRIBUTE_READONLY
                                                         : FILE_ATTRIBUTE_NORMAL;
  if (flags & CORIO_O_SYNC) attrs |= FILE_FLAG_WRITE_THROUGH;
  SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, FALSE}; /* not inherited */
  DWORD disp = disposition(flags);
  HANDLE h = CreateFileW(wname, access_rights(flags),
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, &sa, disp, attrs, NULL);
  DWORD e = GetLastError();
  if (h == INVALID_HANDLE_VALUE) {
    corio__free(wname);
    return win32_err(e);
  }
  bool existed = disp == OPEN_EXISTING || (disp == OPEN_ALWAYS && e == ERROR_ALREADY_EXISTS);
  if ((flags & CORIO_O_TRUNC) && (flags & (CORIO_O_WRONLY | CORIO_O_RDWR)) && existed &&
      GetFileType(h) == FILE_TYPE_DISK) {
    err = truncate_existing(h, wname, flags);
    if (err) CloseHandle(h);
  }
  corio__free(wname);
  if (!err) *handle = (uintptr_t)h;
  return err;
}

/* A name no other pipe has: the process, a counter, and the clock (a stale
 * pipe of an earlier process with our id may still exist). */
static void pipe_name(wchar_t *buf, size_t n) {
  static volatile LONG64 counter;
  LARGE_INTEGER t;
  QueryPerformanceCounter(&t);
  _snwprintf(buf, n, L"\\\\.\\pipe\\corio-%lu-%lld-%lld", GetCurrentProcessId(),
             (long long)InterlockedIncrement64(&counter), (long long)t.QuadPart);
  buf[n - 1] = 0;
}

int corio__file_sys_pipe(uintptr_t h[2]) {
  SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, FALSE};
  for (int attempt = 0; attempt < PIPE_NAME_TRIES; attempt++) {
    wchar_t name[96];
    pipe_name(name, sizeof name / sizeof name[0]);
    /* One instance, first of its name: nobody else can serve it. */
    HANDLE r = CreateNamedPipeW(name, PIPE_ACCESS_INBOUND | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
                                PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
                                1, PIPE_BUFFER, PIPE_BUFFER, 0, &sa);
    if (r == INVALID_HANDLE_VALUE) {
      DWORD e = GetLastError();
      if (e == ERROR_ACCESS_DENIED || e == ERROR_PIPE_BUSY) continue; /* name taken */
      return win32_err(e);
    }
    /* Opening the client end connects it; no ConnectNamedPipe is needed. */
    HANDLE w = CreateFileW(name, GENERIC_WRITE | FILE_READ_ATTRIBUTES, 0, &sa, OPEN_EXISTING,
                           FILE_FLAG_OVERLAPPED, NULL);
    if (w == INVALID_HANDLE_VALUE) {
      DWORD e = GetLastError();
      CloseHandle(r);
      return win32_err(e);
    }
    h[0] = (uintptr_t)r;
    h[1] = (uintptr_t)w;
    return 0;
  }
  return win32_err(ERROR_PIPE_BUSY);
}

void corio__file_sys_close_handle(uintptr_t handle) {
  if (corio__fd_win_socket_kind(handle)) closesocket((SOCKET)handle);
  else CloseHandle((HANDLE)handle);
}

/* The FD kind of an open handle (Go's newFile): consoles, pipes (and, for a
 * handle from elsewhere, sockets, which also report FILE_TYPE_PIPE), and
 * everything else as a file. */
static int classify(HANDLE h, int how, int *kind) {
  SetLastError(NO_ERROR);
  DWORD type = GetFileType(h);
  if (type == FILE_TYPE_UNKNOWN && GetLastError() != NO_ERROR) return CORIO_EBADF;
  DWORD mode;
  *kind = CORIO__FD_FILE;
  if (type == FILE_TYPE_CHAR && GetConsoleMode(h, &mode)) {
    *kind = CORIO__FD_CONSOLE;
  } else if (type == FILE_TYPE_PIPE) {
    int s = how == CORIO__FILE_NEW ? corio__fd_win_socket_kind((uintptr_t)h) : 0;
    *kind = s ? s : CORIO__FD_PIPE;
  }
  return 0;
}

int corio__file_sys_init(corio_file_t *f, uintptr_t handle, int how) {
  HANDLE h = (HANDLE)handle;
  if (!h || h == INVALID_HANDLE_VALUE) return CORIO_EBADF;
  int kind;
  int err = classify(h, how, &kind);
  if (err) return err;
  /* The FD finds out itself whether the handle is overlapped, and whether
   * the runtime's port takes it (a handle on a foreign port waits on events). */
  err = corio__fd_init(&f->pfd, handle, kind, true, kind != CORIO__FD_CONSOLE);
  if (err == 0 && how != CORIO__FILE_NEW) corio__fd_win_own_handle(&f->pfd);
  return err;
}

/* Go's File.Fd detaches the handle so its caller can attach it to a port of
 * its own; this returns what that cost (corio_file_fd_ex). */
int corio__file_sys_fd(corio_file_t *f) { return corio__fd_disassociate_iocp(&f->pfd); }
