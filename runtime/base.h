/* runtime/base.h: what every layer of corio uses, and nothing of any one
 * layer: the one allocation wrapper, the fatal-error call, the short OS lock
 * (and the address-keyed wait under it), and the hot-path macros.
 *
 * Every internal file may include it: runtime/sched, runtime/netpoll, poll/
 * and os/ alike. It includes only the C library and corio's public headers.
 * Implementations: base.c (allocation, throw), lock.c (the lock's slow
 * paths), futex_linux.c and the scheduler's os_windows.c (the wait).
 */
#ifndef CORIO_BASE_H
#define CORIO_BASE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corio/runtime.h"

/* ---- hot-path macros ----
 * The functions on the path of every read, write, park and wake-up are
 * marked CORIO__HOT: GCC keeps them together (.text.hot), so that path
 * touches fewer instruction cache lines, which the kernel's work between two
 * system calls evicts. CORIO__LIKELY / CORIO__UNLIKELY lay a branch out for
 * its common case. Where they may be used, and the rule that a speed change
 * carries its measurement, is in docs/ARCHITECTURE.md. */
#if defined(__GNUC__)
#define CORIO__HOT __attribute__((hot))
#define CORIO__LIKELY(x) __builtin_expect(!!(x), 1)
#define CORIO__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define CORIO__HOT
#define CORIO__LIKELY(x) (x)
#define CORIO__UNLIKELY(x) (x)
#endif

/* The size to ask for an object whose first 64 bytes are hot (G, M, File):
 * a multiple of 64, so that mimalloc, whose blocks of such sizes start on a
 * cache line, gives those bytes a line of their own. Only speed depends on
 * it; any allocator is correct. */
#define CORIO__LINE_SIZE(n) (((n) + 63) & ~(size_t)63)

/* ---- allocation (base.c): every runtime object goes through here ----
 * mimalloc by default, the C library when built without it, or the
 * embedder's allocator (corio_config_t). malloc and calloc return NULL when
 * the allocator refuses; calloc also for a count * size that overflows. */
void *corio__malloc(size_t size);
void *corio__calloc(size_t count, size_t size); /* zeroed; overflow-checked */
void corio__free(void *ptr);
/* Install the embedder's allocator (NULL: the default). Only while no
 * runtime object is allocated: at corio_init and after corio_shutdown. */
void corio__alloc_set(const corio_allocator_t *a);

/* ---- fatal errors (base.c): a broken invariant, like Go's throw ----
 * Prints msg and aborts. Never for something a caller did or the system
 * refused: those are error returns. */
_Noreturn void corio__throw(const char *msg);

/* ---- the address-keyed wait (futex_linux.c; Windows: WaitOnAddress) ----
 * Sleep while *addr == val, at most ns nanoseconds (ns < 0: no limit).
 * Spurious returns are allowed. wake wakes up to n sleepers (n < 0: all). */
void corio__os_futex_wait(_Atomic uint32_t *addr, uint32_t val, int64_t ns);
void corio__os_futex_wake(_Atomic uint32_t *addr, int n);

/* ---- short OS locks (lock.c) ----
 * A short OS-level lock: it blocks the thread, never parks a coroutine.
 * Hold it only for a few instructions' worth of work; coroutines that must
 * wait for long use semaphores. */
typedef struct corio__lock {
  _Atomic uint32_t state; /* 0 unlocked, 1 locked, 2 locked with sleepers */
} corio__lock_t;
#define CORIO__LOCK_INIT {0}
/* The uncontended cases inline (one CAS to lock, one exchange to unlock):
 * channels and poll descriptors lock on every operation. */
void corio__lock_slow(corio__lock_t *l);
void corio__unlock_slow(corio__lock_t *l);
static inline void corio__lock(corio__lock_t *l) {
  uint32_t c = 0;
  if (!atomic_compare_exchange_strong_explicit(&l->state, &c, 1, memory_order_acquire,
                                               memory_order_relaxed))
    corio__lock_slow(l);
}
static inline void corio__unlock(corio__lock_t *l) {
  /* An exchange, not a load and a store: see lock.c. */
  if (atomic_exchange_explicit(&l->state, 0, memory_order_release) == 2) corio__unlock_slow(l);
}

#endif
