/* A handle the poller accepts and that never becomes ready by itself, for
 * the portable netpoll suite (which delivers readiness itself): the server
 * end of an overlapped named pipe with no I/O submitted on it, so no
 * completion packet ever arrives for it. */
#ifndef CORIO_TESTS_PD_HANDLE_H
#define CORIO_TESTS_PD_HANDLE_H

#include <windows.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <wchar.h>

typedef struct test_handle {
  uintptr_t h;     /* give this to corio__pd_open */
  uintptr_t other; /* the client end, kept open */
} test_handle_t;

static inline bool test_handle_open(test_handle_t *t) {
  static _Atomic int counter;
  wchar_t name[128];
  swprintf(name, 128, L"\\\\.\\pipe\\corio-pd-handle-%lu-%d", (unsigned long)GetCurrentProcessId(),
           atomic_fetch_add(&counter, 1));
  HANDLE s = CreateNamedPipeW(name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED |
                                        FILE_FLAG_FIRST_PIPE_INSTANCE,
                              PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT, 1, 4096, 4096, 0,
                              NULL);
  if (s == INVALID_HANDLE_VALUE) return false;
  HANDLE c = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
  if (c == INVALID_HANDLE_VALUE) {
    CloseHandle(s);
    return false;
  }
  t->h = (uintptr_t)s;
  t->other = (uintptr_t)c;
  return true;
}

static inline void test_handle_close(test_handle_t *t) {
  CloseHandle((HANDLE)t->h);
  CloseHandle((HANDLE)t->other);
}

#endif
