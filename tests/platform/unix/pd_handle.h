/* A handle the poller accepts and that never becomes ready by itself, for
 * the portable netpoll suite (which delivers readiness itself): the read end
 * of a nonblocking pipe whose write end stays open and unwritten. */
#ifndef CORIO_TESTS_PD_HANDLE_H
#define CORIO_TESTS_PD_HANDLE_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

typedef struct test_handle {
  uintptr_t h;     /* give this to corio__pd_open */
  uintptr_t other; /* kept open so that h never reports a hang-up */
} test_handle_t;

static inline bool test_handle_open(test_handle_t *t) {
  int p[2];
  if (pipe(p) != 0) return false;
  for (int i = 0; i < 2; i++) {
    fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
    fcntl(p[i], F_SETFD, FD_CLOEXEC);
  }
  t->h = (uintptr_t)p[0];
  t->other = (uintptr_t)p[1];
  return true;
}

static inline void test_handle_close(test_handle_t *t) {
  close((int)t->h);
  close((int)t->other);
}

#endif
