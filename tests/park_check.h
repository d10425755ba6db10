/* Waiting on facts, not on sleeps that hope: the shared "wait until this
 * coroutine is parked" helpers. A test that must act while another
 * coroutine is blocked (close it, move its deadline, check it has not
 * returned) waits here until the scheduler or the poll descriptor says so.
 * Each yields meanwhile and gives up after CHECK_WAIT_MS with a failed
 * check at the caller's line. */
#ifndef CORIO_TESTS_PARK_CHECK_H
#define CORIO_TESTS_PARK_CHECK_H

#include <string.h>

#include "check.h"
#include "netpoll_testing.h"
#include "sched_testing.h"

/* g is parked with wait reason why ("io wait", "semacquire", ...; NULL: for
 * any reason), or, for why "syscall", inside a blocking system call. A
 * coroutine records its G (corio_current) before it says it started. */
#define wait_parked(g, why) wait_parked_at(__FILE__, __LINE__, (g), (why))
static inline bool wait_parked_at(const char *file, int line, corio_g_t *g, const char *why) {
  int64_t give_up = corio_nanotime() + CHECK_WAIT_MS * MS;
  for (;;) {
    const char *st = corio__g_debug_state(g);
    if (st && (!why || strcmp(st, why) == 0)) return true;
    if (corio_nanotime() > give_up) {
      char m[160];
      snprintf(m, sizeof m, "the coroutine never parked (%s): %s", why ? why : "any reason",
               st ? st : "not parked");
      check_fail(file, line, m);
      return false;
    }
    corio_yield();
  }
}

/* A coroutine is parked in pd's slot of mode ('r' or 'w'): its waiter has
 * committed, so a notification from now on wakes it rather than being left
 * pending. */
#define wait_pd_parked(pd, mode) wait_pd_parked_at(__FILE__, __LINE__, (pd), (mode))
static inline bool wait_pd_parked_at(const char *file, int line, corio__pd_t *pd, int mode) {
  int64_t give_up = corio_nanotime() + CHECK_WAIT_MS * MS;
  while (corio__pd_debug_slot(pd, mode) <= 2) {
    if (corio_nanotime() > give_up) {
      check_fail(file, line, "the waiter never parked on the poll descriptor");
      return false;
    }
    corio_yield();
  }
  return true;
}

#endif
