/* Clock, resident memory and terminal check for Linux benchmark programs. */
#include "bench.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

bool bench__stderr_is_tty(void);

int64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* /proc/self/statm: the second field is resident pages. */
int64_t bench_rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long long size = 0, resident = 0;
  if (!f)
    return -1;
  int got = fscanf(f, "%lld %lld", &size, &resident);
  fclose(f);
  if (got != 2)
    return -1;
  return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

bool bench__stderr_is_tty(void) { return isatty(2) == 1; }
