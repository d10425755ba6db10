/* What the scheduler needs from the OS. One implementation per platform:
 * os_linux.c and os_windows.c. Only the scheduler includes this. */
#ifndef CORIO_SCHED_OS_H
#define CORIO_SCHED_OS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base.h"

int64_t corio__os_nanotime(void);      /* monotonic */
int corio__os_ncpu(void);              /* >= 1 */
const char *corio__os_getenv(const char *name);

/* Threads: *t receives an opaque handle; returns 0 or a negative corio error. */
int corio__os_thread_start(uintptr_t *t, void (*fn)(void *), void *arg);
void corio__os_thread_join(uintptr_t t);

/* The address-keyed wait (corio__os_futex_wait / _wake) is in base.h: the
 * short lock needs it too. os_windows.c implements it for Windows. */

/* Memory for stacks: reserve (no access), commit read-write, release. The
 * Linux implementation reserves with MAP_NORESERVE and commits lazily; error
 * returns are negative corio errors (CORIO_EMAPLIMIT when the kernel's mapping
 * count is exhausted, CORIO_ENOMEM otherwise). */
size_t corio__os_page_size(void);
int corio__os_reserve(size_t size, void **out);
int corio__os_commit(void *addr, size_t size);   /* make read-write */
void corio__os_release(void *addr, size_t size);

/* Called once per M thread before it runs coroutines (e.g. an alternate signal
 * stack so a guard-page hit is reported instead of silently double-faulting),
 * and when it stops. */
void corio__os_thread_setup(void);
void corio__os_thread_teardown(void);

/* Process-wide setup at corio_init, given back by process_fini at
 * corio_shutdown (process_<os>.c; runtime.h lists every effect). Unix:
 * SIGPIPE is ignored when it is at its default, so a write to a closed pipe
 * or socket returns EPIPE instead of killing the process (as Go does); an
 * embedder's own handler is kept. */
void corio__os_process_init(void);
void corio__os_process_fini(void);
/* Linux: the SIGSEGV handler thread_setup installed (when SIGSEGV was at
 * its default) goes back to the default. */
void corio__os_signals_fini(void);

/* The calling thread's own stack (for sanitizer fiber annotations). */
void corio__os_thread_stack_bounds(void **lo, size_t *size);

#endif
