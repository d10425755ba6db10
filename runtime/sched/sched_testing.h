/* Test-only views of the scheduler (like Go's export_test.go). Only tests
 * include this; production code never does. */
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

#endif
