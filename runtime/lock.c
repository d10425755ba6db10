/* corio__lock_t: a three-state futex mutex (Drepper, "Futexes Are Tricky"),
 * with an unlock that is a plain store when nobody sleeps.
 * It blocks the OS thread; it is for the runtime's own short critical sections.
 * Coroutines that must wait for long use semaphores (sema.c) instead.
 *
 * Unlocking with an atomic exchange (to learn whether to wake a sleeper) puts a
 * locked instruction on every unlock, and channels, poll descriptors and the
 * run queues unlock on every operation: an unbuffered channel round trip spent
 * a fifth of its time there. So the unlock reads the state first and, when it
 * says "locked, no sleepers", releases with a plain store. A waiter can
 * announce itself (LOCKED -> CONTENDED) between that read and the store, and
 * the store then erases the announcement without a wake-up; so sleepers wait
 * with a timeout (LOST_WAKEUP_NS) and look again. The window is a few
 * instructions wide and needs a waiter that has already spun out, so the
 * timeout bounds a rare delay; it never leaves a waiter asleep for good. */
#include "base.h"

enum { UNLOCKED = 0, LOCKED = 1, CONTENDED = 2 };

#define LOST_WAKEUP_NS (200 * 1000)

/* The fast paths are inline in base.h: lock's first CAS, unlock's plain store. */
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
    corio__os_futex_wait(&l->state, CONTENDED, LOST_WAKEUP_NS);
    c = atomic_exchange_explicit(&l->state, CONTENDED, memory_order_acquire);
  }
}

/* Only called when the state said CONTENDED. */
void corio__unlock_slow(corio__lock_t *l) {
  if (atomic_exchange_explicit(&l->state, UNLOCKED, memory_order_release) == CONTENDED)
    corio__os_futex_wake(&l->state, 1);
}
