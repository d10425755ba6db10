/* POSIX descriptor helpers for the Unix suites (no Linux-only calls). */
#ifndef CORIO_TEST_FD_UTIL_H
#define CORIO_TEST_FD_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

/* pipe(2), then each end made non-blocking (O_NONBLOCK in fl) and
 * close-on-exec (O_CLOEXEC in fl), as pipe2 would. 0 or -1. */
static inline int test_pipe(int p[2], int fl) {
  if (pipe(p) != 0) return -1;
  for (int i = 0; i < 2; i++) {
    if (fl & O_NONBLOCK) fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
    if (fl & O_CLOEXEC) fcntl(p[i], F_SETFD, FD_CLOEXEC);
  }
  return 0;
}

/* The process's open descriptors (the directory's own included), for leak
 * checks: /dev/fd lists them on Linux, the BSDs and macOS. */
static inline int test_count_fds(void) {
  DIR *d = opendir("/dev/fd");
  if (!d) return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

#endif
