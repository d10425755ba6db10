/* Platform helpers for the net suites (Windows): handle counts. */
#ifndef CORIO_TEST_NETPLAT_UTIL_H
#define CORIO_TEST_NETPLAT_UTIL_H

#include <winsock2.h>
#include <windows.h>
#include <stdbool.h>

/* Handles open in this process. */
static inline int test_count_handles(void) {
  DWORD n = 0;
  return GetProcessHandleCount(GetCurrentProcess(), &n) ? (int)n : -1;
}

static inline void test_net_setup(void) {}

/* Windows has no per-process descriptor limit to raise. */
static inline long test_raise_handle_limit(void) { return 1L << 20; }

/* AF_UNIX sockets: Windows 10 1803 and later; not every Wine. */
static inline bool test_have_af_unix(void) {
  WSADATA wd;
  WSAStartup(MAKEWORD(2, 2), &wd);
  SOCKET s = socket(AF_UNIX, SOCK_STREAM, 0);
  if (s == INVALID_SOCKET) return false;
  closesocket(s);
  return true;
}

#endif
