/* Test-only seams of the scheduler (like Go's export_test.go). Only tests
 * include this; production code only calls the hook through its pointer,
 * which is NULL unless a test sets it. */
#ifndef CORIO_SCHED_TESTING_H
#define CORIO_SCHED_TESTING_H

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
