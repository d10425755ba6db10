/* The coroutine mutex, after Go's sync.Mutex.
 *
 * state, one 32-bit word:
 *
 *   bit 0        LOCKED    the mutex is held
 *   bit 1        WOKEN     a waiter has been woken and is competing for it, so
 *                          unlock need not wake another one
 *   bit 2        STARVING  hand-off mode (below)
 *   bits 3..31   the number of coroutines waiting on sema
 *
 * Normal mode: waiters queue FIFO on the semaphore, but a woken waiter competes
 * with newcomers, which are already running and usually win; a waiter that
 * lost goes back to the front of the queue. This is fast under contention.
 * A waiter that has waited more than STARVE_NS switches the mutex to starving
 * mode: unlock hands ownership to the first waiter directly (the semaphore's
 * hand-off) without setting LOCKED, and newcomers queue at the back instead of
 * taking it. The waiter that receives the mutex sets LOCKED itself and leaves
 * starving mode when it is the last waiter or has not waited long, so the
 * mutex goes back to normal mode once the backlog is served.
 */
#include "corio/sync.h"
#include "sched.h"
#include "sema_internal.h"

#define LOCKED 1
#define WOKEN 2
#define STARVING 4
#define WAITER_SHIFT 3
#define WAITER_ONE (1 << WAITER_SHIFT)
#define STARVE_NS 1000000 /* 1 ms, as Go */

static bool cas(int32_t *p, int32_t *old, int32_t new_) {
  /* Acquire on success: taking the mutex must see the previous holder's
   * writes; release: the waiter count and flags we publish. */
  return __atomic_compare_exchange_n(p, old, new_, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE);
}

static void lock_slow(corio_mutex_t *m) {
  int64_t wait_start = 0;
  bool starving = false; /* we have waited too long */
  bool awoke = false;    /* we were woken and own the WOKEN flag */
  int32_t old = __atomic_load_n(&m->state, __ATOMIC_ACQUIRE);
  for (;;) {
    int32_t new_ = old;
    if (!(old & STARVING))
      new_ |= LOCKED; /* a starving mutex belongs to the queue, never to us */
    if (old & (LOCKED | STARVING))
      new_ += WAITER_ONE;
    if (starving && (old & LOCKED))
      new_ |= STARVING;
    if (awoke) {
      if (!(new_ & WOKEN))
        corio__throw("corio_mutex: inconsistent mutex state");
      new_ &= ~WOKEN;
    }
    if (!cas(&m->state, &old, new_))
      continue; /* old now holds the current state */
    if (!(old & (LOCKED | STARVING)))
      return; /* we set LOCKED on a free mutex */
    bool lifo = wait_start != 0;
    if (wait_start == 0)
      wait_start = corio__nanotime();
    corio__sema_acquire(&m->sema, lifo, 0);
    starving = starving || corio__nanotime() - wait_start > STARVE_NS;
    old = __atomic_load_n(&m->state, __ATOMIC_ACQUIRE);
    if (old & STARVING) {
      /* Handed to us: LOCKED and WOKEN are clear and we are still counted. */
      if ((old & (LOCKED | WOKEN)) || (old >> WAITER_SHIFT) == 0)
        corio__throw("corio_mutex: inconsistent mutex state");
      int32_t delta = LOCKED - WAITER_ONE;
      if (!starving || (old >> WAITER_SHIFT) == 1)
        delta -= STARVING; /* the backlog is served: back to normal mode */
      __atomic_fetch_add(&m->state, delta, __ATOMIC_ACQ_REL);
      return;
    }
    awoke = true;
  }
}

int corio_mutex_lock(corio_mutex_t *m) {
  if (m == NULL)
    return CORIO_EINVAL;
  if (corio__getg() == NULL)
    return CORIO_ENOTCORO;
  int32_t old = 0;
  if (cas(&m->state, &old, LOCKED))
    return 0;
  lock_slow(m);
  return 0;
}

int corio_mutex_trylock(corio_mutex_t *m) {
  if (m == NULL)
    return CORIO_EINVAL;
  int32_t old = __atomic_load_n(&m->state, __ATOMIC_RELAXED);
  if (old & (LOCKED | STARVING))
    return CORIO_EWOULDBLOCK;
  /* Even when other coroutines are about to wake, taking a free mutex is
   * allowed in normal mode, as for a newcomer in lock. */
  if (!cas(&m->state, &old, old | LOCKED))
    return CORIO_EWOULDBLOCK;
  return 0;
}

static void unlock_slow(corio_mutex_t *m, int32_t new_) {
  if (!((new_ + LOCKED) & LOCKED))
    corio__throw("corio_mutex_unlock: unlock of an unlocked mutex");
  if (new_ & STARVING) {
    corio__sema_release(&m->sema, true); /* hand it to the first waiter */
    return;
  }
  int32_t old = new_;
  for (;;) {
    /* Nobody waits, or someone already took it, was woken, or it starves:
     * there is nobody for us to wake. */
    if ((old >> WAITER_SHIFT) == 0 || (old & (LOCKED | WOKEN | STARVING)))
      return;
    if (cas(&m->state, &old, (old - WAITER_ONE) | WOKEN)) {
      corio__sema_release(&m->sema, false);
      return;
    }
  }
}

int corio_mutex_unlock(corio_mutex_t *m) {
  if (m == NULL)
    return CORIO_EINVAL;
  /* Release: the next holder must see our writes. */
  int32_t new_ = __atomic_sub_fetch(&m->state, LOCKED, __ATOMIC_ACQ_REL);
  if (new_ != 0)
    unlock_slow(m, new_);
  return 0;
}
