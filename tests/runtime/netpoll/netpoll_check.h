/* Helpers shared by the netpoll suites of every backend (epoll, IOCP). */
#ifndef CORIO_TESTS_NETPOLL_CHECK_H
#define CORIO_TESTS_NETPOLL_CHECK_H

#include "check.h"
#include "netpoll.h"
#include "netpoll_testing.h"

/* Yield until mode's slot holds a parked G (the waiter committed), at most
 * two seconds; false, with a failed check, when it never does. */
static inline bool wait_parked(corio__pd_t *pd, int mode) {
  int64_t give_up = corio_nanotime() + 2000 * MS;
  while (corio__pd_debug_slot(pd, mode) <= 2) {
    if (corio_nanotime() > give_up) {
      check_fail(__FILE__, __LINE__, "the waiter never parked");
      return false;
    }
    corio_yield();
  }
  return true;
}

#endif
