/* Platform helpers for the net suites (Windows): handle counts. */
#ifndef CORIO_TEST_NETPLAT_UTIL_H
#define CORIO_TEST_NETPLAT_UTIL_H

#include <winsock2.h>
#include <windows.h>
#include <winternl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The process's open "descriptors": handles to File objects (sockets, files,
 * pipes, devices), the Windows analogue of the descriptors the Unix helper
 * counts. Handles of other types come and go with the runtime's threads (a
 * thread's handle, and an event Wine's Winsock keeps per thread) and would
 * read as leaks whenever a busy moment starts one more thread.
 * GetProcessHandleCount cannot be used: it answers 0 under Wine, which would
 * make every leak check pass. The system-wide handle table
 * (SystemExtendedHandleInformation) filtered by our process id is right on
 * both, and each of our handles' type is asked of NtQueryObject. -1 when
 * the table cannot be read. */
typedef struct test_handle_entry {
  PVOID object;
  ULONG_PTR pid;
  HANDLE handle;
  ULONG access;
  USHORT backtrace;
  USHORT type;
  ULONG attributes;
  ULONG reserved;
} test_handle_entry_t;
typedef struct test_handle_table {
  ULONG_PTR count;
  ULONG_PTR reserved;
  test_handle_entry_t entries[1];
} test_handle_table_t;

static inline bool test_handle_is_file(HANDLE h) {
  union {
    UNICODE_STRING name; /* PUBLIC_OBJECT_TYPE_INFORMATION starts with it */
    char room[1024];
  } info;
  ULONG len = 0;
  if (NtQueryObject(h, ObjectTypeInformation, &info, sizeof info, &len) != 0) return false;
  return info.name.Length == 8 && memcmp(info.name.Buffer, L"File", 8) == 0;
}

static inline int test_count_handles(void) {
  for (ULONG size = 1 << 20; size <= (1u << 30); size *= 2) {
    test_handle_table_t *t = malloc(size);
    if (!t) return -1;
    ULONG got = 0;
    NTSTATUS st = NtQuerySystemInformation((SYSTEM_INFORMATION_CLASS)64, t, size, &got);
    if (st == (NTSTATUS)0xC0000004L) { /* STATUS_INFO_LENGTH_MISMATCH */
      free(t);
      continue;
    }
    int n = -1;
    if (st == 0) {
      ULONG_PTR pid = GetCurrentProcessId();
      n = 0;
      for (ULONG_PTR i = 0; i < t->count; i++)
        if (t->entries[i].pid == pid && test_handle_is_file(t->entries[i].handle)) n++;
    }
    free(t);
    return n;
  }
  return -1;
}

static inline void test_net_setup(void) {}

/* Windows has no per-process descriptor limit to raise. */
static inline long test_raise_handle_limit(void) { return 1L << 20; }

/* AF_UNIX sockets of a type: Windows 10 1803 and later have stream sockets
 * only (no unixgram); Wine 8 has none. */
static inline bool test_have_af_unix_type(int type) {
  WSADATA wd;
  WSAStartup(MAKEWORD(2, 2), &wd);
  SOCKET s = socket(AF_UNIX, type, 0);
  if (s == INVALID_SOCKET) return false;
  closesocket(s);
  return true;
}
static inline bool test_have_af_unix(void) { return test_have_af_unix_type(SOCK_STREAM); }
static inline bool test_have_af_unix_dgram(void) { return test_have_af_unix_type(SOCK_DGRAM); }

#endif
