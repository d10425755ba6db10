/* The platform half of the runner behind compat/criterion/criterion.h.
 *
 * criterion_compat.c is portable: it registers tests, formats values,
 * reports failures, filters and sorts tests, judges how each test's process
 * ended against .signal / .exit_code / .timeout and prints the results. What
 * needs the operating system is here, implemented once per platform with the
 * same names (runner_windows.c, runner_unix.c; CMake picks one by suffix):
 *
 * In the test's own process (the child):
 *   corio__cr_child_setup()     before the test's .init: make crashes end the
 *                               process in a way the parent can decode.
 *   corio__cr_child_end(how)    end this process at once with a portable
 *                               outcome, from any thread or coroutine: nothing
 *                               is unwound and no atexit handler runs.
 *
 * In the runner (the parent):
 *   corio__cr_parent_begin()    once before the first test.
 *   corio__cr_run_child(t, timeout, out)
 *                               run test t in a child process of its own,
 *                               which calls corio__cr_run_in_process(t) (below);
 *                               wait for it at most timeout seconds (<= 0: no
 *                               limit), end it and everything it started if it
 *                               is still running then, and say how it ended.
 *   corio__cr_parent_end()      once after the last test.
 *
 * In both:
 *   corio__cr_lock(), corio__cr_unlock()
 *                               one process-wide lock, so that reports printed
 *                               by several threads do not interleave. Usable
 *                               before main (no initialisation call).
 *   corio__cr_now()             a monotonic clock, in seconds.
 *
 * criterion_compat.c provides corio__cr_run_in_process for the platform
 * half: the child's whole life (setup, .init, the test, .fini, end). */
#ifndef CORIO_COMPAT_RUNNER_PLATFORM_H
#define CORIO_COMPAT_RUNNER_PLATFORM_H

#include "criterion/criterion.h"

/* How a test's process ends by its own decision. */
typedef enum {
  CORIO_CR_END_PASSED,  /* the test returned and no expectation failed */
  CORIO_CR_END_FAILED,  /* an assertion or an expectation failed */
  CORIO_CR_END_SKIPPED, /* cr_skip_test */
  CORIO_CR_END_ABORTED, /* abort(): reported as a SIGABRT crash */
} corio__cr_end_t;

/* How a test's process ended, as the parent saw it. */
typedef enum {
  CORIO_CR_PASSED,      /* ended with CORIO_CR_END_PASSED */
  CORIO_CR_FAILED,      /* ended with CORIO_CR_END_FAILED */
  CORIO_CR_SKIPPED,     /* ended with CORIO_CR_END_SKIPPED */
  CORIO_CR_EXITED,      /* exited with another code (code): exit(), or a
                           sanitizer's report ending the process */
  CORIO_CR_SIGNALED,    /* crashed; code is the signal Criterion would name
                           (CORIO_CR_END_ABORTED gives SIGABRT) */
  CORIO_CR_TIMED_OUT,   /* still running at the timeout, ended by the parent */
  CORIO_CR_NOT_STARTED, /* the child process could not be started */
} corio__cr_result_t;

typedef struct {
  corio__cr_result_t result;
  unsigned long code; /* CORIO_CR_EXITED: exit code; CORIO_CR_SIGNALED: signal */
  /* The platform's own words for a crash's raw status, appended to the crash
   * message as is (" (exit code 0xC0000005)"); may be empty. */
  char raw[48];
} corio__cr_outcome_t;

void corio__cr_child_setup(void);
__attribute__((noreturn)) void corio__cr_child_end(corio__cr_end_t how);

void corio__cr_parent_begin(void);
void corio__cr_run_child(const struct corio_cr_test *t, double timeout, corio__cr_outcome_t *out);
void corio__cr_parent_end(void);

void corio__cr_lock(void);
void corio__cr_unlock(void);
double corio__cr_now(void);

/* criterion_compat.c: run t in this process (setup, .init, the test, .fini)
 * and end the process with its outcome. */
__attribute__((noreturn)) void corio__cr_run_in_process(const struct corio_cr_test *t);

#endif
