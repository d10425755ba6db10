/* Internal scheduler interface for the other runtime layers (sync primitives,
 * netpoll). Nothing here is public; embedders use corio/runtime.h.
 *
 * Context rules:
 * - "coroutine context": code running on a G's stack (corio__getg() != NULL).
 * - "scheduler context": an M's own thread stack (timer callbacks, unlock
 *   callbacks of corio__park, netpoll delivery). No parking there.
 * - corio__lock_t is a short OS-level lock (futex / SRW); it blocks the thread,
 *   never parks a coroutine. Hold it only for a few instructions' worth of work.
 */
#ifndef CORIO_SCHED_H
#define CORIO_SCHED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corio/runtime.h"

/* The functions on the path of every read, write, park and wake-up: GCC keeps
 * them together (.text.hot), so that path touches fewer instruction cache
 * lines, which the kernel's work between two system calls evicts. */
#if defined(__GNUC__)
#define CORIO__HOT __attribute__((hot))
#define CORIO__LIKELY(x) __builtin_expect(!!(x), 1)
#define CORIO__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define CORIO__HOT
#define CORIO__LIKELY(x) (x)
#define CORIO__UNLIKELY(x) (x)
#endif

/* ---- allocation (runtime/alloc.c): every runtime object goes through here ---- */
/* The size to ask for an object whose first 64 bytes are hot (G, M, File):
 * a multiple of 64, so that mimalloc, whose blocks of such sizes start on a
 * cache line, gives those bytes a line of their own. Only speed depends on
 * it; any allocator is correct. */
#define CORIO__LINE_SIZE(n) (((n) + 63) & ~(size_t)63)
void *corio__malloc(size_t size);
void *corio__calloc(size_t count, size_t size); /* zeroed; overflow-checked */
void corio__free(void *ptr);

/* ---- fatal errors: a broken invariant, like Go's throw ---- */
_Noreturn void corio__throw(const char *msg);

/* ---- short OS locks ---- */
typedef struct corio__lock {
  _Atomic uint32_t state; /* 0 unlocked, 1 locked, 2 locked with sleepers */
} corio__lock_t;
#define CORIO__LOCK_INIT {0}
/* The uncontended cases inline (one CAS to lock, a load and a store to
 * unlock): channels and poll descriptors lock on every operation. */
void corio__lock_slow(corio__lock_t *l);
void corio__unlock_slow(corio__lock_t *l);
static inline void corio__lock(corio__lock_t *l) {
  uint32_t c = 0;
  if (!atomic_compare_exchange_strong_explicit(&l->state, &c, 1, memory_order_acquire,
                                               memory_order_relaxed))
    corio__lock_slow(l);
}
static inline void corio__unlock(corio__lock_t *l) {
  if (atomic_load_explicit(&l->state, memory_order_relaxed) != 2) /* no sleeper: lock.c */
    atomic_store_explicit(&l->state, 0, memory_order_release);
  else
    corio__unlock_slow(l);
}

/* ---- the running coroutine ----
 * Never inlined: a coroutine may resume on another thread, and a compiler may
 * keep a thread-local address computed before a switch (see DESIGN.md). */
corio_g_t *corio__getg(void);

/* Go's gp.param: a pointer the waker hands to the parked G (channels and select
 * use it to say which case fired). Read and written under the owner's lock. */
void *corio__g_param(corio_g_t *g);
void corio__g_set_param(corio_g_t *g, void *p);

/* Same as corio_park / corio_ready; corio__park must be called on a G. */
void corio__park(corio_unlock_fn_t unlock, void *arg, const char *reason);
/* The count of coroutines waiting on I/O (netpoll.c keeps it: up before a
 * parked G becomes visible to wakers, down when it runs again), which tells
 * the scheduler whether polling the network can find anything. delta is +1
 * or -1; call on a coroutine or in an unlock callback, with a P held. With a
 * single P it changes with a plain load and store (only the P's holder
 * changes it); with more, with an atomic add. That spares a 1-P runtime two
 * locked instructions per I/O wait. */
void corio__io_wait_add(int delta);
bool corio__io_waiting_any(void);
int corio__io_waiting_count(void); /* for tests */

/* corio__park for a wait on the netpoller. When the P has nothing else to
 * run, it polls the network (without blocking) before it switches away and
 * runs a coroutine the poll readied, as findrunnable would have after a
 * switch to the scheduler loop, one switch sooner. So unlock must not hold a
 * lock that delivering an event takes (a descriptor's), and the poll uses
 * about 2 KB more of the coroutine's stack. */
void corio__park_io(corio_unlock_fn_t unlock, void *arg, const char *reason);
void corio__ready(corio_g_t *g);

/* An intrusive list of Gs (through the G's scheduler link). */
typedef struct corio__glist {
  corio_g_t *head;
  corio_g_t *tail;
  int n;
} corio__glist_t;
void corio__glist_push(corio__glist_t *l, corio_g_t *g);
/* Make every G of the list runnable (each must be parked) and empty the list. */
void corio__inject_glist(corio__glist_t *l);

/* ---- timers ----
 * Per-P heaps. fn(arg, seq) runs in scheduler context on some M once the
 * monotonic clock reaches when; it must not block (corio__ready and short locks
 * are fine). A timer's memory must stay valid while it is armed and while its
 * callback may run: owners that stop a timer and free it must make the callback
 * tolerate a late call (netpoll checks seq) or not free it.
 */
typedef void (*corio__timer_fn)(void *arg, uintptr_t seq);
typedef struct corio__timer {
  int64_t when;
  corio__timer_fn fn;
  void *arg;
  uintptr_t seq;
  struct corio__p *_Atomic heap; /* the P whose heap holds it, NULL when not armed */
  int32_t idx;                   /* index in that heap, guarded by the heap's lock */
} corio__timer_t;

void corio__timer_init(corio__timer_t *t, corio__timer_fn fn, void *arg);
/* Arm or move the timer (when: absolute monotonic ns; seq is passed to fn). */
void corio__timer_reset(corio__timer_t *t, int64_t when, uintptr_t seq);
/* Disarm. true: it was armed and now will not fire; false: it was not armed, or
 * has already fired or is firing. */
bool corio__timer_stop(corio__timer_t *t);

int64_t corio__nanotime(void);

#endif
