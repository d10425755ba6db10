/* Windows helpers for the poll and os suites: raw pipe and socket pairs made
 * without corio, a foreign completion port, and the process's handle count. */
#ifndef CORIO_TESTS_WIN_UTIL_H
#define CORIO_TESTS_WIN_UTIL_H

#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <winternl.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* An overlapped named pipe: *r is the server (reading) end, *w the client
 * (writing) end; buffer bytes of room each way. */
static inline bool win_pipe(HANDLE *r, HANDLE *w, DWORD buffer) {
  static volatile LONG counter;
  wchar_t name[96];
  _snwprintf(name, 96, L"\\\\.\\pipe\\corio-test-%lu-%ld", GetCurrentProcessId(),
             (long)InterlockedIncrement(&counter));
  name[95] = 0;
  *r = CreateNamedPipeW(name, PIPE_ACCESS_INBOUND | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
                        PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT, 1, buffer, buffer, 0, NULL);
  if (*r == INVALID_HANDLE_VALUE) return false;
  *w = CreateFileW(name, GENERIC_WRITE, 0, NULL, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
  if (*w == INVALID_HANDLE_VALUE) {
    CloseHandle(*r);
    return false;
  }
  return true;
}

/* An overlapped message-mode named pipe (*r reads, *w writes), buffer bytes
 * of room each way: each write is one message, a read shorter than the
 * message fails with ERROR_MORE_DATA and leaves the rest for the next read,
 * and a zero-length write is a message of its own. */
static inline bool win_msg_pipe(HANDLE *r, HANDLE *w, DWORD buffer) {
  static volatile LONG counter;
  wchar_t name[96];
  _snwprintf(name, 96, L"\\\\.\\pipe\\corio-msg-%lu-%ld", GetCurrentProcessId(),
             (long)InterlockedIncrement(&counter));
  name[95] = 0;
  *r = CreateNamedPipeW(name, PIPE_ACCESS_INBOUND | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
                        PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT, 1, buffer, buffer, 0,
                        NULL);
  if (*r == INVALID_HANDLE_VALUE) return false;
  *w = CreateFileW(name, GENERIC_WRITE | FILE_READ_ATTRIBUTES, 0, NULL, OPEN_EXISTING,
                   FILE_FLAG_OVERLAPPED, NULL);
  if (*w == INVALID_HANDLE_VALUE) {
    CloseHandle(*r);
    return false;
  }
  return true;
}

/* A completion port that is not the runtime's. */
static inline HANDLE win_port(void) { return CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1); }

/* true when the port holds no packet. */
static inline bool win_port_empty(HANDLE port) {
  DWORD n;
  ULONG_PTR key;
  OVERLAPPED *ov;
  if (GetQueuedCompletionStatus(port, &n, &key, &ov, 0)) return false;
  return ov == NULL && GetLastError() == WAIT_TIMEOUT;
}

/* The process's open handles. GetProcessHandleCount answers 0 under Wine;
 * the system-wide table filtered by our process id is right on both. */
typedef struct win_handle_entry {
  PVOID object;
  ULONG_PTR pid;
  HANDLE handle;
  ULONG access;
  USHORT backtrace;
  USHORT type;
  ULONG attributes;
  ULONG reserved;
} win_handle_entry_t;
typedef struct win_handle_table {
  ULONG_PTR count;
  ULONG_PTR reserved;
  win_handle_entry_t entries[1];
} win_handle_table_t;

static inline long win_handle_count(void) {
  ULONG size = 1 << 20;
  for (;;) {
    win_handle_table_t *t = malloc(size);
    if (!t) return -1;
    ULONG got = 0;
    NTSTATUS st = NtQuerySystemInformation((SYSTEM_INFORMATION_CLASS)64 /* extended handles */, t,
                                           size, &got);
    if (st == (NTSTATUS)0xC0000004L /* STATUS_INFO_LENGTH_MISMATCH */) {
      free(t);
      size *= 2;
      continue;
    }
    long n = -1;
    if (st == 0) {
      ULONG_PTR pid = GetCurrentProcessId();
      n = 0;
      for (ULONG_PTR i = 0; i < t->count; i++)
        if (t->entries[i].pid == pid) n++;
    }
    free(t);
    return n;
  }
}

static inline bool win_wsa(void) {
  WSADATA d;
  return WSAStartup(MAKEWORD(2, 2), &d) == 0;
}

/* A listening TCP socket on 127.0.0.1 and an ephemeral port (in *addr). */
static inline SOCKET win_listener(struct sockaddr_in *addr) {
  SOCKET l = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
  if (l == INVALID_SOCKET) return l;
  memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int len = sizeof *addr;
  if (bind(l, (struct sockaddr *)addr, sizeof *addr) != 0 ||
      getsockname(l, (struct sockaddr *)addr, &len) != 0 || listen(l, 16) != 0) {
    closesocket(l);
    return INVALID_SOCKET;
  }
  return l;
}

/* An overlapped TCP socket bound to 127.0.0.1:0 (ConnectEx wants it bound). */
static inline SOCKET win_bound_socket(void) {
  SOCKET s = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
  if (s == INVALID_SOCKET) return s;
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) {
    closesocket(s);
    return INVALID_SOCKET;
  }
  return s;
}

/* A connected loopback TCP pair made with plain blocking calls. */
static inline bool win_tcp_pair(SOCKET *a, SOCKET *b) {
  struct sockaddr_in addr;
  SOCKET l = win_listener(&addr);
  if (l == INVALID_SOCKET) return false;
  *a = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
  bool ok = *a != INVALID_SOCKET && connect(*a, (struct sockaddr *)&addr, sizeof addr) == 0;
  *b = ok ? accept(l, NULL, NULL) : INVALID_SOCKET;
  closesocket(l);
  if (*b == INVALID_SOCKET) {
    if (*a != INVALID_SOCKET) closesocket(*a);
    return false;
  }
  return true;
}

#endif
