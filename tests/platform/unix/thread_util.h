/* Plain OS threads and clocks for tests (POSIX). */
#ifndef CORIO_TEST_THREAD_UTIL_H
#define CORIO_TEST_THREAD_UTIL_H

/* Linux caps a process at vm.max_map_count mappings. */
#define TEST_HAS_MAP_LIMIT 1

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

typedef pthread_t test_thread_t;

static inline void test_thread_start(test_thread_t *t, void *(*fn)(void *), void *arg) {
  if (pthread_create(t, NULL, fn, arg) != 0) abort();
}

static inline void *test_thread_join(test_thread_t t) {
  void *r;
  pthread_join(t, &r);
  return r;
}

static inline void test_sleep_ns(int64_t ns) {
  struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
  nanosleep(&ts, NULL);
}

/* CPU time used by the whole process (all threads), ns. */
static inline int64_t test_cpu_time_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void test_setenv(const char *k, const char *v) { setenv(k, v, 1); }
static inline void test_unsetenv(const char *k) { unsetenv(k); }

#endif
