/* corio__lock_t: the textbook three-state futex mutex (Drepper, "Futexes Are
 * Tricky", mutex 2). It blocks the OS thread; it is for the runtime's own
 * short critical sections. Coroutines that must wait for long use semaphores
 * (sema.c) instead.
 *
 * States: UNLOCKED, LOCKED (no sleeper), CONTENDED (maybe sleepers). Lock:
 * CAS UNLOCKED -> LOCKED; else spin a little, then exchange in CONTENDED and
 * sleep while the word says CONTENDED, until an exchange finds UNLOCKED.
 * Unlock: exchange in UNLOCKED (base.h, inline); if the old value was
 * CONTENDED, wake one sleeper. Why no wake-up is lost: a waiter sleeps only
 * in FUTEX_WAIT(CONTENDED), which the kernel refuses unless the word still
 * says CONTENDED; the word leaves CONTENDED only by an unlock's exchange,
 * which then sees CONTENDED and wakes. So no sleeper waits on a lock that is
 * free, with no timed re-check.
 *
 * The unlock used to be a plain store when it read "no sleeper", sparing a
 * locked instruction, but a waiter could announce itself between that read
 * and the store, which erased the announcement; a timed re-check (200 us)
 * hid it. bench/lock/lock_tail_linux.c measures both (bench/README.md). */
#include "base.h"

enum { UNLOCKED = 0, LOCKED = 1, CONTENDED = 2 };

/* The fast paths are inline in base.h: lock's first CAS, unlock's exchange. */
void corio__lock_slow(corio__lock_t *l) {
  uint32_t c = LOCKED;
  /* Spin a little: the holder is usually running on another core. */
  for (int i = 0; i < 64; i++) {
    c = UNLOCKED;
    if (atomic_load_explicit(&l->state, memory_order_relaxed) == UNLOCKED &&
        atomic_compare_exchange_weak_explicit(&l->state, &c, LOCKED, memory_order_acquire,
                                              memory_order_relaxed))
      return;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  if (c != CONTENDED)
    c = atomic_exchange_explicit(&l->state, CONTENDED, memory_order_acquire);
  while (c != UNLOCKED) {
    corio__os_futex_wait(&l->state, CONTENDED, -1);
    c = atomic_exchange_explicit(&l->state, CONTENDED, memory_order_acquire);
  }
}

/* Called by corio__unlock once its exchange found CONTENDED: the lock is
 * already free; wake one sleeper. */
void corio__unlock_slow(corio__lock_t *l) { corio__os_futex_wake(&l->state, 1); }
