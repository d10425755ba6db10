/* Platform helpers for the net suites (POSIX): open-descriptor counts,
 * SIGPIPE, the descriptor limit. */
#ifndef CORIO_TEST_NETPLAT_UTIL_H
#define CORIO_TEST_NETPLAT_UTIL_H

#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>

/* Descriptors open in this process. */
static inline int test_count_handles(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

/* Before a suite's first socket: writes to a peer that is gone must fail
 * with EPIPE, not kill the test process (the runtime ignores SIGPIPE from
 * its init on, once that change is in; this keeps the suite independent). */
static inline void test_net_setup(void) { signal(SIGPIPE, SIG_IGN); }

/* Raise the soft descriptor limit to the hard one; returns the limit. */
static inline long test_raise_handle_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  getrlimit(RLIMIT_NOFILE, &rl);
  return rl.rlim_cur == RLIM_INFINITY ? 1L << 20 : (long)rl.rlim_cur;
}

/* Unix-domain sockets exist. */
static inline bool test_have_af_unix(void) { return true; }

#endif
