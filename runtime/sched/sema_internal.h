/* Semaphores keyed by address: the internal forms with Go's extra knobs, used
 * by the mutex and the wait group. The public corio_sema_* functions are thin
 * wrappers over these. */
#ifndef CORIO_SEMA_INTERNAL_H
#define CORIO_SEMA_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

/* Wait until *addr > 0, then decrement it. Must run on a coroutine.
 * lifo: queue at the front of addr's waiters instead of the back (a mutex
 * waiter that was woken and lost the race goes back first in line).
 * deadline: 0 none, else absolute monotonic ns.
 * Returns 0, CORIO_ETIMEOUT or CORIO_ENOMEM (only with a deadline). */
int corio__sema_acquire(uint32_t *addr, bool lifo, int64_t deadline);

/* Increment *addr and wake the first waiter on addr. handoff: take the token
 * on the waiter's behalf, so it owns it when it runs and no newcomer can
 * barge in first (the mutex's starvation mode). Any thread, any context. */
void corio__sema_release(uint32_t *addr, bool handoff);

/* Forget every waiter in the table. corio_shutdown must call this after its
 * threads have stopped: coroutines abandoned while parked on a semaphore leave
 * their queue entries behind on stacks that shutdown frees, and the table
 * outlives the runtime (init may follow shutdown). Deadline records of such
 * waiters are not freed (an abandoned coroutine's resources are not released
 * for it). */
void corio__sema_forget_all(void);

#endif
