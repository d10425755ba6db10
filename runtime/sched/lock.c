/* corio__lock_t: a three-state futex mutex (Drepper, "Futexes Are Tricky").
 * It blocks the OS thread; it is for the runtime's own short critical sections.
 * Coroutines that must wait for long use semaphores (sema.c) instead. */
#include "os.h"
#include "sched.h"

enum { UNLOCKED = 0, LOCKED = 1, CONTENDED = 2 };

void corio__lock(corio__lock_t *l) {
  uint32_t c = UNLOCKED;
  if (atomic_compare_exchange_strong_explicit(&l->state, &c, LOCKED, memory_order_acquire,
                                              memory_order_relaxed))
    return;
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

void corio__unlock(corio__lock_t *l) {
  if (atomic_exchange_explicit(&l->state, UNLOCKED, memory_order_release) == CONTENDED)
    corio__os_futex_wake(&l->state, 1);
}
