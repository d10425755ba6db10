/* Plain OS threads and clocks for tests (Windows). */
#ifndef CORIO_TEST_THREAD_UTIL_H
#define CORIO_TEST_THREAD_UTIL_H

/* No per-process mapping count on Windows (under Wine the Linux limit kills Wine's own threads first). */
#define TEST_HAS_MAP_LIMIT 0

#include <windows.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct {
  HANDLE h;
  void *(*fn)(void *);
  void *arg;
  void *ret;
} *test_thread_t;

static DWORD WINAPI test_thread_main(LPVOID p) {
  test_thread_t t = p;
  t->ret = t->fn(t->arg);
  return 0;
}

static inline void test_thread_start(test_thread_t *t, void *(*fn)(void *), void *arg) {
  *t = calloc(1, sizeof **t);
  (*t)->fn = fn;
  (*t)->arg = arg;
  (*t)->h = CreateThread(NULL, 0, test_thread_main, *t, 0, NULL);
  if (!(*t)->h) abort();
}

static inline void *test_thread_join(test_thread_t t) {
  WaitForSingleObject(t->h, INFINITE);
  CloseHandle(t->h);
  void *r = t->ret;
  free(t);
  return r;
}

static inline void test_sleep_ns(int64_t ns) {
  DWORD ms = (DWORD)(ns / 1000000);
  Sleep(ms ? ms : 1);
}

static inline int64_t test_cpu_time_ns(void) {
  FILETIME c, e, k, u;
  GetProcessTimes(GetCurrentProcess(), &c, &e, &k, &u);
  ULARGE_INTEGER a, b;
  a.LowPart = k.dwLowDateTime;
  a.HighPart = k.dwHighDateTime;
  b.LowPart = u.dwLowDateTime;
  b.HighPart = u.dwHighDateTime;
  return (int64_t)(a.QuadPart + b.QuadPart) * 100;
}

static inline void test_setenv(const char *k, const char *v) {
  SetEnvironmentVariableA(k, v);
  _putenv_s(k, v);
}
static inline void test_unsetenv(const char *k) {
  SetEnvironmentVariableA(k, NULL);
  _putenv_s(k, "");
}

#endif
