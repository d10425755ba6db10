/* Clock, resident memory and terminal check for Windows benchmark programs
 * (run under Wine here, where these calls are Wine's implementations). */
#include "bench.h"

#include <io.h>
#include <windows.h>
#include <psapi.h>

bool bench__stderr_is_tty(void);

int64_t bench_now_ns(void) {
  static LARGE_INTEGER freq;
  LARGE_INTEGER now;
  if (freq.QuadPart == 0)
    QueryPerformanceFrequency(&freq);
  QueryPerformanceCounter(&now);
  /* Split to keep the multiplication from overflowing. */
  int64_t sec = now.QuadPart / freq.QuadPart, rem = now.QuadPart % freq.QuadPart;
  return sec * 1000000000 + rem * 1000000000 / freq.QuadPart;
}

/* The working set is Windows' resident set. */
int64_t bench_rss_bytes(void) {
  PROCESS_MEMORY_COUNTERS pmc;
  if (!GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc))
    return -1;
  return (int64_t)pmc.WorkingSetSize;
}

bool bench__stderr_is_tty(void) { return _isatty(2) != 0; }
