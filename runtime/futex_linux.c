/* The address-keyed wait of base.h on Linux: a private futex. Under the
 * short lock (lock.c) and the scheduler's idle Ms, sysmon and shutdown. */
#include "base.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void corio__os_futex_wait(_Atomic uint32_t *addr, uint32_t val, int64_t ns) {
  struct timespec ts, *tsp = NULL;
  if (ns >= 0) {
    ts.tv_sec = (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    tsp = &ts;
  }
  syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, tsp, NULL, 0);
}

void corio__os_futex_wake(_Atomic uint32_t *addr, int n) {
  syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, n < 0 ? 0x7fffffff : n, NULL, NULL, 0);
}
