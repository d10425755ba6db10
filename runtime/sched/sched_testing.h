/* Test-only views and seams of the scheduler (like Go's export_test.go).
 * Only tests include this, and the files that define what it declares; the
 * scheduler calls the hook below through its pointer, which is NULL unless a
 * test sets it. */
#ifndef CORIO_SCHED_TESTING_H
#define CORIO_SCHED_TESTING_H

#include "sched.h"

/* What g is doing, for tests that wait on a fact rather than a sleep: the
 * reason it parked with ("io wait" on the netpoller, "semacquire" on a
 * semaphore such as an FD's lock, "chan send", ...) while it is parked;
 * "syscall" while it is inside corio_syscall_enter/exit (a blocking system
 * call); NULL while it is runnable, running or finished. A park whose unlock
 * callback refuses it (a wake-up got there first) shows for an instant. */
const char *corio__g_debug_state(corio_g_t *g);

/* Where the scheduler calls corio__sched_test_hook. */
enum {
  /* findrunnable: the P is on the idle list and sched.lock released; the M
   * is still counted as spinning if it was. The window of issue 12's lost
   * wake-up: work submitted here without a P sees an M spinning and wakes
   * nobody. */
  CORIO__HOOK_P_DROPPED = 1
};

/* Called, when not NULL, on an M's own stack (no P held at
 * CORIO__HOOK_P_DROPPED). Set it only while no runtime runs. */
extern void (*corio__sched_test_hook)(int where);

#endif
